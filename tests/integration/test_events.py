"""Events on the local stack: a fixture upload runs the example trigger's flow, and the streams
publish its OutputSaved and StepCompleted events, through the same handlers as in AWS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import boto3
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def events(stack) -> Iterator[object]:
    from stepstore.local.events import LocalEvents

    with LocalEvents(stack) as delivering:
        yield delivering


def _fixtures_bucket() -> str:
    from stepstore.local.stack import STAGE
    from stepstore_functions.resources import FIXTURES_BUCKET

    return FIXTURES_BUCKET.physical_name(STAGE)


def test_uploaded_fixture_runs_the_trigger_flow_and_its_events_are_delivered(stack, events, make_user):
    from stepstore import StepStatus, StoreInterface

    # Given a service user whose token the trigger uses (this process's STEPSTORE_TOKEN)
    trigger_user = make_user("trigger", role="service")
    # A space and a plus: S3 notifications form-encode keys, the event must carry them decoded.
    key = f"fixture/events/{uuid.uuid4().hex[:8]} sales+2024.csv"
    body = b"region,units\nnorth,3\nsouth,5\n"

    # When the fixture is uploaded straight to the fixtures bucket
    s3 = boto3.client("s3", endpoint_url=stack.aws_endpoint_url, region_name="us-east-1")
    s3.put_object(Bucket=_fixtures_bucket(), Key=key, Body=body)

    # Then FixtureUploaded is published with the decoded key
    uploaded = events.wait_for("FixtureUploaded", lambda e: e["detail"]["key"] == key)
    assert uploaded["source"] == "stepstore"
    assert uploaded["detail"]["fixture_name"] == key.removeprefix("fixture/")
    assert uploaded["detail"]["size"] == len(body)

    # And the trigger's flow completes: its last step's StepCompleted and its summary's OutputSaved arrive
    def of_trigger_flow(event: dict) -> bool:
        return event["detail"]["owner"] == trigger_user.name and event["detail"]["flow_id"].startswith(
            "fixture-ingest-"
        )

    completed = events.wait_for(
        "StepCompleted", lambda e: of_trigger_flow(e) and e["detail"]["step_name"] == "summarise", timeout=60
    )
    flow_id = completed["detail"]["flow_id"]
    assert completed["detail"]["position"] == 1
    saved = events.wait_for(
        "OutputSaved", lambda e: e["detail"]["flow_id"] == flow_id and e["detail"]["output_name"] == "summary"
    )
    assert saved["detail"]["step_name"] == "summarise"
    assert saved["detail"]["kind"] == "dict"
    ingest_done = events.wait_for(
        "StepCompleted", lambda e: e["detail"]["flow_id"] == flow_id and e["detail"]["step_name"] == "ingest"
    )
    assert ingest_done["detail"]["position"] == 0

    # And the flow's outputs are what the trigger computed from the fixture
    store = StoreInterface(flow_id, step_name="summarise")
    assert store.get_flow_status().status is StepStatus.COMPLETED
    assert store.get_input("summary", step_name="summarise") == {
        "bytes": len(body),
        "lines": 3,
        "header": "region,units",
    }
    assert store.get_input("fixture").getvalue() == body


def test_objects_outside_the_fixture_area_publish_nothing(stack, events, make_user):
    # Given an object written beside the fixture area, then one inside it
    make_user("trigger", role="service")
    s3 = boto3.client("s3", endpoint_url=stack.aws_endpoint_url, region_name="us-east-1")
    marker = uuid.uuid4().hex[:8]
    s3.put_object(Bucket=_fixtures_bucket(), Key=f"other/{marker}.csv", Body=b"a\n")
    s3.put_object(Bucket=_fixtures_bucket(), Key=f"fixture/{marker}.csv", Body=b"a\n")

    # When the one inside has been published (events from one bucket arrive in order here)
    events.wait_for("FixtureUploaded", lambda e: e["detail"]["key"] == f"fixture/{marker}.csv")

    # Then the one outside never was (and the one inside ran its flow to the end)
    events.wait_for(
        "StepCompleted",
        lambda e: marker in e["detail"]["flow_id"] and e["detail"]["step_name"] == "summarise",
        timeout=60,
    )
    keys = [e["detail"].get("key") for e in events.delivered if e["detail-type"] == "FixtureUploaded"]
    assert f"other/{marker}.csv" not in keys


# The trigger's Lambda bundle has no pandas or pyarrow (only the API's pure-Python dependencies):
# its flow must run with both unimportable.
_TRIGGER_WITHOUT_PANDAS = """
import json, os, sys, uuid
sys.modules["pandas"] = None
sys.modules["pyarrow"] = None
import boto3
from stepstore.local import LocalStack
from stepstore.local.gateway import LambdaContext
from stepstore.local.stack import STAGE

with LocalStack() as stack:
    os.environ.update(STEPSTORE_API_URL=stack.api_url, STEPSTORE_TOKEN=stack.create_user("t", role="service"))
    from stepstore_functions.resources import FIXTURES_BUCKET
    from stepstore_functions.triggers import fixture_flow

    bucket = FIXTURES_BUCKET.physical_name(STAGE)
    s3 = boto3.client("s3", endpoint_url=stack.aws_endpoint_url, region_name="us-east-1")
    s3.put_object(Bucket=bucket, Key="fixture/x.csv", Body=b"a,b\\n1,2\\n")
    detail = {"stage": STAGE, "occurred_at": "2026-01-01T00:00:00Z", "bucket": bucket, "key": "fixture/x.csv",
              "fixture_name": "x.csv", "size": 8, "etag": "e"}
    result = fixture_flow.lambda_handler({"id": str(uuid.uuid4()), "detail": detail}, LambdaContext("t", "r"))
    print(json.dumps(result))
"""


def test_the_trigger_flow_runs_without_pandas_or_pyarrow():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STEPSTORE_"))}
    result = subprocess.run(
        [sys.executable, "-c", _TRIGGER_WITHOUT_PANDAS], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"] == "completed"
    assert outcome["flow_id"].startswith("fixture-ingest-x.csv-")
