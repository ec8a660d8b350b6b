"""Routes: flows, steps, progress and status."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from stepstore_functions.handlers.context import path_value, request_actor
from stepstore_functions.logic import flows
from stepstore_functions.models.api import (
    DEFAULT_PAGE,
    CursorQuery,
    FlowList,
    FlowOut,
    FlowSummary,
    LimitQuery,
    ProgressUpdate,
    StatusUpdate,
    StepOut,
)
from stepstore_functions.models.domain import Flow, Step

router = Router()


def step_out(step: Step) -> StepOut:
    return StepOut(
        name=step.name,
        position=step.position,
        status=step.status,
        progress=step.progress,
        message=step.message,
        previous_step=step.previous,
        created_at=step.created_at,
        updated_at=step.updated_at,
    )


def flow_out(flow: Flow, after: str | None = None) -> FlowOut:
    return FlowOut(
        flow_id=flow.flow_id,
        owner=flow.owner,
        current_step=flow.current_step,
        steps=[step_out(s) for s in flow.steps],
        created_at=flow.created_at,
        next=after,
    )


@router.get("/flows", summary="The caller's flows, newest first, a page at a time")
def list_flows(
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
    with_status: Annotated[bool, Query(description="Each flow's status and current step's progress")] = False,
) -> FlowList:
    page = flows.list_flows(request_actor(router), limit, cursor, with_status)
    return FlowList(flows=[flow_summary(row) for row in page.flows], next_cursor=page.next_cursor)


def flow_summary(row: flows.ListedFlow) -> FlowSummary:
    summary = FlowSummary(
        flow_id=row.summary.flow_id,
        created_at=row.summary.created_at,
        current_step=row.summary.current_step,
        step_count=row.summary.step_count,
    )
    if row.steps is not None:
        current = next((s for s in row.steps if s.name == row.summary.current_step), None)
        summary.status = flows.flow_status(row.steps)
        summary.progress = current.progress if current else 0.0
        summary.message = current.message if current else ""
        summary.updated_at = max((s.updated_at for s in row.steps), default=row.summary.created_at)
    return summary


@router.get(
    "/flows/<flow_id>",
    summary="A flow's status: its steps in order (one page: follow `next`), each with status and progress",
)
def get_flow(flow_id: str, limit: LimitQuery = DEFAULT_PAGE, cursor: CursorQuery = None) -> FlowOut:
    flow, after = flows.get_flow(request_actor(router), path_value(flow_id), limit, cursor)
    return flow_out(flow, after)


@router.get("/flows/<flow_id>/current-step", summary="The flow's current step")
def get_current_step(flow_id: str) -> StepOut:
    return step_out(flows.current_step(request_actor(router), path_value(flow_id)))


@router.put("/flows/<flow_id>/steps/<step_name>", summary="Open a step; appended to the flow when new")
def open_step(flow_id: str, step_name: str) -> StepOut:
    return step_out(flows.open_step(request_actor(router), path_value(flow_id), path_value(step_name)))


@router.get("/flows/<flow_id>/steps/<step_name>", summary="One step")
def get_step(flow_id: str, step_name: str) -> StepOut:
    return step_out(flows.get_step(request_actor(router), path_value(flow_id), path_value(step_name)))


@router.put("/flows/<flow_id>/steps/<step_name>/progress", summary="Record a step's progress and message")
def update_progress(flow_id: str, step_name: str, body: ProgressUpdate) -> StepOut:
    step = flows.update_progress(
        request_actor(router),
        path_value(flow_id),
        path_value(step_name),
        body.completion,
        body.message,
        body.page_update,
    )
    return step_out(step)


@router.put("/flows/<flow_id>/steps/<step_name>/status", summary="Set a step's status")
def set_status(flow_id: str, step_name: str, body: StatusUpdate) -> StepOut:
    step = flows.set_status(
        request_actor(router), path_value(flow_id), path_value(step_name), body.status, body.message
    )
    return step_out(step)
