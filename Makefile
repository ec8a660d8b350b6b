# The verbs people expect. `make demo` and `make test` work from a clean clone: they create .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# jsii (under aws-cdk-lib) warns loudly on every run about the machine's Node version; the app is unaffected.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: install demo test test-fast fuzz lint format typecheck openapi role-policies lock bundle synth bench mutation clean console

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The web console (console/, TypeScript) built into the Python package, which ships and serves it.
CONSOLE_BUILT := sdk/stepstore/console_dist/index.html
CONSOLE_SOURCES := $(shell find console/src console/public -type f 2>/dev/null) console/index.html \
	console/vite.config.ts console/tsconfig.json functions/stepstore_functions/openapi.json

console/node_modules/.installed: console/package.json console/package-lock.json
	cd console && npm ci --no-audit --no-fund
	touch console/node_modules/.installed

$(CONSOLE_BUILT): console/node_modules/.installed $(CONSOLE_SOURCES)
	cd console && npm run build --silent

console: $(CONSOLE_BUILT)

# The example flow, then the local stack stays up with a flow that waits for you in the console.
demo: $(STAMP) console
	$(BIN)/stepstore demo --serve

test: $(STAMP) console
	$(BIN)/python -m pytest -n 2 --dist loadfile

test-fast: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

# The long fuzz run: at least 10,000 schemathesis requests over every route, as several users, on a
# local stack of its own; fails on any 5xx or any 4xx outside the error shape (tests/security/fuzz.py).
fuzz: $(STAMP)
	$(BIN)/python -m tests.security.fuzz --requests 10000 --users 4

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy sdk/stepstore

# Regenerate the checked-in OpenAPI document from the routes (a test fails when it is stale).
openapi: $(STAMP)
	$(BIN)/python -m stepstore_functions.handlers.api > functions/stepstore_functions/openapi.json

# Regenerate each function's IAM statements from the synthesized template, for the local stack's
# IAM-enforced runs (tests/infra/test_role_policies.py fails when the checked-in file is stale).
role-policies: $(STAMP)
	$(BIN)/python -m infra.role_policies

# Pin the Lambda functions' own dependencies (functions/requirements.in) with hashes, for the Lambda
# runtime's CPython on arm64; what the runtime (botocore and its dependencies) provides is left out.
LAMBDA_PYTHON := $(shell sed -n 's/^PYTHON_VERSION = "\(.*\)"/\1/p' infra/constants.py)
lock: $(STAMP)
	$(BIN)/uv pip compile functions/requirements.in --generate-hashes --no-header \
		--python-version $(LAMBDA_PYTHON) --python-platform aarch64-manylinux2014 \
		--no-emit-package botocore --no-emit-package jmespath --no-emit-package python-dateutil \
		--no-emit-package six -o functions/requirements.lock

# Build the arm64 Lambda bundle from the lock file (no Docker) and check it: imports, platform, layer
# overlap, size. CI runs it before the tests.
bundle: $(STAMP)
	$(BIN)/python -m infra.bundle build/lambda-bundle

# The CDK CLI pinned in package.json; only `make synth` needs it (the infra tests synthesize in Python).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch node_modules/.installed

# Synthesize the CDK app into cdk.out/ with the pinned CLI (bundles the Lambda code with pip; no AWS
# account needed). STAGE=prod picks the stage.
STAGE ?= dev
synth: $(STAMP) node_modules/.installed
	npx --no-install cdk synth --quiet -c stage=$(STAGE)

# Speed and memory against the floor the same machine sets (several minutes; see BENCHMARKS.md).
bench: $(STAMP)
	$(BIN)/python -m bench.run

# Mutation testing (cosmic-ray) of one core module against the tests that exercise it, e.g.
# `make mutation MODULE=uploads`; without MODULE, all of them one after another. Minutes per module,
# one worker; results in .mutation/ (not in git). Not part of `make test`. See TESTING.md.
MODULE ?=
MUTATION_STAMP := $(VENV)/.mutation-installed
$(MUTATION_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[mutation]'
	touch $(MUTATION_STAMP)

mutation: $(MUTATION_STAMP)
	$(BIN)/python -m mutation.run $(MODULE)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .mutation build *.egg-info cdk.out node_modules \
		console/node_modules sdk/stepstore/console_dist
