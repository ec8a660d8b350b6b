"""The S3-notification publisher: objects created under the fixtures bucket's fixture area in,
FixtureUploaded events out. S3 invokes it asynchronously; a failed publish raises, so Lambda's
async retries (and the function's on-failure destination) keep the event."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from stepstore_functions.events.publisher import publish
from stepstore_functions.events.records import events_from_s3_record
from stepstore_functions.observability import observability
from stepstore_functions.settings import get_settings

logger, metrics, tracer = observability("stepstore-events")


class PublishError(RuntimeError):
    """The bus refused some events; raising makes Lambda retry the notification."""


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics(raise_on_empty_metrics=False)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    stage = get_settings().stage
    events = [e for record in event.get("Records", []) for e in events_from_s3_record(record, stage)]
    failed = publish(events) if events else []
    metrics.add_metric(name="EventsPublished", unit=MetricUnit.Count, value=len(events) - len(failed))
    if failed:
        metrics.add_metric(name="EventsFailed", unit=MetricUnit.Count, value=len(failed))
        raise PublishError(f"the event bus refused {len(failed)} of {len(events)} FixtureUploaded events")
    return {"published": len(events)}
