"""Flows and steps: appending, status, progress."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from stepstore_functions.dal import flows as flow_store
from stepstore_functions.dal.cursors import page_size
from stepstore_functions.models.domain import Actor, Flow, FlowSummary, Step, StepStatus, valid_name
from stepstore_functions.models.errors import InvalidInputError, NotFoundError

MAX_LISTED_FLOWS = 1000
_MAX_CURSOR = 1024


def open_step(actor: Actor, flow_id: str, step_name: str) -> Step:
    """The step, appended to the actor's flow (created if new) when named for the first time."""
    valid_name("flow_id", flow_id)
    valid_name("step_name", step_name)
    return flow_store.ensure_step(actor.user, flow_id, step_name)


def get_step(actor: Actor, flow_id: str, step_name: str) -> Step:
    valid_name("flow_id", flow_id)
    valid_name("step_name", step_name)
    step = flow_store.get_step(actor.user, flow_id, step_name)
    if step is None:
        raise NotFoundError(f"step {step_name!r} not found in flow {flow_id!r}")
    return step


def step_link(actor: Actor, flow_id: str, step_name: str) -> tuple[int, str | None]:
    """(position, previous step name) of the step; cheaper than get_step when nothing else is needed."""
    valid_name("flow_id", flow_id)
    valid_name("step_name", step_name)
    link = flow_store.step_link(actor.user, flow_id, step_name)
    if link is None:
        raise NotFoundError(f"step {step_name!r} not found in flow {flow_id!r}")
    return link


def step_position(actor: Actor, flow_id: str, step_name: str) -> int:
    """Where the step stands in its flow."""
    return step_link(actor, flow_id, step_name)[0]


def get_flow(
    actor: Actor, flow_id: str, limit: int | None = None, cursor: str | None = None
) -> tuple[Flow, str | None]:
    """The flow with one page of its steps, in order, and the cursor of the next page (None: no more)."""
    # Another user's flow id resolves in the actor's own namespace, so nothing about it is disclosed.
    valid_name("flow_id", flow_id)
    found = flow_store.get_flow(actor.user, flow_id, page_size(limit), cursor)
    if found is None:
        raise NotFoundError(f"flow {flow_id!r} not found")
    return found


def current_step(actor: Actor, flow_id: str) -> Step:
    valid_name("flow_id", flow_id)
    exists, name = flow_store.current_step_name(actor.user, flow_id)
    if not exists:
        raise NotFoundError(f"flow {flow_id!r} not found")
    step = flow_store.get_step(actor.user, flow_id, name) if name else None
    if step is None:
        raise NotFoundError(f"flow {flow_id!r} has no steps yet")
    return step


@dataclass(frozen=True)
class ListedFlow:
    """One row of a flow list; `steps` only when the caller asked for status."""

    summary: FlowSummary
    steps: list[Step] | None


@dataclass(frozen=True)
class FlowPage:
    flows: list[ListedFlow]
    next_cursor: str | None


def flow_status(steps: list[Step]) -> StepStatus:
    """failed if any step failed, completed if all did, running once any started, else pending
    (the rule the SDK's FlowStatus applies)."""
    statuses = {s.status for s in steps}
    if StepStatus.FAILED in statuses:
        return StepStatus.FAILED
    if statuses and statuses == {StepStatus.COMPLETED}:
        return StepStatus.COMPLETED
    if statuses & {StepStatus.RUNNING, StepStatus.COMPLETED}:
        return StepStatus.RUNNING
    return StepStatus.PENDING


def list_flows(actor: Actor, limit: int, cursor: str | None = None, with_status: bool = False) -> FlowPage:
    """The actor's flows, newest first, a page at a time; `next_cursor` fetches the page after.

    A cursor holds only the last flow's place in the actor's own list, so it cannot reach into
    another user's flows; one that does not decode is a 422. With status, each flow costs one query.
    """
    limit = min(max(limit, 1), MAX_LISTED_FLOWS)
    after = _decode_cursor(cursor) if cursor else None
    found = flow_store.list_flows(actor.user, limit + 1, after)
    more = len(found) > limit
    found = found[:limit]
    rows = [
        ListedFlow(f, flow_store.list_steps(actor.user, f.flow_id) if with_status else None) for f in found
    ]
    next_cursor = _encode_cursor(found[-1]) if more else None
    return FlowPage(rows, next_cursor)


def _encode_cursor(flow: FlowSummary) -> str:
    raw = json.dumps([flow.sort_key, flow.flow_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, str]:
    problem = InvalidInputError("cursor is not one this API returned: start again without it", field="cursor")
    if len(cursor) > _MAX_CURSOR:
        raise problem
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort_key, flow_id = json.loads(raw)
    except (ValueError, TypeError) as error:
        raise problem from error
    if not isinstance(sort_key, str) or not isinstance(flow_id, str) or not sort_key:
        raise problem
    try:
        valid_name("flow_id", flow_id)
    except InvalidInputError as error:
        raise problem from error
    return sort_key, flow_id


def update_progress(
    actor: Actor, flow_id: str, step_name: str, completion: float, message: str, page_update: bool
) -> Step:
    valid_name("flow_id", flow_id)
    valid_name("step_name", step_name)
    step = flow_store.record_progress(actor.user, flow_id, step_name, completion, message, page_update)
    if step is None:
        raise NotFoundError(f"step {step_name!r} not found in flow {flow_id!r}")
    return step


def set_status(actor: Actor, flow_id: str, step_name: str, status: StepStatus, message: str | None) -> Step:
    valid_name("flow_id", flow_id)
    valid_name("step_name", step_name)
    step = flow_store.set_status(actor.user, flow_id, step_name, status, message)
    if step is None:
        raise NotFoundError(f"step {step_name!r} not found in flow {flow_id!r}")
    return step
