"""Map DynamoDB stream records and S3 notification records to StepStore events (pure functions).

Item shapes are those of dal/tables.py and dal/outputs.py:

- links table, sk ``OUT#<name>#<position>`` (OutputItem): INSERT or MODIFY -> OutputSaved.
- metadata table, sk ``STEP#<name>`` (StepItem): status becoming ``completed`` -> StepCompleted.
- metadata table, pk ``ASSET#<id>`` sk ``HEAD`` (AssetHeadItem in dal/assets.py, the asset's
  current version): INSERT -> AssetCreated, MODIFY that changes the version (or label, name,
  type) -> AssetUpdated, REMOVE -> AssetDeleted. Version items, label claims and shares publish
  nothing: the head changes with every version that matters.

Everything else (users, tokens, uploads expiring by TTL, pages, ...) publishes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

from stepstore_functions.events.schema import (
    AssetChange,
    DetailType,
    FixtureUploaded,
    OutputSaved,
    StepCompleted,
    StepStoreEvent,
)
from stepstore_functions.resources import FIXTURE_PREFIX

ASSET_PK_PREFIX = "ASSET#"
ASSET_HEAD_SK = "HEAD"
OUTPUT_SK_PREFIX = "OUT#"
STEP_SK_PREFIX = "STEP#"
COMPLETED = "completed"

Image = Mapping[str, Any]


def _flow_key(pk: str) -> tuple[str, str] | None:
    """(owner, flow_id) from ``FLOW#<owner>#<flow_id>``; user and flow names never contain '#'."""
    parts = pk.split("#", 2)
    if len(parts) != 3 or parts[0] != "FLOW":
        return None
    return parts[1], parts[2]


def events_from_stream_record(
    event_name: str, old: Image | None, new: Image | None, occurred_at: datetime, stage: str
) -> list[StepStoreEvent]:
    """The events one stream record (INSERT, MODIFY or REMOVE, with its deserialised images) means."""
    image = new or old or {}
    sk = str(image.get("sk", ""))
    if sk.startswith(OUTPUT_SK_PREFIX) and new is not None and event_name in ("INSERT", "MODIFY"):
        return _output_saved(event_name, new, occurred_at, stage)
    if sk.startswith(STEP_SK_PREFIX) and new is not None:
        return _step_completed(old, new, occurred_at, stage)
    if sk == ASSET_HEAD_SK and str(image.get("pk", "")).startswith(ASSET_PK_PREFIX):
        return _asset_change(event_name, old, new, occurred_at, stage)
    return []


def _output_saved(event_name: str, new: Image, occurred_at: datetime, stage: str) -> list[StepStoreEvent]:
    flow = _flow_key(str(new.get("pk", "")))
    if flow is None:
        return []
    owner, flow_id = flow
    detail = OutputSaved(
        stage=stage,
        occurred_at=occurred_at,
        owner=owner,
        flow_id=flow_id,
        step_name=str(new["producer_step"]),
        position=int(new["position"]),
        output_name=str(new["name"]),
        kind=str(new["kind"]),
        data_format=str(new["data_format"]),
        size=int(new["size"]),
        etag=str(new["etag"]),
        replaced=event_name == "MODIFY",
    )
    return [StepStoreEvent(detail_type=DetailType.OUTPUT_SAVED, detail=detail)]


def _step_completed(old: Image | None, new: Image, occurred_at: datetime, stage: str) -> list[StepStoreEvent]:
    # Only the transition counts: progress updates on an already completed step publish nothing.
    if new.get("status") != COMPLETED or (old is not None and old.get("status") == COMPLETED):
        return []
    flow = _flow_key(str(new.get("pk", "")))
    if flow is None:
        return []
    owner, flow_id = flow
    detail = StepCompleted(
        stage=stage,
        occurred_at=occurred_at,
        owner=owner,
        flow_id=flow_id,
        step_name=str(new.get("name") or str(new["sk"])[len(STEP_SK_PREFIX) :]),
        position=int(new.get("position", 0)),
        message=str(new.get("message") or ""),
    )
    return [StepStoreEvent(detail_type=DetailType.STEP_COMPLETED, detail=detail)]


_ASSET_DETAIL_TYPE = {
    "INSERT": DetailType.ASSET_CREATED,
    "MODIFY": DetailType.ASSET_UPDATED,
    "REMOVE": DetailType.ASSET_DELETED,
}


def _optional_str(image: Image, *names: str) -> str | None:
    for name in names:
        if image.get(name) is not None:
            return str(image[name])
    return None


_ASSET_IDENTITY = ("version", "asset_type", "label", "name")


def _asset_change(
    event_name: str, old: Image | None, new: Image | None, occurred_at: datetime, stage: str
) -> list[StepStoreEvent]:
    detail_type = _ASSET_DETAIL_TYPE.get(event_name)
    image = new or old or {}
    unchanged = old is not None and new is not None and all(old.get(f) == new.get(f) for f in _ASSET_IDENTITY)
    if detail_type is DetailType.ASSET_UPDATED and unchanged:
        return []  # a rewrite of the same version (e.g. its index keys): nothing a subscriber cares about
    asset_id = _optional_str(image, "asset_id") or str(image["pk"])[len(ASSET_PK_PREFIX) :]
    owner = _optional_str(image, "owner")
    if detail_type is None or owner is None:
        return []
    version = image.get("version")
    detail = AssetChange(
        stage=stage,
        occurred_at=occurred_at,
        owner=owner,
        asset_id=asset_id,
        asset_type=_optional_str(image, "asset_type"),
        label=_optional_str(image, "label"),
        name=_optional_str(image, "name"),
        version=int(version) if version is not None else None,
    )
    return [StepStoreEvent(detail_type=detail_type, detail=detail)]


def events_from_s3_record(record: Mapping[str, Any], stage: str) -> list[StepStoreEvent]:
    """FixtureUploaded for an object created under the fixture area; nothing for anything else.

    S3 notifications URL-encode the key (form encoding: a space arrives as '+'), so it is decoded.
    """
    if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
        return []
    s3 = record.get("s3") or {}
    bucket = str((s3.get("bucket") or {}).get("name", ""))
    obj = s3.get("object") or {}
    key = unquote_plus(str(obj.get("key", "")))
    if not key.startswith(FIXTURE_PREFIX) or key.endswith("/"):
        return []
    occurred_at = _parse_time(record.get("eventTime"))
    detail = FixtureUploaded(
        stage=stage,
        occurred_at=occurred_at,
        bucket=bucket,
        key=key,
        fixture_name=key[len(FIXTURE_PREFIX) :],
        size=int(obj.get("size") or 0),
        etag=str(obj.get("eTag") or obj.get("etag") or "").strip('"'),
        version_id=obj.get("versionId"),
    )
    return [
        StepStoreEvent(
            detail_type=DetailType.FIXTURE_UPLOADED,
            detail=detail,
            resources=(f"arn:aws:s3:::{bucket}/{key}",),
        )
    ]


def _parse_time(value: Any) -> datetime:
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


def stream_record_time(approximate_creation: Any) -> datetime:
    """A stream record's ApproximateCreationDateTime (epoch seconds) as a UTC datetime."""
    if approximate_creation is None:
        return datetime.now(UTC)
    if isinstance(approximate_creation, datetime):
        return approximate_creation.astimezone(UTC)
    return datetime.fromtimestamp(float(approximate_creation), tz=UTC)
