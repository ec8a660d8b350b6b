"""Every list route pages with an opaque cursor: pages join to the whole list, once each, and a forged
or borrowed cursor is a 422 naming `cursor`, never a 5xx and never someone else's items."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from stepstore import Asset, AssetType, Fixtures, StoreInterface, TextInput
from stepstore.client import ApiClient
from stepstore.errors import ConflictError, InvalidInputError


def walk(api: ApiClient, path: str, key: str, limit: int, **params: Any) -> list[Any]:
    """Each page's `key` items, by page, following `next` by hand."""
    pages, cursor = [], None
    while True:
        body = api.get(path, limit=limit, cursor=cursor, **params)
        assert len(body[key]) <= limit
        pages.append(body[key])
        cursor = body.get("next_cursor" if path == "/flows" else "next")
        if cursor is None:
            return pages
        assert len(pages) < 100, "the cursor never ended"


def joined(pages: list[Any]) -> list[Any]:
    return [item for page in pages for item in page]


def assert_refuses(api: ApiClient, path: str, cursor: str, **params: Any) -> None:
    with pytest.raises(InvalidInputError) as refused:
        api.get(path, cursor=cursor, **params)
    assert refused.value.status == 422 and refused.value.field == "cursor"


def retarget(cursor: str, change: Callable[[dict[str, Any]], None]) -> str:
    """The cursor decoded, changed and encoded again: what a curious user would try."""
    body = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    change(body)
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


def test_a_flows_steps_page_in_order_and_join_to_the_whole_flow(stack, alice, flow_id):
    names = [f"step {i}" for i in range(7)]
    for name in names:
        StoreInterface(flow_id, step_name=name)
    api = ApiClient.from_environment()
    pages = walk(api, f"/flows/{flow_id}", "steps", limit=3)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [s["name"] for s in joined(pages)] == names
    assert [s["position"] for s in joined(pages)] == list(range(7))
    # the SDK follows the cursor: the status holds every step
    status = StoreInterface(flow_id, step_name="step 6").get_flow_status()
    assert [s.name for s in status.steps] == names
    assert StoreInterface(flow_id).step_name == "step 6"  # current step without reading the steps


def test_flows_page_newest_first_without_repeats(stack, make_user):
    make_user("pager")
    made = [f"flow-{i}-{uuid.uuid4().hex[:6]}" for i in range(5)]
    for flow in made:
        StoreInterface(flow, step_name="s")
    api = ApiClient.from_environment()
    pages = walk(api, "/flows", "flows", limit=2)
    listed = [f["flow_id"] for f in joined(pages)]
    assert [len(p) for p in pages][:2] == [2, 2]
    assert sorted(listed) == sorted(made) and len(listed) == len(set(listed))
    assert listed == list(reversed(made))  # newest first


def test_outputs_and_inputs_page_and_join_without_duplicates(stack, alice, flow_id):
    first = StoreInterface(flow_id, step_name="first")
    for i in range(1, 6):
        first.save_output({"n": i}, f"out {i}")
    second = StoreInterface(flow_id, step_name="second")
    for i in range(3, 8):
        second.save_output({"n": i * 10}, f"out {i}")
    second.save_output({"again": True}, "out 3")  # a replaced output is listed once
    third = StoreInterface(flow_id, step_name="third")
    api = ApiClient.from_environment()
    expected = {f"out {i}": ("first" if i < 3 else "second") for i in range(1, 8)}
    for limit in (1, 2, 3, 1000):
        pages = walk(api, f"/flows/{flow_id}/steps/third/inputs", "inputs", limit=limit)
        seen = [name for page in pages for name in page]
        assert len(seen) == len(set(seen)), f"a name was listed twice with limit {limit}"
        assert {k: v for page in pages for k, v in page.items()} == expected
    assert third.list_inputs() == expected
    pages = walk(api, f"/flows/{flow_id}/steps/second/outputs", "outputs", limit=2)
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [o["name"] for o in joined(pages)] == [f"out {i}" for i in range(3, 8)]
    assert {o["producer_step"] for o in joined(pages)} == {"second"}
    assert [o["name"] for o in third.list_outputs("first")] == [f"out {i}" for i in range(1, 6)]
    assert third.get_input("out 3") == {"again": True}


def test_assets_versions_and_shares_page(stack, make_user):
    bob = make_user("bob")
    bobs = StoreInterface(f"f-{uuid.uuid4().hex[:6]}", step_name="s")
    shared_ids = []
    for i in range(2):
        shared_ids.append(bobs.save_asset(Asset({"bob": i}, f"bob asset {i}", AssetType.OTHER)))
    alice = make_user("alice")
    for asset_id in shared_ids:
        make_user.act_as(bob)
        StoreInterface(f"f-{uuid.uuid4().hex[:6]}", step_name="s").share_asset(asset_id, alice.name)
    make_user.act_as(alice)
    store = StoreInterface(f"f-{uuid.uuid4().hex[:6]}", step_name="s")
    own_ids = []
    for i in range(5):
        own_ids.append(store.save_asset(Asset({"i": i}, f"label {i}", AssetType.OTHER)))
    api = ApiClient.from_environment()
    for limit in (2, 3, 5, 7):
        pages = walk(api, "/assets", "assets", limit=limit)
        listed = [a["asset_id"] for a in joined(pages)]
        assert len(listed) == len(set(listed)) == 7, limit
        assert listed[:5] == list(reversed(own_ids))  # own assets first, newest first, then shared
        assert set(listed[5:]) == set(shared_ids)
    assert len(store.get_assets()) == 7
    typed = [a["asset_id"] for a in joined(walk(api, "/assets", "assets", 2, type="other"))]
    assert typed[:5] == list(reversed(own_ids)) and set(typed[5:]) == set(shared_ids)
    assert [a["asset_id"] for a in joined(walk(api, "/assets", "assets", 1, label="label 3"))] == [own_ids[3]]

    target = own_ids[0]
    for version in range(2, 5):
        store.save_asset(Asset({"v": version}, "label 0", AssetType.OTHER), overwrite=True)
    pages = walk(api, f"/assets/{target}/versions", "assets", limit=3)
    assert [len(p) for p in pages] == [3, 1]
    assert [v["version"] for v in joined(pages)] == [4, 3, 2, 1]
    assert [v.version for v in store.list_asset_versions(target)] == [4, 3, 2, 1]

    grantees = sorted(make_user(f"g{i}", use=False).name for i in range(3))
    for grantee in grantees:
        store.share_asset(target, grantee)
    pages = walk(api, f"/assets/{target}/shares", "shares", limit=2)
    assert [s["grantee"] for s in joined(pages)] == grantees
    assert store.list_asset_shares(target) == grantees


def test_connections_page_own_then_shared(stack, make_user):
    alice = make_user("alice")
    owner = make_user("owner")
    owners = StoreInterface(f"f-{uuid.uuid4().hex[:6]}", step_name="s")
    for i in range(2):
        owners.connections.create(f"theirs-{i}", "postgresql", {"host": "h", "password": "p"})
        owners.connections.share(f"theirs-{i}", alice.name)
    make_user.act_as(alice)
    store = StoreInterface(f"f-{uuid.uuid4().hex[:6]}", step_name="s")
    for i in range(3):
        store.connections.create(f"mine-{i}", "postgresql", {"host": "h", "password": "p"})
    api = ApiClient.from_environment()
    for limit in (1, 2, 5):
        listed = [(c["owner"], c["name"]) for c in joined(walk(api, "/connections", "connections", limit))]
        assert listed == [(alice.name, f"mine-{i}") for i in range(3)] + [
            (owner.name, f"theirs-{i}") for i in range(2)
        ], limit
    assert [c.name for c in store.connections.list()] == [
        "mine-0",
        "mine-1",
        "mine-2",
        "theirs-0",
        "theirs-1",
    ]


def test_fixtures_page_in_key_order(stack, make_user):
    make_user("fixture-admin", role="admin")
    area = f"p{uuid.uuid4().hex[:8]}"
    keys = [f"{area}/{i:02d}.csv" for i in range(5)]
    fixtures = Fixtures()
    for key in keys:
        fixtures.put(key, b"a\n1\n")
    api = ApiClient.from_environment()
    pages = walk(api, "/fixtures", "fixtures", limit=2, prefix=area)
    assert [[f["key"] for f in p] for p in pages] == [
        [f"fixture/{k}" for k in keys[0:2]],
        [f"fixture/{k}" for k in keys[2:4]],
        [f"fixture/{keys[4]}"],
    ]
    assert StoreInterface.list_fixture_data(area) == [f"fixture/{k}" for k in keys]
    assert [f.key for f in fixtures.list(area, limit=3)] == [f"fixture/{k}" for k in keys[:3]]
    first = api.get("/fixtures", prefix=area, limit=2)
    # a cursor may not step outside the prefix it was made for, nor out of the fixture area
    assert_refuses(api, "/fixtures", first["next"], prefix=f"{area}/02")
    outside = retarget(first["next"], lambda b: b["p"].update(after="data/secret"))
    assert_refuses(api, "/fixtures", outside, prefix=area)


def test_forged_and_borrowed_cursors_are_refused(stack, make_user):
    bob = make_user("bob")
    bob_flow = f"f-{uuid.uuid4().hex[:6]}"
    for i in range(3):
        StoreInterface(bob_flow, step_name=f"s{i}").save_output({"i": i}, f"o{i}")
    bob_api = ApiClient.from_environment()
    bob_steps = bob_api.get(f"/flows/{bob_flow}", limit=1)["next"]
    alice = make_user("alice")
    alice_flow = f"f-{uuid.uuid4().hex[:6]}"
    for i in range(3):
        StoreInterface(alice_flow, step_name=f"s{i}")
    api = ApiClient.from_environment()
    mine = api.get(f"/flows/{alice_flow}", limit=1)["next"]

    # garbage of every sort: 422 naming the cursor, not a 500
    for junk in (
        "!!!",
        "e30",
        "bm90IGpzb24",
        "W10",
        "x" * 5000,
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ):
        assert_refuses(api, f"/flows/{alice_flow}", junk)
    # bob's cursor, with alice's token, on the same flow name or hers
    assert_refuses(api, f"/flows/{bob_flow}", bob_steps)
    assert_refuses(api, f"/flows/{alice_flow}", bob_steps)
    # alice's own cursor retargeted at bob's partition
    to_bob = retarget(mine, lambda b: b["p"].update(pk=f"FLOW#{bob.name}#{bob_flow}"))
    assert_refuses(api, f"/flows/{alice_flow}", to_bob)
    # a cursor of another list, or with an extra key, or a key outside the list's range
    assert_refuses(api, f"/flows/{alice_flow}", retarget(mine, lambda b: b["p"].update(extra="x")))
    assert_refuses(api, f"/flows/{alice_flow}", retarget(mine, lambda b: b["p"].update(sk="STEP#s0")))
    # bob's flows still show only bob's, and bob's pages carry on with his own cursor
    assert [s["name"] for s in bob_api.get(f"/flows/{bob_flow}", cursor=bob_steps)["steps"]] == ["s1", "s2"]

    # the in-link cursor is a name: one that is not a valid name is refused
    inputs = api.get(f"/flows/{alice_flow}/steps/s2/inputs", limit=1)
    assert inputs["next"] is None
    forged = base64.urlsafe_b64encode(json.dumps({"s": "inputs", "p": {"after": "a#b"}}).encode()).decode()
    assert_refuses(api, f"/flows/{alice_flow}/steps/s2/inputs", forged)
    for path in ("/assets", "/connections", f"/flows/{alice_flow}/steps/s1/outputs"):
        assert_refuses(api, path, mine)

    # and through raw HTTP the refusal is the one error shape
    response = requests.get(
        f"{stack.api_url}/flows/{alice_flow}",
        params={"cursor": to_bob},
        headers={"Authorization": f"Bearer {alice.token}"},
        timeout=30,
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid" and response.json()["field"] == "cursor"


def test_limit_is_capped_and_future_elements_are_bounded(stack, alice, flow_id, monkeypatch):
    from stepstore_functions.logic import pages as page_logic

    api = ApiClient.from_environment()
    StoreInterface(flow_id, step_name="s")
    with pytest.raises(InvalidInputError) as refused:
        api.get("/flows", limit=1001)
    assert refused.value.field == "limit"
    monkeypatch.setattr(page_logic, "MAX_FUTURE_ELEMENTS", 3)
    store = StoreInterface(flow_id, step_name="s")
    elements = [TextInput(title=f"later {i}") for i in range(4)]
    for element in elements[:3]:
        store.create_future_element(element, "later")
    store.create_future_element(elements[0], "later")  # registering one again is not one more
    with pytest.raises(ConflictError, match="3 future elements, the most a step may have"):
        store.create_future_element(elements[3], "later")
    later = StoreInterface(flow_id, step_name="later")
    assert later.get_element("later", "later 2") is not None
    assert later.get_element("later", "later 3", quiet=True) is None


@pytest.fixture
def dynamodb_calls(monkeypatch):
    """Every DynamoDB call the API makes (the local stack runs its handlers in this process)."""
    from pynamodb.connection import base

    calls: list[tuple[str, dict[str, Any]]] = []
    real = base.Connection._make_api_call

    def recording(self, operation_name, operation_kwargs):
        calls.append((operation_name, operation_kwargs))
        return real(self, operation_name, operation_kwargs)

    monkeypatch.setattr(base.Connection, "_make_api_call", recording)
    return calls


def test_a_page_reads_at_most_a_page(stack, alice, flow_id, dynamodb_calls):
    names = [f"s{i:02d}" for i in range(12)]
    store = None
    for name in names:
        store = StoreInterface(flow_id, step_name=name)
        store.save_output({"n": name}, f"out {name}")
    for i in range(12):
        store.save_asset(Asset({"i": i}, f"read-bound {i}", AssetType.OTHER))
    for other in ("b", "c"):
        StoreInterface(f"{flow_id}-{other}", step_name="x")
    api = ApiClient.from_environment()
    api.get("/me")
    for path, limit in (
        (f"/flows/{flow_id}", 4),
        ("/assets", 5),
        (f"/flows/{flow_id}/steps/s11/inputs", 3),
    ):
        dynamodb_calls.clear()
        body = api.get(path, limit=limit)
        assert body["next"] is not None, path
        queries = [kwargs for op, kwargs in dynamodb_calls if op == "Query"]
        # no query without a Limit, none over the page size (the in-link's extra read settles one name)
        assert queries and all(0 < q.get("Limit", 10**9) <= limit for q in queries), (path, queries)
        assert len(queries) <= 3, (path, len(queries))
        batches = [kwargs for op, kwargs in dynamodb_calls if op == "BatchGetItem"]
        keys = sum(len(table["Keys"]) for b in batches for table in b["RequestItems"].values())
        assert keys <= limit, (path, keys)
        assert not [op for op, _ in dynamodb_calls if op == "Scan"]
