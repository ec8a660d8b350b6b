"""A pending upload is its starter's alone, on every upload route.

Alice starts an upload and sends its bytes; Bob, who knows (or guesses) the upload id, tries to
commit it and to ask for more part URLs, through the same route on his own flow and step of the
same names. He gets the 404 that an upload id that never existed gets, saying nothing more, and
Alice's upload is untouched: she commits it afterwards.

(No route aborts a pending upload; an abandoned one expires with its staging object.)
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import pytest
import requests

from stepstore import StoreInterface
from stepstore.client import ApiClient
from stepstore.errors import NotFoundError
from stepstore.pages import Card, DataSource, Page, Section

pytestmark = pytest.mark.integration

PART = 5 * 1024 * 1024
MD5 = "0" * 32
PAYLOAD = b'{"rows": [1, 2, 3]}'


@dataclass(frozen=True)
class Route:
    """One kind of upload: how to start one (as whoever `api` is) and the path its upload ids live under."""

    name: str
    prepare: Callable[[str], None]  # make the flow/step/page the route needs, as the SDK's caller
    start_path: Callable[[str], str]
    start_body: dict
    streams: bool = False  # whether it can ask for more part URLs


def _open_step(flow_id: str) -> None:
    StoreInterface(flow_id, step_name="s")


def _datasource_page(flow_id: str) -> None:
    page = Page("Upload", [Section("In", [Card("Data", [DataSource("Input", ["json"], reference_id="in")])])])
    StoreInterface(flow_id, step_name="s").update_page(page)


def _nothing(flow_id: str) -> None:
    pass


FIXTURE_KEY = base64.urlsafe_b64encode(b"ownership/data.json").decode().rstrip("=")

ROUTES = [
    Route(
        "output",
        _open_step,
        lambda flow: f"/flows/{flow}/steps/s/outputs/out/uploads",
        {"kind": "bytes", "format": "raw"},
        streams=True,
    ),
    Route(
        "asset",
        _nothing,
        lambda flow: "/assets/uploads",
        {"type": "other", "label": "owned", "kind": "bytes", "format": "raw"},
        streams=True,
    ),
    Route("page", _open_step, lambda flow: f"/flows/{flow}/steps/s/page/uploads", {}),
    Route(
        "datasource file",
        _datasource_page,
        lambda flow: f"/flows/{flow}/steps/s/elements/in/files/{quote('data.json', safe='')}/uploads",
        {},
    ),
    Route("fixture", _nothing, lambda flow: f"/fixtures/files/{FIXTURE_KEY}/uploads", {}),
]


STREAMING = [r for r in ROUTES if r.streams]


@pytest.fixture
def alice_and_bob(stack, make_user, flow_id):
    """Two users (service tokens for fixtures, which only they may write), each set up for the route."""

    def make(route: Route) -> tuple[ApiClient, ApiClient]:
        role = "service" if route.name == "fixture" else "user"
        clients = []
        for name in ("alice", "bob"):
            caller = make_user(name, role=role)  # also the SDK's caller, for `prepare`
            route.prepare(flow_id)
            clients.append(ApiClient(stack.api_url, caller.token))
        return clients[0], clients[1]

    return make


def _declared(data: bytes) -> dict:
    return {"size": len(data), "etag": hashlib.md5(data, usedforsecurity=False).hexdigest()}


def _without(text: str, upload_id: str) -> str:
    return text.replace(upload_id, "<id>")


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_another_users_upload_cannot_be_committed(alice_and_bob, route, flow_id):
    alice, bob = alice_and_bob(route)
    path = route.start_path(flow_id)
    ticket = alice.post(path, {**route.start_body, **_declared(PAYLOAD)})
    put = requests.put(ticket["urls"][0], data=PAYLOAD, headers=ticket["headers"], timeout=30)
    assert put.status_code == 200
    stolen_id, invented_id = ticket["upload_id"], uuid.uuid4().hex

    with pytest.raises(NotFoundError) as stolen:
        bob.post(f"{path}/{stolen_id}/commit", {"parts": []})
    with pytest.raises(NotFoundError) as invented:
        bob.post(f"{path}/{invented_id}/commit", {"parts": []})
    # Nothing tells Bob that the id he used exists: the answer is the one an invented id gets.
    assert stolen.value.code == invented.value.code == "not_found"
    assert _without(str(stolen.value), stolen_id) == _without(str(invented.value), invented_id)

    assert alice.post(f"{path}/{stolen_id}/commit", {"parts": []})  # her upload survived his attempt


@pytest.mark.parametrize("route", STREAMING, ids=[r.name for r in STREAMING])
def test_another_users_streamed_upload_cannot_be_extended_or_committed(alice_and_bob, route, flow_id):
    alice, bob = alice_and_bob(route)
    path = route.start_path(flow_id)
    upload = (
        f"{path}/{alice.post(path, {**route.start_body, 'part_size': PART, 'part_count': 1})['upload_id']}"
    )

    with pytest.raises(NotFoundError):
        bob.post(f"{upload}/parts", {"first": 2, "count": 1})
    with pytest.raises(NotFoundError):
        bob.post(
            f"{upload}/commit", {"parts": [{"part_number": 1, "etag": "e"}], "size": 1, "etag": "0" * 32}
        )
    assert len(alice.post(f"{upload}/parts", {"first": 2, "count": 2})["urls"]) == 2
