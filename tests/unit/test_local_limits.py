"""The local stack's memory stays bounded: the authorizer's answer cache and the recorded events."""

from __future__ import annotations

from stepstore.local.events import LocalEvents
from stepstore.local.gateway import Gateway, LocalFunction


def _allow_all(event, context):
    token = event["authorizationToken"].removeprefix("Bearer ")
    return {
        "principalId": token,
        "policyDocument": {"Statement": [{"Effect": "Allow", "Resource": ["*"]}]},
        "context": {"principal": token, "role": "user"},
    }


def test_the_authorizer_cache_keeps_at_most_its_bound_and_still_answers_each_token():
    calls: list[str] = []

    def authorizer(event, context):
        calls.append(event["authorizationToken"])
        return _allow_all(event, context)

    gateway = Gateway(
        api=None,
        authorizer=LocalFunction("authorizer", authorizer),
        public_routes=frozenset(),
        stage="unit",
        region="us-east-1",
    )
    gateway.cache_entries = 50
    for n in range(500):
        status, context = gateway.authorize("GET", "/flows", f"Bearer token-{n}")
        assert status == 200 and context["principal"] == f"token-{n}"
    assert gateway.cached_answers == 50
    # The newest answers are the ones kept: asking again does not call the authorizer.
    before = len(calls)
    gateway.authorize("GET", "/flows", "Bearer token-499")
    assert len(calls) == before
    # An evicted one is asked again, and answered right.
    status, context = gateway.authorize("GET", "/flows", "Bearer token-0")
    assert status == 200 and context["principal"] == "token-0" and len(calls) == before + 1


def test_recorded_events_keep_the_newest_up_to_the_bound():
    events = LocalEvents(stack=None, triggers=[], keep_delivered=3)
    for n in range(10):
        events._record({"detail-type": "StepCompleted", "detail": {"n": n}})
    assert [e["detail"]["n"] for e in events.delivered] == [7, 8, 9]
    assert events.wait_for("StepCompleted", lambda e: e["detail"]["n"] == 9, timeout=0.1)["detail"]["n"] == 9
