"""Listing flows a page at a time, with each flow's status: what the console's flow list reads."""

from __future__ import annotations

import base64
import json

import pytest

from stepstore import InvalidInputError, StoreInterface
from stepstore.client import ApiClient


def _all_pages(client: ApiClient, limit: int) -> list[dict]:
    rows, cursor = [], None
    while True:
        params = {"limit": limit, "with_status": "true", **({"cursor": cursor} if cursor else {})}
        page = client.get("/flows", **params)
        rows.extend(page["flows"])
        cursor = page.get("next_cursor")
        if not cursor:
            return rows


def test_pages_cover_every_flow_once_newest_first_with_status(alice):
    names = [f"listed-{i}" for i in range(5)]
    for name in names:
        StoreInterface(name, step_name="load").update_progress(10 * (names.index(name) + 1), f"at {name}")
    StoreInterface("listed-4", step_name="load").set_step_status("failed", "boom")
    StoreInterface("listed-3", step_name="load").set_step_status("completed")
    client = ApiClient.from_environment()

    rows = _all_pages(client, limit=2)

    assert [r["flow_id"] for r in rows] == list(reversed(names))
    by_id = {r["flow_id"]: r for r in rows}
    assert by_id["listed-4"]["status"] == "failed" and by_id["listed-4"]["message"] == "boom"
    assert by_id["listed-3"]["status"] == "completed" and by_id["listed-3"]["progress"] == 100.0
    assert by_id["listed-0"]["status"] == "running" and by_id["listed-0"]["progress"] == 10.0
    assert by_id["listed-0"]["current_step"] == "load" and by_id["listed-0"]["step_count"] == 1


def test_without_status_the_list_stays_one_query_and_says_nothing_of_steps(alice):
    StoreInterface("plain", step_name="load")
    page = ApiClient.from_environment().get("/flows", limit=10)
    (row,) = page["flows"]
    assert row["flow_id"] == "plain" and row["status"] is None and page["next_cursor"] is None


def test_a_cursor_cannot_reach_another_users_flows(make_user):
    make_user("owner")
    for i in range(3):
        StoreInterface(f"private-{i}", step_name="s")
    owner_page = ApiClient.from_environment().get("/flows", limit=1)
    make_user("other")
    StoreInterface("mine", step_name="s")
    other = ApiClient.from_environment()

    page = other.get("/flows", limit=5, cursor=owner_page["next_cursor"])

    assert all(not r["flow_id"].startswith("private-") for r in page["flows"])


@pytest.mark.parametrize(
    "cursor",
    [
        "zzz",
        base64.urlsafe_b64encode(b'{"a": 1}').decode(),
        base64.urlsafe_b64encode(b'["", "x"]').decode(),
        base64.urlsafe_b64encode(json.dumps(["2026", "../etc"]).encode()).decode(),
        "A" * 1025,
    ],
)
def test_a_cursor_the_api_did_not_make_is_a_422_naming_it(alice, cursor):
    with pytest.raises(InvalidInputError) as refused:
        ApiClient.from_environment().get("/flows", cursor=cursor)
    assert "cursor" in str(refused.value)
