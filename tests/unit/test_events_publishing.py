"""The publishers: PutEvents batches of ten, and a refused event makes the stream batch retry
from the record it came from (ReportBatchItemFailures) or the S3 notification fail."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from stepstore_functions.resources import Deployment


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


class FakeEvents:
    def __init__(self, refuse: set[int] = frozenset()) -> None:
        self.calls: list[list[dict]] = []
        self.refuse = refuse  # positions (across all calls) the bus refuses

    def put_events(self, Entries):
        offset = sum(len(c) for c in self.calls)
        self.calls.append(Entries)
        results = [
            {"ErrorCode": "InternalFailure"} if offset + i in self.refuse else {"EventId": "x"}
            for i in range(len(Entries))
        ]
        return {"FailedEntryCount": sum(1 for r in results if "ErrorCode" in r), "Entries": results}


@pytest.fixture
def bus(monkeypatch):
    from stepstore_functions import settings
    from stepstore_functions.events import publisher

    for key, value in Deployment(stage="unit").environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.delenv("EVENT_BUS_NAME", raising=False)
    settings.get_settings.cache_clear()
    fake = FakeEvents()
    monkeypatch.setattr(publisher, "client", lambda service: fake)
    yield fake
    settings.get_settings.cache_clear()


def _output_record(sequence: int) -> dict:
    return {
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "ApproximateCreationDateTime": 1767323045,
            "SequenceNumber": str(sequence),
            "NewImage": {
                "pk": {"S": "FLOW#alice#flow-1"},
                "sk": {"S": f"OUT#out{sequence}#00000"},
                "name": {"S": f"out{sequence}"},
                "producer_step": {"S": "load"},
                "position": {"N": "0"},
                "kind": {"S": "dict"},
                "data_format": {"S": "json"},
                "size": {"N": "10"},
                "etag": {"S": "e"},
            },
        },
    }


def test_events_go_out_in_batches_of_ten_to_the_stage_bus(bus):
    from stepstore_functions.events import stream

    result = stream.lambda_handler({"Records": [_output_record(n) for n in range(100, 123)]}, Context())

    assert result == {"batchItemFailures": []}
    assert [len(call) for call in bus.calls] == [10, 10, 3]
    assert {e["EventBusName"] for call in bus.calls for e in call} == {"stepstore-unit-events"}
    assert {e["DetailType"] for call in bus.calls for e in call} == {"OutputSaved"}


def test_a_refused_event_reports_its_record_for_retry(bus):
    from stepstore_functions.events import stream

    bus.refuse = {1}
    records = [_output_record(n) for n in (7, 8, 9)]
    result = stream.lambda_handler({"Records": records}, Context())
    assert result == {"batchItemFailures": [{"itemIdentifier": "8"}]}


def test_a_refused_fixture_event_fails_the_notification_so_lambda_retries(bus):
    from stepstore_functions.events import s3_notifications

    bus.refuse = {0}
    record = {
        "eventName": "ObjectCreated:Put",
        "eventTime": "2026-01-02T03:04:05.000Z",
        "s3": {"bucket": {"name": "b"}, "object": {"key": "fixture/a.csv", "size": 1, "eTag": "e"}},
    }
    with pytest.raises(s3_notifications.PublishError, match="refused 1 of 1"):
        s3_notifications.lambda_handler({"Records": [record]}, Context())
