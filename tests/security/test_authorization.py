"""The authorization matrix, generated from the OpenAPI document: every route, tried with no token,
malformed tokens, a wrong token, another user's token and a plain user's impersonation header.

- Without a valid token every route but the public ones is a 401 in the error shape.
- A plain user's ``X-StepStore-User`` is a 403 on every route.
- Another user's resource is never revealed: the answer for Alice's existing resource, asked by
  Bob, is identical (status and body, once the echoed name, times and generated ids are masked) to
  the answer for a name that was never used, and never carries Alice's name.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

import stepstore_functions
from stepstore.local.stack import STAGE
from stepstore_functions.handlers.api import PUBLIC_ROUTES
from stepstore_functions.resources import FIXTURES_BUCKET
from tests.security.conftest import assert_error_shape

pytestmark = pytest.mark.integration

OPENAPI = json.loads((Path(stepstore_functions.__file__).parent / "openapi.json").read_text())
ROUTES = sorted(
    (method.upper(), path, operation)
    for path, operations in OPENAPI["paths"].items()
    for method, operation in operations.items()
)
PROTECTED = [(m, p, o) for m, p, o in ROUTES if (m, p) not in PUBLIC_ROUTES]

ETAG = hashlib.md5(b"abc").hexdigest()
# A valid body for each request schema, so a request gets past validation to the lookup that matters.
EXAMPLE_BODIES: dict[str, dict[str, Any]] = {
    "ProgressUpdate": {"completion": 50, "message": "half"},
    "StatusUpdate": {"status": "running"},
    "InlineOutput": {"kind": "int", "value_json": "1"},
    "UploadRequest": {"kind": "bytes", "format": "raw", "size": 3, "etag": ETAG},
    "CommitUpload": {"size": 3, "etag": ETAG},
    "PartUrlsRequest": {"first": 1, "count": 1},
    "AssetCommit": {"size": 3, "etag": ETAG},
    "ConnectionUpdate": {"description": "changed"},
    "FixtureUploadRequest": {"size": 3, "etag": ETAG},
    "FixtureCommit": {},
    "PageUpdate": {"page": {"title": "Mine", "sections": []}},
    "BlobUploadRequest": {"size": 3, "etag": ETAG},
    "ElementValueIn": {"value": "typed"},
    "FileUploadRequest": {"size": 3, "etag": ETAG},
    "FutureElementIn": {"element": {"id": "later1", "type": "RichText", "title": "later", "content": "x"}},
    "CreateUserRequest": {"name": "mallory-made"},
    "TokenRequest": {"expires_in_days": 1},
    "AssetUploadRequest": {
        "type": "other",
        "label": "mine",
        "kind": "bytes",
        "format": "raw",
        "size": 3,
        "etag": ETAG,
    },
    "ConnectionCreate": {"name": "mine", "type": "other", "credentials": {"password": "p"}},
}

# The path parameter that names an owner's resource, by route prefix: what Bob asks for by Alice's name.
OWNED = ("flow_id", "asset_id", "connection_id", "name", "upload_id")


def _body_schema(operation: dict[str, Any]) -> str | None:
    body = operation.get("requestBody")
    if not body:
        return None
    return body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]


def test_every_request_schema_has_an_example_body():
    """A new route with a body needs an example here, or the matrix could not reach its lookup."""
    missing = {_body_schema(o) for _, _, o in PROTECTED} - set(EXAMPLE_BODIES) - {None}
    assert not missing


@dataclass
class World:
    """Alice's resources on the stack, and the names that fill each path parameter."""

    api_url: str
    admin_token: str
    alice: str
    alice_token: str
    values: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)

    def new_user(self, prefix: str) -> tuple[str, str]:
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        response = requests.post(
            f"{self.api_url}/users",
            json={"name": name, "role": "user"},
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return name, response.json()["token"]


def _ok(response: requests.Response) -> dict[str, Any]:
    assert response.status_code < 300, (response.request.method, response.request.url, response.text)
    return response.json() if response.content else {}


@pytest.fixture(scope="module")
def world(stack) -> Iterator[World]:
    alice, alice_token = f"alice-{uuid.uuid4().hex[:8]}", ""
    admin = {"Authorization": f"Bearer {stack.admin_token}"}
    alice_token = _ok(
        requests.post(f"{stack.api_url}/users", json={"name": alice}, headers=admin, timeout=30)
    )["token"]
    world = World(stack.api_url, stack.admin_token, alice, alice_token)
    carol, _ = world.new_user("carol")
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {alice_token}"
    url = stack.api_url
    flow, step = f"secret-flow-{uuid.uuid4().hex[:6]}", "load"
    base = f"{url}/flows/{flow}/steps/{step}"
    _ok(s.put(base, timeout=30))
    _ok(s.put(f"{base}/outputs/result", json={"kind": "int", "value_json": "42"}, timeout=30))
    page = {
        "title": "Alice's page",
        "sections": [
            {
                "id": "sec1",
                "title": "s",
                "cards": [
                    {
                        "id": "card1",
                        "title": "c",
                        "content": [
                            {"id": "text1", "type": "TextInput", "title": "Text", "reference_id": "text"},
                            {
                                "id": "data1",
                                "type": "DataSource",
                                "title": "Data",
                                "reference_id": "data",
                                "options": {"extensions": ["csv"]},
                            },
                        ],
                    }
                ],
            }
        ],
    }
    _ok(s.put(f"{base}/page", json={"page": page}, timeout=30))
    upload = _ok(s.post(f"{base}/outputs/blob/uploads", json=EXAMPLE_BODIES["UploadRequest"], timeout=30))
    asset_upload = _ok(
        s.post(
            f"{url}/assets/uploads",
            json={**EXAMPLE_BODIES["AssetUploadRequest"], "label": "alice-asset"},
            timeout=30,
        )
    )
    _ok(
        requests.put(
            asset_upload["urls"][0], data=b"abc", headers=asset_upload.get("headers") or {}, timeout=30
        )
    )
    asset = _ok(s.post(f"{url}/assets/uploads/{asset_upload['upload_id']}/commit", json={}, timeout=30))
    pending_asset_upload = _ok(
        s.post(
            f"{url}/assets/uploads",
            json={**EXAMPLE_BODIES["AssetUploadRequest"], "label": "alice-pending"},
            timeout=30,
        )
    )
    connection = _ok(
        s.post(
            f"{url}/connections",
            json={**EXAMPLE_BODIES["ConnectionCreate"], "name": "alice-warehouse"},
            timeout=30,
        )
    )
    world.values = {
        "flow_id": flow,
        "step_name": step,
        "name": "result",
        "upload_id": upload["upload_id"],
        "asset_id": asset.get("asset_id") or asset["id"],
        "version": "1",
        "user": carol,
        "connection_id": connection.get("connection_id") or connection["id"],
        "key_b64": "Zml4dHVyZS9zYWxlcy5jc3Y",
        "element": "text",
        "file_name": "sales.csv",
        "element_id": "later1",
        "token_id": "0123456789abcdef",
    }
    world.values["asset_upload_id"] = pending_asset_upload["upload_id"]
    world.values["connection_name"] = "alice-warehouse"
    world.query = {
        "owner": alice,
        "asset_id": world.values["asset_id"],
        "label": "alice-asset",
        "limit": "10",
        "key": "fixture/sales.csv",
        "bucket": FIXTURES_BUCKET.physical_name(STAGE),
    }
    yield world
    s.close()


def _owned_parameter(path: str) -> str | None:
    names = re.findall(r"{(\w+)}", path)
    return next((n for n in OWNED if n in names), None)


def _fill(world: World, path: str, overrides: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in overrides:
            return overrides[name]
        if name == "name" and path.startswith("/connections"):
            return world.values["connection_name"]
        if name == "upload_id" and path.startswith("/assets"):
            return world.values["asset_upload_id"]
        return world.values[name]

    return world.api_url + re.sub(r"{(\w+)}", value, path)


def _query(world: World, operation: dict[str, Any], overrides: dict[str, str]) -> dict[str, str]:
    params = {}
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query" and parameter["name"] in world.query:
            params[parameter["name"]] = overrides.get(parameter["name"], world.query[parameter["name"]])
    return params


def _send(world, method, path, operation, headers, overrides=None) -> requests.Response:
    overrides = overrides or {}
    schema = _body_schema(operation)
    return requests.request(
        method,
        _fill(world, path, overrides),
        params=_query(world, operation, overrides),
        json=EXAMPLE_BODIES[schema] if schema else None,
        headers=headers,
        timeout=30,
    )


_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")
_HEX = re.compile(r"\b[0-9a-f]{32}\b")
_URL = re.compile(r"https?://[^\"\s]+")


def _masked(response: requests.Response, *names: str) -> tuple[int, str]:
    text = response.text
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "<name>")
    text = _URL.sub("<url>", _TIME.sub("<time>", text))
    return response.status_code, _HEX.sub("<id>", text)


BAD_TOKENS = {
    "no token": None,
    "malformed: empty bearer": "Bearer ",
    "malformed: basic": "Basic YWxpY2U6cGFzcw==",
    "malformed: not ours": "Bearer not-a-stepstore-token",
    "malformed: oversized": "Bearer sst_" + "A" * 5000,
    "wrong token": "Bearer sst_" + secrets.token_urlsafe(32),
}


@pytest.mark.parametrize(
    ("method", "path", "operation"), PROTECTED, ids=[f"{m} {p}" for m, p, _ in PROTECTED]
)
def test_the_route_refuses_every_caller_it_must(world, method, path, operation):
    # Without a valid token: 401, in the error shape, whatever the route.
    for label, authorization in BAD_TOKENS.items():
        headers = {"Authorization": authorization} if authorization is not None else {}
        response = _send(world, method, path, operation, headers)
        body = assert_error_shape(response, 401 if method != "HEAD" else None)
        assert body["error"] == "unauthorized", (label, body)

    # A plain user acting for another user: 403, in the error shape.
    bob, bob_token = world.new_user("bob")
    impersonating = {"Authorization": f"Bearer {bob_token}", "X-StepStore-User": world.alice}
    body = assert_error_shape(_send(world, method, path, operation, impersonating), 403)
    assert body["error"] == "forbidden"

    # Another user's token on Alice's resource: the same answer as for a name never used.
    owned = _owned_parameter(path)
    as_bob = {"Authorization": f"Bearer {bob_token}"}
    key = owned
    if owned == "name" and path.startswith("/connections"):
        key = "connection_name"
    if owned == "upload_id" and path.startswith("/assets"):
        key = "asset_upload_id"
    if owned is not None:
        existing = world.values[key]
        absent = f"{existing[:4]}never{uuid.uuid4().hex[:6]}" if owned != "asset_id" else uuid.uuid4().hex
        if owned in ("asset_id", "connection_id", "upload_id") and len(existing) == 32:
            absent = uuid.uuid4().hex
        hidden = _send(world, method, path, operation, as_bob)
        never = _send(world, method, path, operation, as_bob, {owned: absent})
        sent_owner = "owner" in _query(world, operation, {})
        if not sent_owner:  # Alice's name may be echoed only where Bob sent it himself
            assert world.alice not in hidden.text, hidden.text
        masks = (world.alice, bob) if sent_owner else (bob,)
        assert _masked(hidden, existing, *masks) == _masked(never, absent, *masks), (hidden.text, never.text)
        if hidden.status_code >= 400:
            assert_error_shape(hidden)
    elif any(
        p["in"] == "query" and p["name"] in ("owner", "asset_id") for p in operation.get("parameters", [])
    ):
        hidden = _send(world, method, path, operation, as_bob)
        absent = {"owner": f"nobody-{uuid.uuid4().hex[:6]}", "asset_id": uuid.uuid4().hex}
        never = _send(world, method, path, operation, as_bob, absent)
        assert world.alice not in hidden.text, hidden.text
        names = (world.alice, world.values["asset_id"], bob)
        assert _masked(hidden, *names) == _masked(never, *absent.values(), bob), (hidden.text, never.text)


def test_the_public_routes_need_no_token(stack):
    for method, path in sorted(PUBLIC_ROUTES):
        response = requests.request(method, f"{stack.api_url}{path}", timeout=30)
        assert response.status_code == 200
