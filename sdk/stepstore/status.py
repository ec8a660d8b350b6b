"""Typed views of a flow's state, as StoreInterface.get_flow_status returns it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stepstore.client import ApiClient

# Steps asked for per page (the most the API gives at once).
PAGE = 1000


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class StepState:
    """One step: where it stands in the flow, its status, progress (0-100) and last message."""

    name: str
    position: int
    status: StepStatus
    progress: float
    message: str
    previous_step: str | None
    updated_at: datetime

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> StepState:
        return cls(
            name=body["name"],
            position=body["position"],
            status=StepStatus(body["status"]),
            progress=float(body["progress"]),
            message=body["message"],
            previous_step=body.get("previous_step"),
            updated_at=datetime.fromisoformat(body["updated_at"]),
        )


@dataclass(frozen=True)
class FlowStatus:
    """A flow's steps in order, and the one it is at now."""

    flow_id: str
    owner: str
    current_step: str | None
    steps: tuple[StepState, ...]

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> FlowStatus:
        return cls(
            flow_id=body["flow_id"],
            owner=body["owner"],
            current_step=body.get("current_step"),
            steps=tuple(StepState.from_api(s) for s in body["steps"]),
        )

    def step(self, name: str) -> StepState:
        for state in self.steps:
            if state.name == name:
                return state
        raise KeyError(name)

    @property
    def status(self) -> StepStatus:
        """failed if any step failed, completed if all did, running once any started, else pending."""
        statuses = {s.status for s in self.steps}
        if StepStatus.FAILED in statuses:
            return StepStatus.FAILED
        if statuses == {StepStatus.COMPLETED}:
            return StepStatus.COMPLETED
        if statuses & {StepStatus.RUNNING, StepStatus.COMPLETED}:
            return StepStatus.RUNNING
        return StepStatus.PENDING

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_flow(api: ApiClient, flow_path: str) -> dict[str, Any]:
    """`GET /flows/{flow}` with every page of its steps joined, in order."""
    body: dict[str, Any] | None = None
    for page in api.pages(flow_path, limit=PAGE):
        if body is None:
            body = page
        else:
            body["steps"].extend(page["steps"])
    assert body is not None
    body["next"] = None
    return body
