"""The DynamoDB-stream publisher: metadata and links table changes in, StepStore events out.

Subscribed to both tables' streams with ReportBatchItemFailures: when the bus refuses an event,
the record it came from is reported, and Lambda retries the batch from there (so a
subscriber may see an event twice, never miss one; events carry what makes them idempotent).

One record that cannot be read (an image with a value the deserializer refuses) never costs the
others their events: it is logged and reported on its own, and every other record is published.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from stepstore_functions.events.publisher import publish
from stepstore_functions.events.records import events_from_stream_record, stream_record_time
from stepstore_functions.observability import observability
from stepstore_functions.settings import get_settings

logger, metrics, tracer = observability("stepstore-events")


@logger.inject_lambda_context(log_event=False)  # images hold user data: log keys and counts only
@metrics.log_metrics(raise_on_empty_metrics=False)
@tracer.capture_lambda_handler(capture_response=False)
@event_source(data_class=DynamoDBStreamEvent)
def lambda_handler(event: DynamoDBStreamEvent, context: LambdaContext) -> dict[str, Any]:
    stage = get_settings().stage
    events = []
    sources: list[str] = []  # the sequence number of the record each event came from
    unreadable: list[str] = []
    for record in event.records:
        try:
            stream = record.dynamodb
            if stream is None:
                continue
            sequence = str(stream.sequence_number)
            produced = events_from_stream_record(
                str(record.event_name.name if record.event_name else ""),
                stream.old_image or None,
                stream.new_image or None,
                stream_record_time(stream.approximate_creation_date_time),
                stage,
            )
        except Exception:
            sequence = _sequence_number(record.raw_event)
            logger.exception("unreadable stream record", extra={"sequence_number": sequence})
            unreadable.append(sequence)
            continue
        events.extend(produced)
        sources.extend([sequence] * len(produced))
    failed = publish(events) if events else []
    metrics.add_metric(name="EventsPublished", unit=MetricUnit.Count, value=len(events) - len(failed))
    if failed or unreadable:
        metrics.add_metric(name="EventsFailed", unit=MetricUnit.Count, value=len(failed) + len(unreadable))
        logger.warning(
            "events not published",
            extra={
                "failed": len(failed),
                "unreadable": len(unreadable),
                "published": len(events) - len(failed),
            },
        )
    # Only the records that failed; Lambda retries from the lowest reported sequence number of the batch.
    reported = dict.fromkeys([*unreadable, *(sources[i] for i in sorted(set(failed)))])
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in reported]}


def _sequence_number(raw: dict[str, Any]) -> str:
    return str((raw.get("dynamodb") or {}).get("SequenceNumber") or raw.get("eventID") or "")
