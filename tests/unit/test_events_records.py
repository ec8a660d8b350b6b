"""Which stream records and S3 notifications become which StepStore events (pure mapping)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from stepstore_functions.events.records import events_from_s3_record, events_from_stream_record
from stepstore_functions.events.schema import DetailType, parse_detail, rule_pattern
from stepstore_functions.triggers.fixture_flow import RULE_PATTERN, flow_id_for

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _output(**overrides):
    item = {
        "pk": "FLOW#alice#flow-1",
        "sk": "OUT#sales#00001",
        "name": "sales",
        "producer_step": "load",
        "position": Decimal(1),
        "kind": "dataframe",
        "data_format": "parquet",
        "size": Decimal(2048),
        "etag": "abc",
        "key": "data/alice/flow-1/sales",
    }
    return {**item, **overrides}


def _step(status, **overrides):
    item = {
        "pk": "FLOW#alice#flow-1",
        "sk": "STEP#load",
        "name": "load",
        "position": Decimal(0),
        "status": status,
    }
    return {**item, "message": "", **overrides}


def test_a_new_output_is_output_saved_without_its_value():
    (event,) = events_from_stream_record("INSERT", None, _output(inline='{"secret": 1}'), NOW, "dev")
    assert event.detail_type is DetailType.OUTPUT_SAVED
    detail = json.loads(event.entry("bus")["Detail"])
    assert detail["owner"] == "alice" and detail["flow_id"] == "flow-1"
    assert detail["output_name"] == "sales" and detail["step_name"] == "load" and detail["position"] == 1
    assert detail["replaced"] is False and detail["size"] == 2048
    assert "secret" not in event.entry("bus")["Detail"]  # values never travel in events


def test_a_replaced_output_is_output_saved_marked_replaced():
    (event,) = events_from_stream_record("MODIFY", _output(), _output(etag="def"), NOW, "dev")
    assert event.detail.replaced is True


def test_flow_ids_with_hashes_in_them_keep_them():
    (event,) = events_from_stream_record("INSERT", None, _output(pk="FLOW#bob#a#b"), NOW, "dev")
    assert (event.detail.owner, event.detail.flow_id) == ("bob", "a#b")


@pytest.mark.parametrize(
    ("old", "new", "published"),
    [
        (_step("running"), _step("completed"), True),
        (None, _step("completed"), True),
        (_step("completed"), _step("completed", message="again"), False),
        (_step("pending"), _step("running"), False),
        (_step("running"), _step("failed"), False),
    ],
)
def test_step_completed_only_on_the_transition(old, new, published):
    events = events_from_stream_record("MODIFY" if old else "INSERT", old, new, NOW, "dev")
    assert bool(events) is published
    if published:
        assert events[0].detail_type is DetailType.STEP_COMPLETED
        assert events[0].detail.step_name == "load"


def _asset_head(version, **overrides):
    item = {
        "pk": "ASSET#a1",
        "sk": "HEAD",
        "asset_id": "a1",
        "owner": "alice",
        "asset_type": "Model",
        "label": "churn",
        "name": "churn model",
        "version": Decimal(version),
    }
    return {**item, **overrides}


def test_asset_heads_publish_created_updated_and_deleted():
    (created,) = events_from_stream_record("INSERT", None, _asset_head(1), NOW, "dev")
    (updated,) = events_from_stream_record("MODIFY", _asset_head(1), _asset_head(2), NOW, "dev")
    (deleted,) = events_from_stream_record("REMOVE", _asset_head(2), None, NOW, "dev")
    assert [e.detail_type for e in (created, updated, deleted)] == [
        DetailType.ASSET_CREATED,
        DetailType.ASSET_UPDATED,
        DetailType.ASSET_DELETED,
    ]
    assert updated.detail.version == 2 and deleted.detail.asset_id == "a1"
    assert created.detail.asset_type == "Model" and created.detail.label == "churn"


def test_asset_rewrites_of_the_same_version_and_version_items_publish_nothing():
    same = events_from_stream_record("MODIFY", _asset_head(1), _asset_head(1, gsi1sk="x"), NOW, "dev")
    version_item = events_from_stream_record("INSERT", None, _asset_head(1, sk="V#00000001"), NOW, "dev")
    assert same == [] and version_item == []


@pytest.mark.parametrize(
    "item",
    [
        {"pk": "USER#alice", "sk": "USER", "name": "alice"},
        {"pk": "TOKEN#abc", "sk": "TOKEN", "user": "alice"},
        {"pk": "UPLOAD#u1", "sk": "UPLOAD"},
    ],
)
def test_other_items_publish_nothing(item):
    assert events_from_stream_record("INSERT", None, item, NOW, "dev") == []
    assert events_from_stream_record("REMOVE", item, None, NOW, "dev") == []


def _s3_record(key, event_name="ObjectCreated:Put"):
    return {
        "eventName": event_name,
        "eventTime": "2026-01-02T03:04:05.000Z",
        "s3": {
            "bucket": {"name": "fixtures"},
            "object": {"key": key, "size": 12, "eTag": "e1", "versionId": "v1"},
        },
    }


def test_fixture_keys_arrive_url_encoded_and_are_decoded():
    (event,) = events_from_s3_record(_s3_record("fixture/sales/2024+q1%2Bnorth.csv"), "dev")
    assert event.detail.key == "fixture/sales/2024 q1+north.csv"
    assert event.detail.fixture_name == "sales/2024 q1+north.csv"
    assert event.detail.occurred_at == NOW
    assert event.resources == ("arn:aws:s3:::fixtures/fixture/sales/2024 q1+north.csv",)


@pytest.mark.parametrize(
    "record",
    [
        _s3_record("staging/fixtures/u1"),
        _s3_record("fixture/dir/"),
        _s3_record("fixture/a.csv", event_name="ObjectRemoved:Delete"),
    ],
)
def test_staging_objects_folders_and_deletions_are_not_fixture_uploads(record):
    assert events_from_s3_record(record, "dev") == []


def test_details_parse_back_into_their_models():
    (event,) = events_from_stream_record("INSERT", None, _output(), NOW, "dev")
    entry = event.entry("bus")
    assert parse_detail(entry["DetailType"], json.loads(entry["Detail"])) == event.detail


def test_the_trigger_pattern_matches_fixture_uploads_only():
    assert rule_pattern(DetailType.FIXTURE_UPLOADED, key=[{"prefix": "fixture/"}]) == RULE_PATTERN
    assert RULE_PATTERN["source"] == ["stepstore"]


def test_trigger_flow_ids_are_valid_names_and_stable_per_event():
    (event,) = events_from_s3_record(_s3_record("fixture/a b/c#d.csv"), "dev")
    flow_id = flow_id_for(event.detail, "0b1c2d3e-aaaa-bbbb")
    assert flow_id == flow_id_for(event.detail, "0b1c2d3e-aaaa-bbbb")
    assert flow_id.startswith("fixture-ingest-a-b-c-d.csv-")
    assert "#" not in flow_id and "/" not in flow_id and " " not in flow_id
