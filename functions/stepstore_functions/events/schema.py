"""The events StepStore publishes to its EventBridge bus: one detail model per detail-type.

Every event has ``source`` = ``stepstore`` and ``detail-type`` = one of `DetailType`; its
``detail`` is the matching model below, serialised as JSON. The models are the contract that
subscribers (rules, event-driven flows) rely on: fields are only ever added, never renamed or
removed, and ``schema_version`` changes when one would have to be. docs/events.md documents them.

Events carry names, ids, sizes and checksums, never values: an event-driven flow reads the data
through StoreInterface, where the caller's access is checked.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from stepstore_functions.resources import PROJECT

EVENT_SOURCE = "stepstore"
SCHEMA_VERSION = "1"


class DetailType(StrEnum):
    ASSET_CREATED = "AssetCreated"
    ASSET_UPDATED = "AssetUpdated"
    ASSET_DELETED = "AssetDeleted"
    OUTPUT_SAVED = "OutputSaved"
    STEP_COMPLETED = "StepCompleted"
    FIXTURE_UPLOADED = "FixtureUploaded"


def event_bus_name(stage: str) -> str:
    """The bus of one deployment stage (the CDK app and the local stack both name it so)."""
    return f"{PROJECT}-{stage}-events"


class EventDetail(BaseModel):
    """Fields every event's detail carries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal["1"] = SCHEMA_VERSION
    stage: str = Field(description="the deployment stage that published the event")
    occurred_at: datetime = Field(description="when the change happened (stream or S3 event time), UTC")


class OutputSaved(EventDetail):
    """A step saved (or replaced) a named output on its out-link."""

    owner: str
    flow_id: str
    step_name: str = Field(description="the step that produced the output")
    position: int = Field(description="that step's position in the flow, from 0")
    output_name: str
    kind: str = Field(description="dataframe, series, dict, int, float, bool, str or bytes")
    data_format: str = Field(description="parquet, json or raw")
    size: int = Field(description="bytes stored")
    etag: str
    replaced: bool = Field(description="True when the step had saved an output of that name before")


class StepCompleted(EventDetail):
    """A step's status became completed."""

    owner: str
    flow_id: str
    step_name: str
    position: int
    message: str = ""


class FixtureUploaded(EventDetail):
    """An object was written under the fixture area of the fixtures bucket."""

    bucket: str
    key: str = Field(description="the full object key, decoded, e.g. fixture/sales/2024.csv")
    fixture_name: str = Field(description="the key below the fixture area, e.g. sales/2024.csv")
    size: int
    etag: str
    version_id: str | None = None


class AssetChange(EventDetail):
    """An asset was created, got a new version (updated) or was deleted."""

    owner: str
    asset_id: str
    asset_type: str | None = None
    label: str | None = None
    name: str | None = None
    version: int | None = None


DETAIL_MODELS: dict[DetailType, type[EventDetail]] = {
    DetailType.ASSET_CREATED: AssetChange,
    DetailType.ASSET_UPDATED: AssetChange,
    DetailType.ASSET_DELETED: AssetChange,
    DetailType.OUTPUT_SAVED: OutputSaved,
    DetailType.STEP_COMPLETED: StepCompleted,
    DetailType.FIXTURE_UPLOADED: FixtureUploaded,
}


class StepStoreEvent(BaseModel):
    """One event as it goes on the bus (and as `parse_bus_event` reads it back)."""

    model_config = ConfigDict(frozen=True)

    detail_type: DetailType
    detail: EventDetail
    # What the event is about, for EventBridge's `resources` field (e.g. an S3 object ARN).
    resources: tuple[str, ...] = ()

    def entry(self, bus_name: str) -> dict[str, Any]:
        """The PutEvents entry for this event."""
        entry: dict[str, Any] = {
            "Source": EVENT_SOURCE,
            "DetailType": self.detail_type.value,
            "Detail": self.detail.model_dump_json(),
            "EventBusName": bus_name,
            "Time": self.detail.occurred_at,
        }
        if self.resources:
            entry["Resources"] = list(self.resources)
        return entry


def parse_detail(detail_type: str, detail: dict[str, Any]) -> EventDetail:
    """The typed detail of a bus event (what a subscriber's handler gets in ``event["detail"]``)."""
    model = DETAIL_MODELS[DetailType(detail_type)]
    return model.model_validate(detail)


def rule_pattern(*detail_types: DetailType, **detail: Any) -> dict[str, Any]:
    """An EventBridge rule pattern for StepStore events of these types (and detail filters).

    The CDK app and the local stack build their rules from the same patterns.
    """
    pattern: dict[str, Any] = {"source": [EVENT_SOURCE], "detail-type": [t.value for t in detail_types]}
    if detail:
        pattern["detail"] = detail
    return pattern
