"""Nothing about another user's items is learned from a refusal: not from its words, not from its timing.

A lookup of an asset or connection the caller may not see must answer exactly as for one that never
existed, and take as long. The timing is measured the only robust way on a shared, noisy machine:
the hidden and absent lookups interleaved in random order, medians compared, and the difference
held against the noise between two absent names measured in the same run.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid

import pandas as pd
import pytest
import requests

from stepstore import Dataset, StoreInterface
from stepstore.connections import ConnectionStore

pytestmark = pytest.mark.integration

ROUNDS = 150
# Allowed difference beyond the absent-vs-absent noise: far below the cost of one more read (the
# leak this guards against doubled the answer's time), above what a shared 2-core machine jitters.
MARGIN_SECONDS = 0.001
MARGIN_FRACTION = 0.15


@pytest.fixture
def hidden(make_user, flow_id):
    """Bob's asset and connection, shared with nobody; Alice is the caller."""
    bob = make_user("bob")
    store = StoreInterface(flow_id, step_name="s")
    asset_id = store.save_asset(Dataset(pd.DataFrame({"x": range(50)}), "bobs-data", name="v1"))
    connection_id = (
        ConnectionStore()
        .create("bobs-db", "postgresql", {"host": "db.internal", "password": "pw-1"})
        .connection_id
    )
    alice = make_user("alice")
    return {"bob": bob, "alice": alice, "asset_id": asset_id, "connection_id": connection_id}


def _session(stack, token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def _answer(session: requests.Session, url: str) -> tuple[int, dict]:
    response = session.get(url, timeout=10)
    return response.status_code, response.json()


def _masked(body: dict, *names: str) -> dict:
    text = repr(body)
    for name in names:
        text = text.replace(name, "<name>")
    return {"text": text}


def _timed(session: requests.Session, urls: dict[str, str], rounds: int) -> dict[str, list[float]]:
    """Each URL once per round, in a fresh random order each round; seconds per request."""
    times: dict[str, list[float]] = {label: [] for label in urls}
    for url in urls.values():  # warm every path (imports, connections, caches) before measuring
        session.get(url, timeout=10)
    order = list(urls)
    for _ in range(rounds):
        random.shuffle(order)
        for label in order:
            start = time.perf_counter()
            response = session.get(urls[label], timeout=10)
            times[label].append(time.perf_counter() - start)
            assert response.status_code == 404, (label, response.status_code, response.text)
    return times


def _assert_no_timing_difference(times: dict[str, list[float]], what: str) -> None:
    hidden = statistics.median(times["hidden"])
    absent = statistics.median(times["absent"])
    other_absent = statistics.median(times["other absent"])
    noise = abs(other_absent - absent)
    allowed = noise + max(MARGIN_SECONDS, MARGIN_FRACTION * absent)
    difference = hidden - absent
    print(
        f"{what}: median hidden {hidden * 1e3:.2f} ms, absent {absent * 1e3:.2f} ms, "
        f"other absent {other_absent * 1e3:.2f} ms; difference {difference * 1e3:+.2f} ms, "
        f"allowed {allowed * 1e3:.2f} ms"
    )
    assert abs(difference) <= allowed, (
        f"{what}: a hidden item answers {difference * 1e3:+.2f} ms apart from an absent one "
        f"(medians {hidden * 1e3:.2f} vs {absent * 1e3:.2f} ms over {len(times['hidden'])} interleaved "
        f"rounds); two absent names differ by {noise * 1e3:.2f} ms"
    )


def test_a_hidden_asset_answers_like_an_absent_one_in_words_and_time(stack, hidden):
    session = _session(stack, hidden["alice"].token)
    base = f"{stack.api_url}/assets/"
    absent, other_absent = uuid.uuid4().hex, uuid.uuid4().hex
    urls = {"hidden": base + hidden["asset_id"], "absent": base + absent, "other absent": base + other_absent}
    hidden_answer, absent_answer = _answer(session, urls["hidden"]), _answer(session, urls["absent"])
    assert hidden_answer[0] == absent_answer[0] == 404
    assert _masked(hidden_answer[1], hidden["asset_id"]) == _masked(absent_answer[1], absent)
    _assert_no_timing_difference(_timed(session, urls, ROUNDS), "GET /assets/{id}")


def test_a_hidden_connection_answers_like_an_absent_one_in_words_and_time(stack, hidden):
    session = _session(stack, hidden["alice"].token)
    bob = hidden["bob"].name
    base = f"{stack.api_url}/connections/"
    urls = {
        "hidden": f"{base}bobs-db?owner={bob}",
        "absent": f"{base}nobodys-db?owner={bob}",
        "other absent": f"{base}no-such-db?owner={bob}",
    }
    hidden_answer, absent_answer = _answer(session, urls["hidden"]), _answer(session, urls["absent"])
    assert hidden_answer[0] == absent_answer[0] == 404
    assert _masked(hidden_answer[1], "bobs-db") == _masked(absent_answer[1], "nobodys-db")
    _assert_no_timing_difference(_timed(session, urls, ROUNDS), "GET /connections/{name}?owner=")


def test_a_hidden_connection_id_answers_like_an_absent_one_in_words_and_time(stack, hidden):
    session = _session(stack, hidden["alice"].token)
    base = f"{stack.api_url}/connection-ids/"
    absent, other_absent = uuid.uuid4().hex, uuid.uuid4().hex
    urls = {
        "hidden": base + hidden["connection_id"],
        "absent": base + absent,
        "other absent": base + other_absent,
    }
    hidden_answer, absent_answer = _answer(session, urls["hidden"]), _answer(session, urls["absent"])
    assert hidden_answer[0] == absent_answer[0] == 404
    assert _masked(hidden_answer[1], hidden["connection_id"]) == _masked(absent_answer[1], absent)
    _assert_no_timing_difference(_timed(session, urls, ROUNDS), "GET /connection-ids/{id}")


def test_sharing_with_an_unknown_user_answers_as_for_a_known_one(stack, make_user, flow_id):
    known = make_user("carol", use=False)
    dave = make_user("dave")
    store = StoreInterface(flow_id, step_name="s")
    asset_id = store.save_asset(Dataset(pd.DataFrame({"x": [1]}), "to-share"))
    ConnectionStore().create("dave-db", "postgresql", {"host": "h"})
    unknown = f"nobody-{uuid.uuid4().hex[:8]}"
    session = _session(stack, dave.token)
    answers = {}
    for grantee in (known.name, unknown):
        asset = session.put(f"{stack.api_url}/assets/{asset_id}/shares/{grantee}", timeout=10)
        connection = session.put(f"{stack.api_url}/connections/dave-db/shares/{grantee}", timeout=10)
        asset_body = {k: v for k, v in asset.json().items() if k != "created_at"}
        connection_body = {
            k: v for k, v in connection.json().items() if k not in ("shared_with", "updated_at", "version")
        }
        answers[grantee] = (
            asset.status_code,
            _masked(asset_body, grantee),
            connection.status_code,
            connection_body,
        )
    assert answers[known.name] == answers[unknown]
    assert answers[unknown][0] == answers[unknown][2] == 200
