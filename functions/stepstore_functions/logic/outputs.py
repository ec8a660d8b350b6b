"""Step outputs: inline values, presigned uploads committed only once verified, and reads."""

from __future__ import annotations

from dataclasses import dataclass

from stepstore_functions.dal import outputs as output_store
from stepstore_functions.dal import pages as page_store
from stepstore_functions.dal.blobs import BlobStore
from stepstore_functions.dal.cursors import page_size
from stepstore_functions.dal.tables import utcnow
from stepstore_functions.logic.flows import step_link, step_position
from stepstore_functions.logic.uploads import Ticket, declared, more_part_urls, open_upload, verify_upload
from stepstore_functions.models.api import MAX_INLINE_BYTES
from stepstore_functions.models.domain import (
    Actor,
    DataFormat,
    OutputKind,
    OutputPointer,
    PendingUpload,
    valid_name,
)
from stepstore_functions.models.errors import InvalidInputError, NotFoundError, PendingInputError
from stepstore_functions.models.limits import loads_bounded
from stepstore_functions.models.pages import parsed_output_names
from stepstore_functions.settings import get_settings

# Which storage format each kind of value is kept in.
FORMAT_OF_KIND: dict[OutputKind, DataFormat] = {
    OutputKind.DATAFRAME: DataFormat.PARQUET,
    OutputKind.SERIES: DataFormat.PARQUET,
    OutputKind.BYTES: DataFormat.RAW,
    OutputKind.DICT: DataFormat.JSON,
    OutputKind.INT: DataFormat.JSON,
    OutputKind.FLOAT: DataFormat.JSON,
    OutputKind.BOOL: DataFormat.JSON,
    OutputKind.STR: DataFormat.JSON,
}


# What json.loads gives back for each kind stored inline (a float written without a fraction is
# still a float to the SDK, which reads it back as one).
_JSON_TYPES_OF_KIND: dict[OutputKind, tuple[type, ...]] = {
    OutputKind.DICT: (dict,),
    OutputKind.INT: (int,),
    OutputKind.FLOAT: (float, int),
    OutputKind.BOOL: (bool,),
    OutputKind.STR: (str,),
}


@dataclass(frozen=True)
class ReadableOutput:
    pointer: OutputPointer
    url: str | None


def _data_blobs() -> BlobStore:
    return BlobStore.of(get_settings().data_bucket)


def save_inline(
    actor: Actor, flow_id: str, step_name: str, name: str, kind: OutputKind, value_json: str
) -> OutputPointer:
    """Store a small JSON value directly on the out-link, replacing the step's previous one."""
    valid_name("name", name)
    if FORMAT_OF_KIND[kind] is not DataFormat.JSON:
        raise InvalidInputError(
            f"output kind {kind.value!r} cannot be stored inline; upload it", field="kind"
        )
    encoded = value_json.encode()
    if len(encoded) > MAX_INLINE_BYTES:
        raise InvalidInputError(
            f"inline value is {len(encoded)} bytes; the limit is {MAX_INLINE_BYTES}", "value_json"
        )
    # Kept as text and given back as text: any number Python reads back exactly, but bounded nesting.
    value = loads_bounded(value_json, "value_json", dynamodb_numbers=False, error=InvalidInputError)
    if type(value) not in _JSON_TYPES_OF_KIND[kind]:
        raise InvalidInputError(
            f"value_json holds a JSON {type(value).__name__}, not the {kind.value} its kind says",
            "value_json",
        )
    position = step_position(actor, flow_id, step_name)
    pointer = OutputPointer(
        flow_id=flow_id,
        name=name,
        producer_step=step_name,
        position=position,
        kind=kind,
        data_format=DataFormat.JSON,
        size=len(encoded),
        etag="",
        created_at=utcnow(),
        inline=value_json,
    )
    _replace_pointer(actor, pointer)
    return pointer


def start_upload(
    actor: Actor,
    flow_id: str,
    step_name: str,
    name: str,
    kind: OutputKind,
    data_format: DataFormat,
    size: int | None,
    etag: str | None,
    part_size: int | None,
    initial_parts: int | None = None,
) -> Ticket:
    """Hand out presigned URLs for an upload.

    Its size and ETag are declared here when known; a caller that produces the bytes as it
    uploads them (Parquet streamed into a multipart upload) declares them at commit instead,
    and asks for `initial_parts` part URLs now and more with `presign_more_parts`.
    """
    valid_name("name", name)
    if FORMAT_OF_KIND[kind] is not data_format:
        raise InvalidInputError(
            f"output kind {kind.value!r} is stored as {FORMAT_OF_KIND[kind].value!r}, "
            f"not {data_format.value!r}",
            field="format",
        )
    position = step_position(actor, flow_id, step_name)
    opened = open_upload(_data_blobs(), f"outputs/{actor.user}", size, etag, part_size, initial_parts)
    output_store.create_upload(
        PendingUpload(
            upload_id=opened.upload_id,
            owner=actor.user,
            flow_id=flow_id,
            step_name=step_name,
            name=name,
            position=position,
            key=opened.key,
            kind=kind,
            data_format=data_format,
            size=size,
            etag=etag,
            part_count=opened.part_count,
            multipart_id=opened.multipart_id,
        ),
        get_settings().upload_ttl_seconds,
    )
    return opened.ticket


def _pending(actor: Actor, flow_id: str, step_name: str, name: str, upload_id: str) -> PendingUpload:
    upload = output_store.get_upload(upload_id)
    if upload is None or (upload.owner, upload.flow_id, upload.step_name, upload.name) != (
        actor.user,
        flow_id,
        step_name,
        name,
    ):
        raise NotFoundError(f"upload {upload_id!r} of output {name!r} on step {step_name!r} not found")
    return upload


def presign_more_parts(
    actor: Actor, flow_id: str, step_name: str, name: str, upload_id: str, first: int, count: int
) -> list[str]:
    """Part URLs for a multipart upload that turned out to need more parts than it asked for."""
    upload = _pending(actor, flow_id, step_name, name, upload_id)
    return more_part_urls(_data_blobs(), upload.key, upload.multipart_id, upload_id, first, count)


def commit_upload(
    actor: Actor,
    flow_id: str,
    step_name: str,
    name: str,
    upload_id: str,
    parts: list[tuple[int, str]],
    size: int | None = None,
    etag: str | None = None,
) -> OutputPointer:
    """Point the out-link at the uploaded object, once it is complete and matches size and ETag.

    A mismatched or missing object is deleted and nothing is pointed at it, so a reader never sees
    metadata without its bytes.
    """
    upload = _pending(actor, flow_id, step_name, name, upload_id)
    expected_size, expected_etag = declared(upload.size, upload.etag, size, etag)
    blobs = _data_blobs()
    verify_upload(
        blobs,
        upload.key,
        upload.multipart_id,
        parts,
        upload.part_count,
        expected_size,
        expected_etag,
        f"output {name!r} (upload {upload_id})",
        forget=lambda: output_store.delete_upload(upload_id),
    )
    # Retag before the pointer exists: if the pointer write fails, the object is merely an orphan;
    # the other order could leave a pointer at an object that the staging rule later expires.
    blobs.mark_committed(upload.key)
    pointer = OutputPointer(
        flow_id=flow_id,
        name=name,
        producer_step=step_name,
        position=upload.position,
        kind=upload.kind,
        data_format=upload.data_format,
        size=expected_size,
        etag=expected_etag,
        created_at=utcnow(),
        key=upload.key,
    )
    _replace_pointer(actor, pointer)
    output_store.delete_upload(upload_id)
    return pointer


def _replace_pointer(actor: Actor, pointer: OutputPointer) -> None:
    previous = output_store.put_pointer(actor.user, pointer)
    if previous is not None and previous.key and previous.key != pointer.key:
        _data_blobs().retire(previous.key)


def read_output(actor: Actor, flow_id: str, step_name: str, name: str) -> ReadableOutput:
    """The output `name` from that step's own out-link."""
    valid_name("name", name)
    position = step_position(actor, flow_id, step_name)
    pointer = output_store.get_out_link(actor.user, flow_id, name, position)
    if pointer is None:
        raise NotFoundError(f"output {name!r} not found on step {step_name!r} of flow {flow_id!r}")
    return _readable(pointer)


def read_input(actor: Actor, flow_id: str, step_name: str, name: str) -> ReadableOutput:
    """The output `name` on that step's in-link: saved by an earlier step, the latest one winning."""
    valid_name("name", name)
    position, previous = step_link(actor, flow_id, step_name)
    pointer = output_store.get_in_link(actor.user, flow_id, name, position)
    if (pointer is None or pointer.position < position - 1) and previous is not None:
        # The step before may have a DataSource file for `name` that its action took but nothing has
        # parsed yet (the API does not import pandas): it is the latest producer, so the SDK parses it.
        action = page_store.get_action(actor.user, flow_id, previous)
        if action is not None and name in parsed_output_names(action.data_sources):
            raise PendingInputError(
                f"input {name!r} of step {step_name!r} is a DataSource file on step {previous!r} "
                "that is not parsed yet"
            )
    if pointer is None:
        raise NotFoundError(f"input {name!r} not found for step {step_name!r} of flow {flow_id!r}")
    return _readable(pointer)


def list_inputs(
    actor: Actor, flow_id: str, step_name: str, limit: int | None = None, cursor: str | None = None
) -> tuple[dict[str, str], str | None]:
    position = step_position(actor, flow_id, step_name)
    return output_store.list_in_link(actor.user, flow_id, position, page_size(limit), cursor)


def _readable(pointer: OutputPointer) -> ReadableOutput:
    url = _data_blobs().presign_download(pointer.key) if pointer.key else None
    return ReadableOutput(pointer=pointer, url=url)


def list_outputs(
    actor: Actor, flow_id: str, step_name: str, limit: int | None = None, cursor: str | None = None
) -> tuple[list[OutputPointer], str | None]:
    position = step_position(actor, flow_id, step_name)
    return output_store.list_out_link(actor.user, flow_id, position, page_size(limit), cursor)
