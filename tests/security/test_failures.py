"""Faults stay faults, not leaks: an unexpected error is a JSON 500 with a correlation id and no
traceback (the traceback goes to the log), and one bad record never costs an event batch the others."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from stepstore.local.gateway import Gateway, LambdaContext
from stepstore_functions.resources import Deployment


def _rest_event(method: str, path: str, body: bytes = b"") -> dict:
    gateway = Gateway(api=None, authorizer=None, public_routes=frozenset(), stage="unit", region="us-east-1")
    event = gateway.event(
        method,
        path,
        "",
        {"Content-Type": ["application/json"]},
        body,
        "127.0.0.1",
        {"principal": "alice", "role": "user", "principalId": "alice"},
    )
    event["requestContext"]["requestId"] = "req-correlation-42"
    return event


def test_an_unexpected_error_is_a_json_500_with_a_correlation_id_and_no_traceback(monkeypatch, caplog):
    from stepstore_functions.handlers import api
    from stepstore_functions.logic import flows

    def broken(*args, **kwargs):
        raise RuntimeError("secret detail from deep inside")

    monkeypatch.setattr(flows, "list_flows", broken)
    response = api.lambda_handler(_rest_event("GET", "/flows"), LambdaContext("stepstore-api", "req-1"))

    assert response["statusCode"] == 500
    body = json.loads(response["body"])
    assert set(body) == {"error", "message", "field"} and body["error"] == "internal"
    assert "req-correlation-42" in body["message"]
    assert "secret detail" not in response["body"] and "Traceback" not in response["body"]
    assert "secret detail from deep inside" in caplog.text and "Traceback" in caplog.text  # logged


def test_an_error_outside_the_routes_is_still_a_json_500(monkeypatch, caplog):
    from stepstore_functions.handlers import api

    def broken(event, context):
        raise RuntimeError("the resolver itself broke")

    monkeypatch.setattr(api.app, "resolve", broken)
    response = api.lambda_handler(_rest_event("GET", "/flows"), LambdaContext("stepstore-api", "req-2"))
    assert response["statusCode"] == 500
    assert json.loads(response["body"])["error"] == "internal"
    assert "the resolver itself broke" in caplog.text


@dataclass
class Context:
    function_name: str = "stepstore-unit-stream-events"
    aws_request_id: str = "req-1"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:stepstore-unit-stream-events"
    log_group_name: str = "local"
    log_stream_name: str = "local"
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


class RecordingBus:
    def __init__(self) -> None:
        self.entries: list[dict] = []

    def put_events(self, Entries):
        self.entries.extend(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "x"} for _ in Entries]}


@pytest.fixture
def bus(monkeypatch):
    from stepstore_functions import settings
    from stepstore_functions.events import publisher

    for key, value in Deployment(stage="unit").environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.delenv("EVENT_BUS_NAME", raising=False)
    settings.get_settings.cache_clear()
    recording = RecordingBus()
    monkeypatch.setattr(publisher, "client", lambda service: recording)
    yield recording
    settings.get_settings.cache_clear()


def _step_completed(sequence: int, progress: str = "100") -> dict:
    """A step becoming completed, as the metadata table's stream carries it."""
    image = {
        "pk": {"S": f"FLOW#user{sequence}#flow-{sequence}"},
        "sk": {"S": "STEP#load"},
        "name": {"S": "load"},
        "status": {"S": "completed"},
        "position": {"N": "0"},
        "progress": {"N": progress},
        "message": {"S": ""},
    }
    return {
        "eventName": "MODIFY",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "ApproximateCreationDateTime": 1767323045,
            "SequenceNumber": str(sequence),
            "NewImage": image,
            "OldImage": {**image, "status": {"S": "running"}},
        },
    }


def test_one_unreadable_stream_record_is_reported_alone_and_the_others_publish(bus):
    from stepstore_functions.events import stream

    # The number DynamoDB once accepted from completion=1e-200 and the stream reader cannot decode.
    records = [_step_completed(1), _step_completed(2, progress="1e-200"), _step_completed(3)]
    result = stream.lambda_handler({"Records": records}, Context())

    assert result == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    owners = sorted(json.loads(e["Detail"])["owner"] for e in bus.entries)
    assert owners == ["user1", "user3"]


def test_local_delivery_dead_letters_the_bad_record_and_delivers_the_rest(bus):
    """The local stack's stream delivery with the real publisher: the batch is retried from the
    reported record, the record is dead-lettered, no other user's StepCompleted is lost."""
    from stepstore.local.events import LocalEvents
    from stepstore.local.gateway import LocalFunction
    from stepstore_functions.events import stream

    events = LocalEvents(stack=None, triggers=[])
    records = [_step_completed(n, progress="1e-200" if n == 12 else "100") for n in range(10, 15)]
    events._deliver_records(records, LocalFunction("stepstore-events", stream.lambda_handler))

    delivered = {json.loads(e["Detail"])["owner"] for e in bus.entries}
    assert delivered == {"user10", "user11", "user13", "user14"}
    assert [r["dynamodb"]["SequenceNumber"] for r in events.dead_letters] == ["12"]


def test_local_delivery_bisects_a_batch_whose_handler_raises_down_to_the_bad_record():
    from stepstore.local.events import LocalEvents
    from stepstore.local.gateway import LocalFunction

    seen: list[str] = []

    def handler(event, context):
        sequences = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        if "3" in sequences:
            raise RuntimeError("poison")
        seen.extend(sequences)
        return {"batchItemFailures": []}

    events = LocalEvents(stack=None, triggers=[])
    records = [{"dynamodb": {"SequenceNumber": str(n)}} for n in range(8)]
    events._deliver_records(records, LocalFunction("raising", handler))
    assert sorted(set(seen)) == ["0", "1", "2", "4", "5", "6", "7"]
    assert [r["dynamodb"]["SequenceNumber"] for r in events.dead_letters] == ["3"]
