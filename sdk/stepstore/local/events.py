"""StepStore's events on the local stack: the same publishers and triggers as in AWS, fed by moto.

In AWS, Lambda polls the tables' DynamoDB streams for the stream publisher, S3 invokes the
notification publisher, and EventBridge rules invoke the triggers. Here `LocalEvents` plays
those parts against moto, with the real handlers:

- it polls moto's DynamoDB streams of the streamed tables and invokes
  ``stepstore_functions.events.stream.lambda_handler`` with each batch of records;
- it points the fixtures bucket's notifications (ObjectCreated under ``fixture/``) at a moto SQS
  queue and invokes ``stepstore_functions.events.s3_notifications.lambda_handler`` with each S3
  event (whose keys moto URL-encodes, as S3 does);
- the publishers put events on moto's EventBridge bus, where rules with the same patterns as the
  CDK app's send them to SQS queues: one per trigger (invoking its handler) and one that records
  every event, so a caller can wait for one (`wait_for`).

The trigger runs in this process with this process's ``STEPSTORE_API_URL`` and ``STEPSTORE_TOKEN``,
as a Lambda function gets them from its configuration; pass ``trigger_token`` to set them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3

from stepstore.local.environment import EnvironmentPatch
from stepstore.local.gateway import LocalFunction

logger = logging.getLogger("stepstore.local.events")

Predicate = Callable[[dict[str, Any]], bool]

_ATTEMPTS = 3  # deliveries of one batch before its failed records are dead-lettered (as AWS would)
DELIVERED_KEPT = 10_000  # events `delivered` keeps, newest last
DEAD_LETTERS_KEPT = 1_000
STOP_GRACE_SECONDS = 2.0  # how long `stop` waits for deliveries in flight
_RECORDER_RULE = "recorder"


@dataclass(frozen=True)
class LocalTrigger:
    """A rule on the local bus and the handler it invokes (as a Lambda target would be)."""

    name: str
    pattern: dict[str, Any]
    handler: Callable[[dict[str, Any], Any], Any]
    # The CDK app's function key whose role the handler runs under when the stack enforces IAM.
    function: str | None = None


def example_triggers() -> list[LocalTrigger]:
    """The triggers that the CDK app deploys: the fixture flow."""
    from stepstore_functions.triggers import fixture_flow

    return [
        LocalTrigger(
            "fixture-flow", fixture_flow.RULE_PATTERN, fixture_flow.lambda_handler, function="fixture-trigger"
        )
    ]


class LocalEvents:
    """Deliver StepStore's events on a running `stepstore.local.LocalStack` until stopped.

    ::

        with LocalStack() as stack, LocalEvents(stack) as events:
            ...  # upload s3://<fixtures bucket>/fixture/sales.csv
            events.wait_for("StepCompleted", lambda e: e["detail"]["step_name"] == "summarise")

    Args:
        stack: the running local stack (its moto endpoint and environment are used).
        triggers: rules and handlers to subscribe; default: the deployed example triggers.
        trigger_token: the token the triggers' flows use; default: this process's STEPSTORE_TOKEN.
        poll_seconds: how often the DynamoDB streams are read.
        keep_delivered: how many recorded events `delivered` keeps (the oldest go first).

    A stream batch is delivered as Lambda's event source mapping does with ReportBatchItemFailures
    and bisect-on-error: retried from the first record the publisher reports, split in halves while
    the publisher raises, and a record that still fails is dead-lettered (`dead_letters`), never the
    records beside it.
    """

    def __init__(
        self,
        stack: Any,
        triggers: list[LocalTrigger] | None = None,
        *,
        trigger_token: str | None = None,
        poll_seconds: float = 0.2,
        keep_delivered: int = DELIVERED_KEPT,
    ) -> None:
        self.stack = stack
        self.triggers = example_triggers() if triggers is None else triggers
        self.trigger_token = trigger_token
        self.poll_seconds = poll_seconds
        self.delivered: deque[dict[str, Any]] = deque(maxlen=keep_delivered)
        self.dead_letters: deque[dict[str, Any]] = deque(maxlen=DEAD_LETTERS_KEPT)
        self._delivered_changed = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._environment = EnvironmentPatch()
        self._cleanup: list[Callable[[], None]] = []

    def __enter__(self) -> LocalEvents:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Wiring

    def _client(self, service: str, *, function: str | None = None) -> Any:
        """A client acting as this process (the operator), or as `function`'s role where IAM is enforced."""
        from stepstore.local.stack import REGION

        credentials = self._credentials(function)
        keys = (
            {
                "aws_access_key_id": credentials.access_key,
                "aws_secret_access_key": credentials.secret_key,
                "aws_session_token": credentials.token,
            }
            if credentials is not None
            else {}
        )
        return boto3.client(service, region_name=REGION, endpoint_url=self.stack.aws_endpoint_url, **keys)

    def _credentials(self, function: str | None) -> Any:
        lookup = getattr(self.stack, "function_credentials", None)
        return lookup(function) if function and lookup is not None else None

    def start(self) -> LocalEvents:
        from stepstore.local.stack import STAGE
        from stepstore_functions.events import s3_notifications, stream
        from stepstore_functions.events.schema import EVENT_SOURCE, event_bus_name
        from stepstore_functions.resources import FIXTURE_PREFIX, FIXTURES_BUCKET, TABLES, Deployment

        if self.trigger_token:
            self._environment.set(
                {"STEPSTORE_API_URL": self.stack.api_url, "STEPSTORE_TOKEN": self.trigger_token}
            )
        self._stop.clear()
        sqs, events, s3 = self._client("sqs"), self._client("events"), self._client("s3")
        bus = event_bus_name(STAGE)
        with contextlib.suppress(events.exceptions.ResourceAlreadyExistsException):
            events.create_event_bus(Name=bus)

        # Streams: start at LATEST, as a new event source mapping does.
        streams = []
        for table in TABLES:
            if table.stream:
                streams.append(self._stream_reader(table.physical_name(STAGE)))
        self._spawn(
            "streams",
            self._poll_streams,
            streams,
            LocalFunction("stepstore-events", stream.lambda_handler, self._credentials("stream-events")),
        )

        # S3 notifications of the fixtures bucket -> queue -> the notification publisher.
        bucket = FIXTURES_BUCKET.physical_name(STAGE, Deployment(stage=STAGE).account)
        queue_url, queue_arn = self._queue(sqs, "stepstore-local-s3-notifications")
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "Id": "fixture-uploaded",
                        "QueueArn": queue_arn,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": FIXTURE_PREFIX}]}},
                    }
                ]
            },
        )
        self._cleanup.append(
            lambda: s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
        )
        self._spawn(
            "s3-notifications",
            self._poll_queue,
            sqs,
            queue_url,
            LocalFunction(
                "stepstore-s3-events", s3_notifications.lambda_handler, self._credentials("s3-events")
            ).invoke,
        )

        # Rules on the bus: each trigger, and a recorder of every StepStore event.
        for trigger in self.triggers:
            url = self._rule(sqs, events, bus, trigger.name, trigger.pattern)
            self._spawn(
                f"trigger-{trigger.name}",
                self._poll_queue,
                sqs,
                url,
                LocalFunction(trigger.name, trigger.handler, self._credentials(trigger.function)).invoke,
            )
        url = self._rule(sqs, events, bus, _RECORDER_RULE, {"source": [EVENT_SOURCE]})
        self._spawn("recorder", self._poll_queue, sqs, url, self._record)
        return self

    def _queue(self, sqs: Any, name: str) -> tuple[str, str]:
        url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
        sqs.purge_queue(QueueUrl=url)  # a queue left by an earlier start holds nothing for us
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def _rule(self, sqs: Any, events: Any, bus: str, name: str, pattern: dict[str, Any]) -> str:
        url, arn = self._queue(sqs, f"stepstore-local-rule-{name}")
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern), State="ENABLED")
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "local", "Arn": arn}])
        self._cleanup.append(lambda: events.remove_targets(Rule=name, EventBusName=bus, Ids=["local"]))
        return url

    def _stream_reader(self, table_name: str) -> _StreamReader:
        stream_arn = self._client("dynamodb").describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        # Lambda reads a stream for its event source mapping with the function's own role.
        return _StreamReader(self._client("dynamodbstreams", function="stream-events"), stream_arn)

    def _spawn(self, name: str, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=f"stepstore-events-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self, grace_seconds: float = STOP_GRACE_SECONDS, *, unsubscribe: bool = True) -> None:
        """Stop delivering: wait up to `grace_seconds` for the pollers, then unsubscribe from moto
        (pass ``unsubscribe=False`` when the stack stops too: its moto goes with it).

        A delivery still running then (a trigger's flow midway) is left to finish on its own daemon
        thread, or to end with the process: a clean stop never waits for a flow to complete.
        """
        self._stop.set()
        deadline = time.monotonic() + grace_seconds
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        busy = [thread.name for thread in self._threads if thread.is_alive()]
        if busy:
            logger.warning("stopped with deliveries in flight: %s", ", ".join(busy))
        self._threads.clear()
        for undo in reversed(self._cleanup if unsubscribe else []):
            try:
                undo()
            except Exception:  # the stack may already be gone
                logger.debug("cleanup failed", exc_info=True)
        self._cleanup.clear()
        self._environment.restore()

    # Delivery

    def _poll_streams(self, readers: list[_StreamReader], function: LocalFunction) -> None:
        while not self._stop.is_set():
            for reader in readers:
                records = reader.peek()
                if records:
                    self._deliver_stream_batch(reader, records, function)
            self._stop.wait(self.poll_seconds)

    def _deliver_stream_batch(
        self, reader: _StreamReader, records: list[dict[str, Any]], function: LocalFunction
    ) -> None:
        for record in records:
            record.setdefault("eventSourceARN", reader.stream_arn)
            record.setdefault("eventSource", "aws:dynamodb")
        self._deliver_records(records, function)
        reader.advance()

    def _deliver_records(self, records: list[dict[str, Any]], function: LocalFunction) -> None:
        pending = records
        reported: set[str] = set()
        raised = False
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                result = function.invoke({"Records": pending}) or {}
            except Exception:
                logger.exception("stream publisher failed on %d records (attempt %d)", len(pending), attempt)
                raised = True
                continue
            raised = False
            reported = {str(f.get("itemIdentifier")) for f in result.get("batchItemFailures") or []}
            if not reported:
                return
            logger.warning("stream publisher reported %d failures (attempt %d)", len(reported), attempt)
            # Lambda retries from the first reported record; the ones before it are done.
            first = next((i for i, r in enumerate(pending) if _sequence_number(r) in reported), 0)
            pending = pending[first:]
        if raised and len(pending) > 1:
            half = len(pending) // 2
            self._deliver_records(pending[:half], function)
            self._deliver_records(pending[half:], function)
            return
        failed = pending if raised else [r for r in pending if _sequence_number(r) in reported]
        for record in failed:
            logger.error("dead-lettered stream record %s", _sequence_number(record))
            self.dead_letters.append(record)

    def _poll_queue(self, sqs: Any, queue_url: str, deliver: Callable[[dict[str, Any]], Any]) -> None:
        while not self._stop.is_set():
            try:
                response = sqs.receive_message(
                    QueueUrl=queue_url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=1,
                    AttributeNames=["ApproximateReceiveCount"],
                )
            except Exception:
                if self._stop.is_set():
                    return
                logger.exception("receiving from %s failed", queue_url)
                self._stop.wait(1)
                continue
            for message in response.get("Messages", []):
                received = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
                try:
                    deliver(json.loads(message["Body"]))
                except Exception:
                    logger.exception("delivery from %s failed (attempt %d)", queue_url, received)
                    if received < _ATTEMPTS:
                        continue  # visible again after the visibility timeout: retried, as Lambda would
                    self.dead_letters.append(message)
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _record(self, event: dict[str, Any]) -> None:
        with self._delivered_changed:
            self.delivered.append(event)
            self._delivered_changed.notify_all()

    def wait_for(
        self, detail_type: str, predicate: Predicate | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        """The first delivered event of `detail_type` that `predicate` accepts, waiting up to `timeout` s.

        Raises TimeoutError naming what was awaited and what did arrive.
        """
        deadline = time.monotonic() + timeout
        with self._delivered_changed:
            while True:
                for event in self.delivered:
                    if event.get("detail-type") == detail_type and (predicate is None or predicate(event)):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = sorted({str(e.get("detail-type")) for e in self.delivered})
                    raise TimeoutError(
                        f"no {detail_type} event matching the predicate arrived within {timeout} s; "
                        f"delivered so far: {len(self.delivered)} events of types {seen}"
                    )
                self._delivered_changed.wait(remaining)


class _StreamReader:
    """One table's stream shard (moto keeps one per table), read from LATEST onwards."""

    def __init__(self, streams: Any, stream_arn: str) -> None:
        self.streams = streams
        self.stream_arn = stream_arn
        shard_id = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self._iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="LATEST"
        )["ShardIterator"]
        self._next: str | None = None

    def peek(self) -> list[dict[str, Any]]:
        """The records after the last delivered batch (delivered again until `advance`)."""
        response = self.streams.get_records(ShardIterator=self._iterator, Limit=100)
        self._next = response.get("NextShardIterator")
        return _as_lambda_records(response.get("Records", []))

    def advance(self) -> None:
        if self._next:
            self._iterator = self._next


def _sequence_number(record: dict[str, Any]) -> str:
    return str((record.get("dynamodb") or {}).get("SequenceNumber", ""))


def _as_lambda_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GetRecords output -> the records of a Lambda DynamoDB event (times as epoch seconds)."""
    converted = []
    for record in records:
        record = dict(record)
        dynamodb = dict(record.get("dynamodb") or {})
        created = dynamodb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            dynamodb["ApproximateCreationDateTime"] = created.timestamp()
        record["dynamodb"] = dynamodb
        converted.append(record)
    return converted
