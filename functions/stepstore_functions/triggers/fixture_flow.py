"""The example trigger: a fixture is uploaded, a flow ingests and summarises it.

A rule on the StepStore bus (`RULE_PATTERN`) invokes `lambda_handler` with each FixtureUploaded
event. The handler runs a two-step `stepstore.Flow` through the SDK, as any flow would:

- ``ingest`` reads the fixture from the fixtures bucket and saves it as the output ``fixture``
  (bytes, as uploaded) with ``fixture_info`` (bucket, key, size, etag);
- ``summarise`` reads ``fixture`` from its in-link and saves ``summary`` (bytes, lines, header).

The flow's id comes from the fixture name and the event id, so EventBridge's at-least-once
delivery resumes the same flow (completed steps are skipped) instead of starting a second one.

The SDK needs ``STEPSTORE_API_URL`` (set by CDK to the API's URL) and a token: the secret named by
``STEPSTORE_TOKEN_SECRET_ARN`` (a service user's token, which an operator stores after deploying),
or, where no secret is configured (the local stack), ``STEPSTORE_TOKEN`` from the environment.
The secret starts as `TOKEN_NOT_SET`: until an operator stores a token, each event is skipped with
one log line and the ``TriggerTokenMissing`` metric (alarmed), instead of failing into the
dead-letter queue.
"""

from __future__ import annotations

import io
import os
import re
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext

from stepstore_functions.dal.clients import client
from stepstore_functions.events.schema import DetailType, FixtureUploaded, rule_pattern
from stepstore_functions.observability import observability
from stepstore_functions.resources import FIXTURE_PREFIX

logger, metrics, tracer = observability("stepstore-trigger")

# The rule that subscribes this function (the CDK app and the local stack both use it).
RULE_PATTERN = rule_pattern(DetailType.FIXTURE_UPLOADED, key=[{"prefix": FIXTURE_PREFIX}])

FLOW_NAME = "fixture-ingest"
# The whole fixture passes through this function's memory; larger ones fail the flow clearly.
MAX_FIXTURE_BYTES = 256 * 1024 * 1024
TOKEN_ENV = "STEPSTORE_TOKEN"
TOKEN_SECRET_ENV = "STEPSTORE_TOKEN_SECRET_ARN"
# What the CDK app stores in the token secret at first (infra/components/connections.py).
TOKEN_NOT_SET = "not-set: store a service token (README, Deploying: the trigger token)"

_UNSAFE = re.compile(r"[^A-Za-z0-9_.@+()\-]+")


def flow_id_for(fixture: FixtureUploaded, event_id: str) -> str:
    """A valid, stable flow id: the fixture name made safe, plus the event id."""
    safe = _UNSAFE.sub("-", fixture.fixture_name).strip("-.") or "fixture"
    return f"{FLOW_NAME}-{safe[:80]}-{event_id.replace('-', '')[:12]}"


def build_flow(fixture: FixtureUploaded) -> Any:
    """The flow that this trigger runs for one uploaded fixture."""
    from stepstore import Flow

    flow = Flow(FLOW_NAME)

    @flow.step("ingest")
    def ingest(store: Any) -> None:
        if fixture.size > MAX_FIXTURE_BYTES:
            raise ValueError(
                f"fixture {fixture.key!r} is {fixture.size} bytes; "
                f"this flow ingests at most {MAX_FIXTURE_BYTES}"
            )
        request: dict[str, Any] = {"Bucket": fixture.bucket, "Key": fixture.key}
        if fixture.version_id:
            request["VersionId"] = fixture.version_id
        body = client("s3").get_object(**request)["Body"].read()
        store.save_output(io.BytesIO(body), "fixture")
        store.save_output(
            {"bucket": fixture.bucket, "key": fixture.key, "size": len(body), "etag": fixture.etag},
            "fixture_info",
        )

    @flow.step("summarise")
    def summarise(store: Any) -> None:
        data = store.get_input("fixture").getvalue()
        lines = data.splitlines()
        header = lines[0].decode("utf-8", errors="replace")[:500] if lines else ""
        store.save_output({"bytes": len(data), "lines": len(lines), "header": header}, "summary")

    return flow


def _sdk_environment() -> bool:
    """Give the SDK its token: from the secret when one is configured (read at most every five
    minutes, so a rotated token is picked up), else the environment's own (the local stack).
    False when the secret holds no token yet (the operator has not stored one)."""
    from stepstore_functions.logic.users import TOKEN_PREFIX

    secret_arn = os.environ.get(TOKEN_SECRET_ENV)
    if secret_arn:
        token = str(parameters.get_secret(secret_arn, max_age=300)).strip()
        if not token.startswith(TOKEN_PREFIX):
            return False
        os.environ[TOKEN_ENV] = token
    elif not os.environ.get(TOKEN_ENV):
        raise RuntimeError(f"the trigger needs {TOKEN_SECRET_ENV} or {TOKEN_ENV} in its environment")
    return True


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics(raise_on_empty_metrics=False)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    fixture = FixtureUploaded.model_validate(event["detail"])
    flow_id = flow_id_for(fixture, str(event.get("id") or context.aws_request_id))
    logger.append_keys(flow_id=flow_id, fixture_key=fixture.key)
    if not _sdk_environment():
        # Not an error to retry: nothing changes until an operator stores a token.
        metrics.add_metric(name="TriggerTokenMissing", unit=MetricUnit.Count, value=1)
        logger.warning(
            "fixture skipped: no service token stored in the trigger token secret yet "
            "(README, Deploying: the trigger token)"
        )
        return {"flow_id": flow_id, "status": "skipped", "reason": "trigger token not set"}
    run = build_flow(fixture).run(flow_id=flow_id)  # raises FlowFailedError: Lambda retries the event
    metrics.add_metric(name="FixtureFlowsCompleted", unit=MetricUnit.Count, value=1)
    logger.info("fixture flow completed")
    return {"flow_id": run.flow_id, "status": run.status.status.value}
