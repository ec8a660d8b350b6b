"""Pages, element values, future elements, step actions and their uploads in the metadata table.

Layout and values are different items, so a step's update_page and a user's value never overwrite
each other. They share the flow's partition and a per-step sort-key prefix, so everything a step's
page needs is one query (`read_step_page`):

- PG#<step>#PAGE                 the layout (inline JSON, or a pointer into the data bucket) and its
                                 element heads, written in one transaction with the step's page version
- PG#<step>#VALUE#<element key>  one item per input element the user set (key: reference_id, else id)
- PG#<step>#FUTURE#<element id>  an element registered by an earlier step for this one
- PG#<step>#ACTION               when the step's action last ran, and what its DataSources held
- PAGEUPLOAD#<id>                a page blob or DataSource file handed out for upload (expires by TTL)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist, TransactWriteError

from stepstore_functions.dal.clients import client
from stepstore_functions.dal.tables import (
    StepItem,
    _MetadataModel,
    flow_pk,
    lost_a_race,
    on_metadata_table,
    transaction,
    utcnow,
)
from stepstore_functions.models.errors import ConflictError
from stepstore_functions.models.pages import ActionRecord, PendingBlob, StoredPage, StoredValue
from stepstore_functions.settings import get_settings


@on_metadata_table
class PageItem(_MetadataModel):
    """pk=FLOW#<owner>#<flow_id>, sk=PG#<step>#PAGE."""

    class Meta(_MetadataModel.Meta):
        pass

    version = NumberAttribute()
    title = UnicodeAttribute(default="")
    manifest = UnicodeAttribute()
    inline = UnicodeAttribute(null=True)
    key = UnicodeAttribute(null=True)
    size = NumberAttribute(default=0)
    etag = UnicodeAttribute(default="")
    updated_at = UTCDateTimeAttribute(default_for_new=utcnow)


@on_metadata_table
class ValueItem(_MetadataModel):
    """pk=FLOW#<owner>#<flow_id>, sk=PG#<step>#VALUE#<element key>."""

    class Meta(_MetadataModel.Meta):
        pass

    element_id = UnicodeAttribute()
    value_json = UnicodeAttribute()
    set_at = UTCDateTimeAttribute(default_for_new=utcnow)
    set_by = UnicodeAttribute()
    upload_key = UnicodeAttribute(null=True)


@on_metadata_table
class FutureElementItem(_MetadataModel):
    """pk=FLOW#<owner>#<flow_id>, sk=PG#<step>#FUTURE#<element id>."""

    class Meta(_MetadataModel.Meta):
        pass

    element_json = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)


@on_metadata_table
class ActionItem(_MetadataModel):
    """pk=FLOW#<owner>#<flow_id>, sk=PG#<step>#ACTION."""

    class Meta(_MetadataModel.Meta):
        pass

    ran_at = UTCDateTimeAttribute()
    data_sources = UnicodeAttribute(default="[]")


@on_metadata_table
class PageUploadItem(_MetadataModel):
    """pk=PAGEUPLOAD#<id>, sk=UPLOAD."""

    class Meta(_MetadataModel.Meta):
        pass

    purpose = UnicodeAttribute()
    owner = UnicodeAttribute()
    flow_id = UnicodeAttribute()
    step_name = UnicodeAttribute()
    key = UnicodeAttribute()
    size = NumberAttribute()
    etag = UnicodeAttribute()
    part_count = NumberAttribute()
    multipart_id = UnicodeAttribute(null=True)
    verified = BooleanAttribute(default=False)
    element_id = UnicodeAttribute(null=True)
    file_name = UnicodeAttribute(null=True)
    file_format = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()


def _sk(step_name: str, rest: str) -> str:
    return f"PG#{step_name}#{rest}"


def _stored_page(item: PageItem) -> StoredPage:
    return StoredPage(
        version=int(item.version),
        title=item.title,
        manifest=json.loads(item.manifest),
        updated_at=item.updated_at,
        inline=item.inline,
        key=item.key,
        size=int(item.size),
        etag=item.etag,
    )


def _stored_value(key: str, item: ValueItem) -> StoredValue:
    return StoredValue(
        element_key=key,
        element_id=item.element_id,
        value=json.loads(item.value_json),
        set_at=item.set_at,
        set_by=item.set_by,
        upload_key=item.upload_key,
    )


@dataclass(frozen=True)
class StepPage:
    """Everything stored for one step's page, read together."""

    page: StoredPage | None
    values: dict[str, StoredValue]
    futures: list[dict[str, Any]]
    action: ActionRecord | None


def read_step_page(owner: str, flow_id: str, step_name: str) -> StepPage:
    """The step's layout, values, future elements and last action: one query over its sort-key prefix."""
    prefix = _sk(step_name, "")
    page, action = None, None
    values: dict[str, StoredValue] = {}
    futures: list[FutureElementItem] = []
    connection = PageItem._get_connection()
    last_key = None
    while True:
        response = connection.query(
            flow_pk(owner, flow_id),
            PageItem.sk.startswith(prefix),
            consistent_read=True,
            exclusive_start_key=last_key,
        )
        for raw in response.get("Items", []):
            kind, _, rest = raw["sk"]["S"][len(prefix) :].partition("#")
            if kind == "PAGE":
                page = _stored_page(PageItem.from_raw_data(raw))
            elif kind == "VALUE":
                values[rest] = _stored_value(rest, ValueItem.from_raw_data(raw))
            elif kind == "FUTURE":
                futures.append(FutureElementItem.from_raw_data(raw))
            elif kind == "ACTION":
                item = ActionItem.from_raw_data(raw)
                action = ActionRecord(ran_at=item.ran_at, data_sources=json.loads(item.data_sources))
        last_key = response.get("LastEvaluatedKey")
        if not last_key:
            break
    ordered = [json.loads(f.element_json) for f in sorted(futures, key=lambda f: f.created_at)]
    return StepPage(page=page, values=values, futures=ordered, action=action)


# Layout


def get_page(owner: str, flow_id: str, step_name: str) -> StoredPage | None:
    try:
        item = PageItem.get(flow_pk(owner, flow_id), _sk(step_name, "PAGE"), consistent_read=True)
    except DoesNotExist:
        return None
    return _stored_page(item)


_VERSION_ATTEMPTS = 8


def store_page(
    owner: str, flow_id: str, step_name: str, page: StoredPage
) -> tuple[StoredPage, StoredPage | None] | None:
    """Store the layout and advance the step's page version in one transaction, so a reader never
    sees the new version without its page. Returns the page with its version and the page it
    replaced; None if the step is unknown. A concurrent bump (another update, or progress with
    page_update) is retried."""
    pk, step_sk = flow_pk(owner, flow_id), f"STEP#{step_name}"
    for _ in range(_VERSION_ATTEMPTS):
        try:
            current = int(StepItem.get(pk, step_sk, consistent_read=True).page_version or 0)
        except DoesNotExist:
            return None
        # Read after the version: if the transaction's guard holds, this is exactly the page replaced.
        replaced = get_page(owner, flow_id, step_name)
        stored = replace(page, version=current + 1)
        item = PageItem(
            pk=pk,
            sk=_sk(step_name, "PAGE"),
            version=stored.version,
            title=stored.title,
            manifest=json.dumps(stored.manifest, separators=(",", ":")),
            inline=stored.inline,
            key=stored.key,
            size=stored.size,
            etag=stored.etag,
            updated_at=stored.updated_at,
        )
        guard = StepItem.page_version == current
        if current == 0:
            guard |= StepItem.page_version.does_not_exist()
        try:
            with transaction() as tx:
                tx.update(
                    StepItem(pk=pk, sk=step_sk),
                    actions=[StepItem.page_version.set(stored.version)],
                    condition=StepItem.pk.exists() & guard,
                )
                tx.save(item)
        except TransactWriteError as error:
            if not lost_a_race(error):
                raise  # not contention (an item too large, say): retrying cannot help
            continue  # the version moved on meanwhile; read it again
        return stored, replaced
    raise ConflictError(f"could not store the page of step {step_name!r}: too many concurrent page updates")


# Values


def put_value(owner: str, flow_id: str, step_name: str, value: StoredValue) -> StoredValue | None:
    """Store the value (the last one set wins); returns the value it replaced, if any.

    One write that returns what it replaced, so two writers at once each learn of a different
    predecessor and no replaced upload goes unnoticed.
    """
    pk, sk = flow_pk(owner, flow_id), _sk(step_name, f"VALUE#{value.element_key}")
    item = ValueItem(
        pk=pk,
        sk=sk,
        element_id=value.element_id,
        value_json=json.dumps(value.value, separators=(",", ":")),
        set_at=value.set_at,
        set_by=value.set_by,
        upload_key=value.upload_key,
    )
    response = ValueItem._get_connection().put_item(
        pk, sk, attributes=item.serialize(), return_values="ALL_OLD"
    )
    old = response.get("Attributes")
    return _stored_value(value.element_key, ValueItem.from_raw_data(old)) if old else None


# Future elements and actions


def future_element_ids(owner: str, flow_id: str, step_name: str, most: int) -> list[str]:
    """Ids of the future elements registered for the step (at most `most` are read)."""
    prefix = _sk(step_name, "FUTURE#")
    items = FutureElementItem.query(
        flow_pk(owner, flow_id),
        FutureElementItem.sk.startswith(prefix),
        consistent_read=True,
        limit=most,
        page_size=most,
        attributes_to_get=["sk"],
    )
    return [item.sk[len(prefix) :] for item in items]


def put_future_element(owner: str, flow_id: str, step_name: str, element: dict[str, Any]) -> None:
    FutureElementItem(
        pk=flow_pk(owner, flow_id),
        sk=_sk(step_name, f"FUTURE#{element['id']}"),
        element_json=json.dumps(element, separators=(",", ":")),
    ).save()


def get_action(owner: str, flow_id: str, step_name: str) -> ActionRecord | None:
    try:
        item = ActionItem.get(flow_pk(owner, flow_id), _sk(step_name, "ACTION"), consistent_read=True)
    except DoesNotExist:
        return None
    return ActionRecord(ran_at=item.ran_at, data_sources=json.loads(item.data_sources))


def put_action(owner: str, flow_id: str, step_name: str, action: ActionRecord) -> None:
    ActionItem(
        pk=flow_pk(owner, flow_id),
        sk=_sk(step_name, "ACTION"),
        ran_at=action.ran_at,
        data_sources=json.dumps(action.data_sources, separators=(",", ":")),
    ).save()


# Uploads


def create_upload(upload: PendingBlob) -> None:
    PageUploadItem(
        pk=f"PAGEUPLOAD#{upload.upload_id}",
        sk="UPLOAD",
        purpose=upload.purpose,
        owner=upload.owner,
        flow_id=upload.flow_id,
        step_name=upload.step_name,
        key=upload.key,
        size=upload.size,
        etag=upload.etag,
        part_count=upload.part_count,
        multipart_id=upload.multipart_id,
        element_id=upload.element_id,
        file_name=upload.file_name,
        file_format=upload.file_format,
        expires_at=utcnow() + timedelta(seconds=get_settings().upload_ttl_seconds),
    ).save(condition=PageUploadItem.pk.does_not_exist())


def get_upload(upload_id: str) -> PendingBlob | None:
    try:
        item = PageUploadItem.get(f"PAGEUPLOAD#{upload_id}", "UPLOAD", consistent_read=True)
    except DoesNotExist:
        return None
    if item.expires_at <= utcnow():
        return None
    return PendingBlob(
        upload_id=upload_id,
        purpose=item.purpose,  # type: ignore[arg-type]
        owner=item.owner,
        flow_id=item.flow_id,
        step_name=item.step_name,
        key=item.key,
        size=int(item.size),
        etag=item.etag,
        part_count=int(item.part_count),
        multipart_id=item.multipart_id,
        verified=bool(item.verified),
        element_id=item.element_id,
        file_name=item.file_name,
        file_format=item.file_format,
    )


def mark_upload_verified(upload_id: str) -> None:
    PageUploadItem(pk=f"PAGEUPLOAD#{upload_id}", sk="UPLOAD").update(
        actions=[PageUploadItem.verified.set(True)]
    )


def delete_upload(upload_id: str) -> None:
    PageUploadItem(pk=f"PAGEUPLOAD#{upload_id}", sk="UPLOAD").delete()


# Bytes: the action reads a little of each upload to check that it parses.


def read_range(key: str, start: int, end: int) -> bytes:
    """Bytes start..end (inclusive) of an object in the data bucket (fewer if it is shorter)."""
    try:
        response = client("s3").get_object(
            Bucket=get_settings().data_bucket, Key=key, Range=f"bytes={start}-{end}"
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "InvalidRange":
            return b""
        raise
    return response["Body"].read()


def read_tail(key: str, count: int) -> bytes:
    """The last `count` bytes of an object in the data bucket."""
    response = client("s3").get_object(Bucket=get_settings().data_bucket, Key=key, Range=f"bytes=-{count}")
    return response["Body"].read()
