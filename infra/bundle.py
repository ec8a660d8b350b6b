"""The Lambda bundle that deploys, built and checked without Docker: ``python -m infra.bundle [DIR]``.

The bundle is functions/stepstore_functions, the SDK (event-driven flows run it), and the locked
dependencies (functions/requirements.lock, pinned with hashes) installed as wheels for the Lambda
platform: manylinux2014 aarch64, CPython PYTHON_VERSION, binary only. The check then proves:

- every module a handler imports (its own, the SDK's and third parties', followed from each handler)
  is in the bundle, the Powertools layer, the runtime (boto3, botocore) or the standard library;
- every compiled extension and wheel in it is built for this CPython and arm64;
- nothing in it is also in the Powertools layer (it would shadow the layer's copy);
- and reports its size (unzipped, and zipped as Lambda stores it; Lambda's limit is 250 MB unzipped).

`make bundle` runs it; CI runs it before the tests.
"""

from __future__ import annotations

import ast
import io
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from infra.constants import PYTHON_VERSION, Functions

REPO_ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = REPO_ROOT / "functions"
LOCK_FILE = FUNCTIONS_DIR / "requirements.lock"
SDK_PACKAGE = REPO_ROOT / "sdk" / "stepstore"
OUR_PACKAGES = ("stepstore_functions", "stepstore")
PLATFORM = "manylinux2014_aarch64"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "*.egg-info", "role_policies.json")

# Top-level modules the Powertools v3 layer provides (aws-lambda-powertools with its extras).
LAYER_PROVIDES = frozenset(
    {
        "aws_lambda_powertools",
        "aws_xray_sdk",
        "pydantic",
        "pydantic_core",
        "annotated_types",
        "typing_inspection",
        "typing_extensions",
        "fastjsonschema",
        "aws_encryption_sdk",
        "jsonpath_ng",
        "wrapt",
    }
)
# ...and what the Python runtime ships beside the standard library.
RUNTIME_PROVIDES = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3"})
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024


def build(output_dir: Path, *, python: str = sys.executable) -> None:
    """Install the locked wheels for the Lambda platform and copy our two packages beside them."""
    output_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
            "--require-hashes", "--no-deps", "--target", str(output_dir),
            "--platform", PLATFORM, "--implementation", "cp", "--python-version", PYTHON_VERSION,
            "--only-binary=:all:", "-r", str(LOCK_FILE),
        ],
        check=True,
    )  # fmt: skip
    shutil.copytree(FUNCTIONS_DIR / "stepstore_functions", output_dir / "stepstore_functions", ignore=_IGNORE)
    shutil.copytree(SDK_PACKAGE, output_dir / "stepstore", ignore=_IGNORE)


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    unzipped_bytes: int = 0
    zipped_bytes: int = 0
    third_party: set[str] = field(default_factory=set)


def _module_file(root: Path, module: str) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _imports(path: Path, module: str, *, module_level_only: bool) -> set[str]:
    """Absolute names imported by `path` (relative imports resolved). Function-level imports count
    unless `module_level_only` (the SDK imports pandas lazily, for callers that have it)."""
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tops = [top for top in tree.body if not _type_checking_only(top)]
    if module_level_only:  # module level, including under `if`/`try` at module level
        tops = [
            top for top in tops if not isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        ]
    nodes = [node for top in tops for node in ast.walk(top)]
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return found


def _type_checking_only(node: ast.stmt) -> bool:
    """`if TYPE_CHECKING:` blocks import for type checkers only."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def reachable_imports(root: Path, handlers: list[str]) -> set[str]:
    """Every top-level third-party module reachable from the handler modules."""
    seen: set[str] = set()
    third_party: set[str] = set()
    pending = list(handlers)
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        top = module.split(".")[0]
        if top not in OUR_PACKAGES:
            third_party.add(top)
            continue
        path = _module_file(root, module)
        if path is None:
            continue  # `from package import name` where name is not a module
        for name in _imports(path, module, module_level_only=top == "stepstore"):
            pending.append(name)
            if name.count("."):  # the parent packages run too
                pending.append(name.rpartition(".")[0])
    return third_party


def _zip_size(root: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(root))
    return buffer.tell()


def check(root: Path, *, python_version: str = PYTHON_VERSION) -> Report:
    report = Report()
    tag = "cp" + python_version.replace(".", "")
    handlers = [handler.rpartition(".")[0] for handler in Functions.HANDLERS.values()]
    report.third_party = reachable_imports(root, handlers)
    present = {p.name.split(".")[0] for p in root.iterdir()} | {p.stem for p in root.glob("*.py")}
    for module in sorted(report.third_party):
        if module in sys.stdlib_module_names or module == "__future__":
            continue
        if module not in present and module not in LAYER_PROVIDES and module not in RUNTIME_PROVIDES:
            report.problems.append(
                f"{module} is imported by a handler but is not in the bundle, the layer or the runtime"
            )
    for shadow in sorted(present & LAYER_PROVIDES):
        report.problems.append(f"{shadow} is bundled but the Powertools layer provides it")
    for extension in root.rglob("*.so"):
        name = extension.name
        if not (f"cpython-{tag[2:]}-aarch64-linux-gnu" in name or name.endswith(".abi3.so")):
            report.problems.append(
                f"{extension.relative_to(root)} is not built for CPython {python_version} on aarch64"
            )
    for wheel in root.glob("*.dist-info/WHEEL"):
        tags = [
            line.split(":", 1)[1].strip()
            for line in wheel.read_text().splitlines()
            if line.startswith("Tag:")
        ]
        fits = any(
            t.endswith("-none-any") or (("aarch64" in t) and (t.startswith(tag) or "abi3" in t)) for t in tags
        )
        if not fits:
            report.problems.append(f"{wheel.parent.name} has wheel tags {tags}, not for {tag} aarch64")
    report.unzipped_bytes = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    report.zipped_bytes = _zip_size(root)
    if report.unzipped_bytes > LAMBDA_UNZIPPED_LIMIT:
        report.problems.append(f"the bundle is {report.unzipped_bytes} bytes unzipped, over Lambda's 250 MB")
    return report


def main(argv: list[str]) -> int:
    output = Path(argv[0]) if argv else REPO_ROOT / "build" / "lambda-bundle"
    shutil.rmtree(output, ignore_errors=True)
    build(output)
    report = check(output)
    print(f"bundle: {output}")
    imported = sorted(m for m in report.third_party if m not in sys.stdlib_module_names and m != "__future__")
    print(f"third-party modules the handlers import: {', '.join(imported)}")
    print(f"size: {report.unzipped_bytes / 1e6:.2f} MB unzipped, {report.zipped_bytes / 1e6:.2f} MB zipped")
    for problem in report.problems:
        print(f"PROBLEM: {problem}")
    return 1 if report.problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
