"""Routes: a step's out-link (saving outputs) and in-link (reading what earlier steps left)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from stepstore_functions.handlers.context import path_value, request_actor
from stepstore_functions.logic import outputs
from stepstore_functions.models.api import (
    DEFAULT_PAGE,
    CommitUpload,
    CursorQuery,
    InlineOutput,
    InputList,
    LimitQuery,
    OutputList,
    OutputOut,
    PartUrls,
    PartUrlsRequest,
    UploadRequest,
    UploadTicket,
)
from stepstore_functions.models.domain import OutputPointer

router = Router()
STEP = "/flows/<flow_id>/steps/<step_name>"


def output_out(pointer: OutputPointer, url: str | None = None) -> OutputOut:
    return OutputOut(
        name=pointer.name,
        producer_step=pointer.producer_step,
        kind=pointer.kind,
        format=pointer.data_format,
        size=pointer.size,
        etag=pointer.etag,
        created_at=pointer.created_at,
        value_json=pointer.inline,
        url=url,
    )


@router.put(f"{STEP}/outputs/<name>", summary="Save a small JSON value as an output")
def save_inline(flow_id: str, step_name: str, name: str, body: InlineOutput) -> OutputOut:
    pointer = outputs.save_inline(
        request_actor(router),
        path_value(flow_id),
        path_value(step_name),
        path_value(name),
        body.kind,
        body.value_json,
    )
    return output_out(pointer)


@router.post(f"{STEP}/outputs/<name>/uploads", summary="Start an upload: presigned URLs for the bytes")
def start_upload(flow_id: str, step_name: str, name: str, body: UploadRequest) -> UploadTicket:
    ticket = outputs.start_upload(
        request_actor(router),
        path_value(flow_id),
        path_value(step_name),
        path_value(name),
        body.kind,
        body.format,
        body.size,
        body.etag,
        body.part_size,
        body.part_count,
    )
    return UploadTicket.of(ticket)


@router.post(
    f"{STEP}/outputs/<name>/uploads/<upload_id>/commit",
    summary="Commit an upload: verified against its declared size and ETag, then put on the out-link",
)
def commit_upload(flow_id: str, step_name: str, name: str, upload_id: str, body: CommitUpload) -> OutputOut:
    pointer = outputs.commit_upload(
        request_actor(router),
        path_value(flow_id),
        path_value(step_name),
        path_value(name),
        path_value(upload_id),
        [(p.part_number, p.etag) for p in body.parts],
        body.size,
        body.etag,
    )
    return output_out(pointer)


@router.post(
    f"{STEP}/outputs/<name>/uploads/<upload_id>/parts",
    summary="More part URLs for a multipart upload whose size was not known at the start",
)
def presign_more_parts(
    flow_id: str, step_name: str, name: str, upload_id: str, body: PartUrlsRequest
) -> PartUrls:
    urls = outputs.presign_more_parts(
        request_actor(router),
        path_value(flow_id),
        path_value(step_name),
        path_value(name),
        path_value(upload_id),
        body.first,
        body.count,
    )
    return PartUrls(urls=urls)


@router.get(f"{STEP}/outputs/<name>", summary="An output from this step's out-link")
def read_output(flow_id: str, step_name: str, name: str) -> OutputOut:
    found = outputs.read_output(
        request_actor(router), path_value(flow_id), path_value(step_name), path_value(name)
    )
    return output_out(found.pointer, found.url)


@router.get(f"{STEP}/outputs", summary="The outputs on this step's out-link, by name, one page at a time")
def list_outputs(
    flow_id: str, step_name: str, limit: LimitQuery = DEFAULT_PAGE, cursor: CursorQuery = None
) -> OutputList:
    found, after = outputs.list_outputs(
        request_actor(router), path_value(flow_id), path_value(step_name), limit, cursor
    )
    return OutputList(outputs=[output_out(p) for p in found], next=after)


@router.get(
    f"{STEP}/inputs",
    summary="The names on this step's in-link and the step that produced each, one page at a time",
)
def list_inputs(
    flow_id: str, step_name: str, limit: LimitQuery = DEFAULT_PAGE, cursor: CursorQuery = None
) -> InputList:
    step = path_value(step_name)
    found, after = outputs.list_inputs(request_actor(router), path_value(flow_id), step, limit, cursor)
    return InputList(step_name=step, inputs=found, next=after)


@router.get(
    f"{STEP}/inputs/<name>", summary="An output from this step's in-link (the latest earlier producer)"
)
def read_input(flow_id: str, step_name: str, name: str) -> OutputOut:
    found = outputs.read_input(
        request_actor(router), path_value(flow_id), path_value(step_name), path_value(name)
    )
    return output_out(found.pointer, found.url)
