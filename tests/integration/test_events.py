"""Events on the local stack: a fixture upload runs the example trigger's flow, and the streams
publish its OutputSaved and StepCompleted events, through the same handlers as in AWS."""

from __future__ import annotations

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
