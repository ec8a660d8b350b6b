"""Routes: a step's page, its elements' values, DataSource uploads, the step's action, future elements."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from stepstore_functions.handlers.context import path_value, request_actor
from stepstore_functions.logic import pages
from stepstore_functions.models.api import CommitUpload, UploadTicket
from stepstore_functions.models.pages import (
    ActionOut,
    BlobCommitted,
    BlobUploadRequest,
    ElementOut,
    ElementValueIn,
    FileUploadRequest,
    FutureElementIn,
    FutureElementOut,
    PageOut,
    PageStored,
    PageUpdate,
    PageVersionOut,
)

router = Router()
STEP = "/flows/<flow_id>/steps/<step_name>"
ELEMENT = f"{STEP}/elements/<element>"


@router.get(f"{STEP}/page", summary="A step's page with the values its user set")
def get_page(flow_id: str, step_name: str) -> PageOut:
    return PageOut(**pages.read_page(request_actor(router), path_value(flow_id), path_value(step_name)))


@router.get(
    f"{STEP}/page/version", summary="A step's page version: poll it to know when to read the page again"
)
def get_page_version(flow_id: str, step_name: str) -> PageVersionOut:
    step = pages.page_version(request_actor(router), path_value(flow_id), path_value(step_name))
    return PageVersionOut(step_name=step.name, version=step.page_version)


@router.put(
    f"{STEP}/page", summary="Store a step's page (values the user set are kept); advances its version"
)
def update_page(flow_id: str, step_name: str, body: PageUpdate) -> PageStored:
    step = path_value(step_name)
    stored = pages.update_page(
        request_actor(router), path_value(flow_id), step, body.page, body.blob_id, body.title, body.elements
    )
    return PageStored(
        step_name=step,
        version=stored.version,
        stored="inline" if stored.inline is not None else "s3",
        size=stored.size,
        elements=len(stored.manifest),
    )


@router.post(f"{STEP}/page/uploads", summary="Start uploading a page too large to send inline")
def start_page_upload(flow_id: str, step_name: str, body: BlobUploadRequest) -> UploadTicket:
    return UploadTicket.of(
        pages.start_page_upload(
            request_actor(router),
            path_value(flow_id),
            path_value(step_name),
            body.size,
            body.etag,
            body.part_size,
        )
    )


@router.post(
    f"{STEP}/page/uploads/<upload_id>/commit", summary="Verify an uploaded page; then PUT it by blob_id"
)
def commit_page_upload(flow_id: str, step_name: str, upload_id: str, body: CommitUpload) -> BlobCommitted:
    upload = pages.commit_blob(
        request_actor(router),
        path_value(flow_id),
        path_value(step_name),
        path_value(upload_id),
        [(p.part_number, p.etag) for p in body.parts],
        "page",
    )
    return BlobCommitted(blob_id=upload.upload_id, size=upload.size, etag=upload.etag)


@router.get(
    ELEMENT, summary="One element (by id, reference_id or title) with its value, upload and the last action"
)
def get_element(flow_id: str, step_name: str, element: str) -> ElementOut:
    return ElementOut(
        **pages.read_element(
            request_actor(router), path_value(flow_id), path_value(step_name), path_value(element)
        )
    )


@router.put(f"{ELEMENT}/value", summary="Set an input element's value, checked against the element")
def set_value(flow_id: str, step_name: str, element: str, body: ElementValueIn) -> ElementOut:
    found = pages.set_value(
        request_actor(router), path_value(flow_id), path_value(step_name), path_value(element), body.value
    )
    return ElementOut(**found)


@router.post(f"{ELEMENT}/files/<file_name>/uploads", summary="Start uploading a file to a DataSource")
def start_file_upload(
    flow_id: str, step_name: str, element: str, file_name: str, body: FileUploadRequest
) -> UploadTicket:
    return UploadTicket.of(
        pages.start_file_upload(
            request_actor(router),
            path_value(flow_id),
            path_value(step_name),
            path_value(element),
            path_value(file_name),
            body.format,
            body.size,
            body.etag,
            body.part_size,
        )
    )


@router.post(
    f"{ELEMENT}/files/<file_name>/uploads/<upload_id>/commit",
    summary="Commit a DataSource upload: verified, then the DataSource's value",
)
def commit_file_upload(
    flow_id: str, step_name: str, element: str, file_name: str, upload_id: str, body: CommitUpload
) -> ElementOut:
    found = pages.commit_file_upload(
        request_actor(router),
        path_value(flow_id),
        path_value(step_name),
        path_value(element),
        path_value(upload_id),
        [(p.part_number, p.etag) for p in body.parts],
    )
    return ElementOut(**found)


@router.post(
    f"{STEP}/action", summary="Run the step's action: check each DataSource's file and record the run"
)
def run_action(flow_id: str, step_name: str) -> ActionOut:
    return ActionOut(**pages.run_action(request_actor(router), path_value(flow_id), path_value(step_name)))


@router.put(f"{STEP}/future-elements/<element_id>", summary="Register an element for a later step's page")
def put_future_element(
    flow_id: str, step_name: str, element_id: str, body: FutureElementIn
) -> FutureElementOut:
    step = path_value(step_name)
    element = {**body.element, "id": path_value(element_id)}
    stored = pages.add_future_element(request_actor(router), path_value(flow_id), step, element)
    return FutureElementOut(step_name=step, element_id=stored)
