"""Out-link pointers (links table) and the uploads that precede them (metadata table)."""

from __future__ import annotations

from datetime import timedelta

from pynamodb.exceptions import DoesNotExist

from stepstore_functions.dal import cursors
from stepstore_functions.dal.tables import OutputItem, UploadItem, flow_pk, utcnow
from stepstore_functions.models.domain import (
    DataFormat,
    OutputKind,
    OutputPointer,
    PendingUpload,
    is_valid_name,
)

_POSITION_DIGITS = 5


def _sort_key(name: str, position: int) -> str:
    return f"OUT#{name}#{position:0{_POSITION_DIGITS}d}"


def _step_sort_key(name: str, position: int) -> str:
    # A copy of each pointer keyed by producer first, so that a step's out-link is one key range.
    return f"BYSTEP#{position:0{_POSITION_DIGITS}d}#{name}"


def _step_prefix(position: int) -> str:
    return f"BYSTEP#{position:0{_POSITION_DIGITS}d}#"


def _pointer(flow_id: str, item: OutputItem) -> OutputPointer:
    return OutputPointer(
        flow_id=flow_id,
        name=item.name,
        producer_step=item.producer_step,
        position=int(item.position),
        kind=OutputKind(item.kind),
        data_format=DataFormat(item.data_format),
        size=int(item.size),
        etag=item.etag,
        created_at=item.created_at,
        key=item.key,
        inline=item.inline,
    )


def put_pointer(owner: str, pointer: OutputPointer) -> OutputPointer | None:
    """Store the pointer, replacing the step's previous output of that name; returns the replaced one."""
    pk = flow_pk(owner, pointer.flow_id)
    sk = _sort_key(pointer.name, pointer.position)
    item = OutputItem(
        pk=pk,
        sk=sk,
        name=pointer.name,
        producer_step=pointer.producer_step,
        position=pointer.position,
        kind=pointer.kind.value,
        data_format=pointer.data_format.value,
        size=pointer.size,
        etag=pointer.etag,
        key=pointer.key,
        inline=pointer.inline,
        created_at=pointer.created_at,
    )
    # One write that also hands back what it replaced (Model.save cannot return the old item).
    response = OutputItem._get_connection().put_item(
        pk, sk, attributes=item.serialize(), return_values="ALL_OLD"
    )
    old = response.get("Attributes")
    # The out-link's listing copy; written second, so a listed output always has its pointer.
    item.sk = _step_sort_key(pointer.name, pointer.position)
    item.save()
    return _pointer(pointer.flow_id, OutputItem.from_raw_data(old)) if old else None


def delete_pointer(owner: str, flow_id: str, name: str, position: int) -> OutputPointer | None:
    """Remove the output `name` of the step at `position`; returns what was there."""
    pk, sk = flow_pk(owner, flow_id), _sort_key(name, position)
    OutputItem._get_connection().delete_item(pk, _step_sort_key(name, position))
    old = OutputItem._get_connection().delete_item(pk, sk, return_values="ALL_OLD").get("Attributes")
    return _pointer(flow_id, OutputItem.from_raw_data(old)) if old else None


def get_out_link(owner: str, flow_id: str, name: str, position: int) -> OutputPointer | None:
    """The output `name` that the step at `position` saved."""
    try:
        item = OutputItem.get(flow_pk(owner, flow_id), _sort_key(name, position), consistent_read=True)
    except DoesNotExist:
        return None
    return _pointer(flow_id, item)


def get_in_link(owner: str, flow_id: str, name: str, position: int) -> OutputPointer | None:
    """The output `name` of the latest step before `position`: one key-range query, newest first."""
    if position <= 0:
        return None
    items = OutputItem.query(
        flow_pk(owner, flow_id),
        OutputItem.sk.between(_sort_key(name, 0), _sort_key(name, position - 1)),
        scan_index_forward=False,
        limit=1,
        consistent_read=True,
    )
    item = next(iter(items), None)
    return _pointer(flow_id, item) if item is not None else None


def list_in_link(
    owner: str, flow_id: str, position: int, limit: int, cursor: str | None = None
) -> tuple[dict[str, str], str | None]:
    """One page of the names on the in-link of the step at `position`, with the step that produced
    each, and the cursor of the next page.

    Pointers sort by name, then producer; a page reads `limit` of them. A name whose pointers run
    past the page is settled by one more read (its latest producer before `position`), and the next
    page starts after that name, so no name is listed twice and each request reads one page.
    """
    scope = "inputs"
    after = cursors.decode(cursor, scope)
    pk = flow_pk(owner, flow_id)
    if after is None:
        condition = OutputItem.sk.startswith("OUT#")
    else:
        name = after.get("after") if set(after) == {"after"} else None
        if not isinstance(name, str) or not is_valid_name(name):
            raise cursors.bad_cursor(scope)
        # '$' sorts right after '#' and no name contains it: every pointer of later names, none of this one.
        condition = OutputItem.sk.between(f"OUT#{name}$", "OUT$")
    items, last = cursors.query_page(
        OutputItem,
        OutputItem.query,
        limit,
        None,
        hash_key=pk,
        range_key_condition=condition,
        consistent_read=True,
    )
    winners: dict[str, tuple[int, str]] = {}
    for item in items:
        item_position = int(item.position)
        if item_position < position and item_position >= winners.get(item.name, (-1, ""))[0]:
            winners[item.name] = (item_position, item.producer_step)
    next_cursor = None
    if last is not None and items:
        cut = items[-1].name
        winners.pop(cut, None)
        settled = get_in_link(owner, flow_id, cut, position)
        if settled is not None:
            winners[cut] = (settled.position, settled.producer_step)
        next_cursor = cursors.encode(scope, {"after": cut})
    return {name: producer for name, (_, producer) in sorted(winners.items())}, next_cursor


def create_upload(upload: PendingUpload, ttl_seconds: int) -> None:
    UploadItem(
        pk=f"UPLOAD#{upload.upload_id}",
        sk="UPLOAD",
        owner=upload.owner,
        flow_id=upload.flow_id,
        step_name=upload.step_name,
        name=upload.name,
        position=upload.position,
        key=upload.key,
        kind=upload.kind.value,
        data_format=upload.data_format.value,
        size=upload.size,
        etag=upload.etag,
        part_count=upload.part_count,
        multipart_id=upload.multipart_id,
        expires_at=utcnow() + timedelta(seconds=ttl_seconds),
    ).save(condition=UploadItem.pk.does_not_exist())


def get_upload(upload_id: str) -> PendingUpload | None:
    try:
        item = UploadItem.get(f"UPLOAD#{upload_id}", "UPLOAD", consistent_read=True)
    except DoesNotExist:
        return None
    if item.expires_at <= utcnow():
        return None  # DynamoDB deletes expired items lazily; an expired upload is gone for us
    return PendingUpload(
        upload_id=upload_id,
        owner=item.owner,
        flow_id=item.flow_id,
        step_name=item.step_name,
        name=item.name,
        position=int(item.position),
        key=item.key,
        kind=OutputKind(item.kind),
        data_format=DataFormat(item.data_format),
        size=int(item.size) if item.size is not None else None,
        etag=item.etag,
        part_count=int(item.part_count),
        multipart_id=item.multipart_id,
    )


def delete_upload(upload_id: str) -> None:
    UploadItem(pk=f"UPLOAD#{upload_id}", sk="UPLOAD").delete()


def list_out_link(
    owner: str, flow_id: str, position: int, limit: int, cursor: str | None = None
) -> tuple[list[OutputPointer], str | None]:
    """One page of the outputs the step at `position` saved, by name, and the next page's cursor."""
    pk = flow_pk(owner, flow_id)
    prefix = _step_prefix(position)
    start = cursors.decode_key(cursor, "outputs", {"pk": pk}, {"sk": prefix})
    items, last = cursors.query_page(
        OutputItem,
        OutputItem.query,
        limit,
        start,
        hash_key=pk,
        range_key_condition=OutputItem.sk.startswith(prefix),
        consistent_read=True,
    )
    return [_pointer(flow_id, i) for i in items], cursors.encode_key("outputs", last)
