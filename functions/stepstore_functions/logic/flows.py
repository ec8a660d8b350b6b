"""Flows and steps: appending, status, progress."""

from __future__ import annotations

from stepstore_functions.dal import flows as flow_store
from stepstore_functions.models.domain import Actor, Flow, Step, StepStatus, valid_name
from stepstore_functions.models.errors import NotFoundError

MAX_LISTED_FLOWS = 1000


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


def get_flow(actor: Actor, flow_id: str) -> Flow:
    # Another user's flow id resolves in the actor's own namespace, so nothing about it is disclosed.
    valid_name("flow_id", flow_id)
    flow = flow_store.get_flow(actor.user, flow_id)
    if flow is None:
        raise NotFoundError(f"flow {flow_id!r} not found")
    return flow


def current_step(actor: Actor, flow_id: str) -> Step:
    flow = get_flow(actor, flow_id)
    step = flow.step(flow.current_step) if flow.current_step else None
    if step is None:
        raise NotFoundError(f"flow {flow_id!r} has no steps yet")
    return step


def list_flows(actor: Actor, limit: int) -> list[tuple[str, object]]:
    return flow_store.list_flows(actor.user, min(max(limit, 1), MAX_LISTED_FLOWS))


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
