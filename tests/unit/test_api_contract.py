"""The API's published shape and its cold-start weight."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import stepstore_functions
from stepstore_functions.handlers import api

OPENAPI = Path(stepstore_functions.__file__).parent / "openapi.json"
HEAVY = ("pandas", "pyarrow", "awswrangler")


def test_checked_in_openapi_matches_the_routes():
    generated = json.loads(api.openapi_json())
    checked_in = json.loads(OPENAPI.read_text())
    assert checked_in == generated, "openapi.json is stale: run `make openapi`"


def test_every_route_but_health_requires_the_bearer_token():
    document = json.loads(api.openapi_json())
    assert document["security"] == [{"bearer": []}]
    public = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    assert public >= api.PUBLIC_ROUTES


def imported_modules(statement: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement], capture_output=True, text=True, check=True
    )
    return {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}


def test_api_handlers_do_not_import_pandas_pyarrow_or_awswrangler():
    modules = imported_modules(
        "import stepstore_functions.handlers.api, stepstore_functions.handlers.authorizer"
    )
    assert "aws_lambda_powertools" in modules  # the probe does see the handler's imports
    assert not set(HEAVY) & modules


def test_importing_the_sdk_does_not_import_pandas():
    modules = imported_modules("import stepstore")
    assert "requests" in modules
    assert not set(HEAVY) & modules


def test_every_api_log_line_names_the_flow_step_and_principal_of_its_request():
    from stepstore_functions.handlers.api import log_keys

    event = {
        "path": "/flows/sales%2042/steps/load/outputs/x",
        "requestContext": {"authorizer": {"principalId": "alice"}},
    }
    assert log_keys(event) == {"flow_id": "sales 42", "step_name": "load", "principal": "alice"}
    assert log_keys({"path": "/flows/f1"}) == {"flow_id": "f1"}
    assert log_keys({"path": "/assets", "requestContext": {}}) == {}
