"""Put StepStore events on the deployment's EventBridge bus, in PutEvents batches."""

from __future__ import annotations

import os
from collections.abc import Sequence

from stepstore_functions.dal.clients import client
from stepstore_functions.events.schema import StepStoreEvent, event_bus_name
from stepstore_functions.settings import get_settings

# PutEvents takes at most 10 entries per call.
_BATCH = 10


def bus_name() -> str:
    """EVENT_BUS_NAME as CDK sets it; otherwise the stage's bus by naming convention (local stack)."""
    return os.environ.get("EVENT_BUS_NAME") or event_bus_name(get_settings().stage)


def publish(events: Sequence[StepStoreEvent]) -> list[int]:
    """Put the events on the bus; returns the indexes (into `events`) of those that were not accepted."""
    failed: list[int] = []
    name = bus_name()
    for start in range(0, len(events), _BATCH):
        batch = events[start : start + _BATCH]
        response = client("events").put_events(Entries=[event.entry(name) for event in batch])
        if response.get("FailedEntryCount"):
            failed.extend(
                start + offset
                for offset, result in enumerate(response.get("Entries", []))
                if result.get("ErrorCode")
            )
    return failed
