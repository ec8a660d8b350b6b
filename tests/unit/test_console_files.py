"""The local gateway's console files: only the build's own files, never a path out of it, and a
policy that forbids inline script and eval."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stepstore.local.console import ASSET_PREFIX, ConsoleFiles, content_security_policy

OPENAPI = Path(__file__).resolve().parents[2] / "functions" / "stepstore_functions" / "openapi.json"


@pytest.fixture
def build(tmp_path: Path) -> ConsoleFiles:
    root = tmp_path / "dist"
    (root / "_console").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><div id=root></div>")
    (root / "_console" / "app-1234.js").write_text("console.log(1)")
    (root / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside the build")
    return ConsoleFiles(root)


def test_the_root_is_the_app_and_hashed_assets_are_cached_for_good(build):
    index = build.read("/")
    assert index is not None and index.body.startswith(b"<!doctype html>")
    assert index.content_type.startswith("text/html") and index.cache_control == "no-cache"
    script = build.read("/_console/app-1234.js")
    assert script is not None and "javascript" in script.content_type and "immutable" in script.cache_control


@pytest.mark.parametrize(
    "path", ["/_console/../../secret.txt", "/_console/../index.html/../../secret.txt", "/_console/missing.js"]
)
def test_no_path_leaves_the_build(build, path):
    assert build.read(path) is None


def test_only_the_consoles_paths_are_claimed():
    assert (
        ConsoleFiles.serves("/")
        and ConsoleFiles.serves("/_console/x.js")
        and ConsoleFiles.serves("/favicon.svg")
    )
    assert not ConsoleFiles.serves("/flows") and not ConsoleFiles.serves("/health")


def test_no_api_route_lives_where_the_console_does():
    paths = json.loads(OPENAPI.read_text())["paths"]
    assert "/" not in paths and "/index.html" not in paths
    assert not [p for p in paths if p.startswith(ASSET_PREFIX) or p in ("/favicon.svg", "/config.json")]


def test_the_policy_allows_no_inline_script_or_eval_and_names_the_object_store():
    policy = dict(
        part.strip().split(" ", 1) for part in content_security_policy(["http://127.0.0.1:5000"]).split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self' http://127.0.0.1:5000"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe-eval" not in " ".join(policy.values())
