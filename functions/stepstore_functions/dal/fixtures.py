"""Fixture files in the fixtures bucket, and the uploads that precede them (metadata table)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from stepstore_functions.dal.clients import client
from stepstore_functions.dal.tables import _MetadataModel, on_metadata_table, utcnow


@on_metadata_table
class FixtureUploadItem(_MetadataModel):
    """pk=FIXUPLOAD#<id>, sk=FIXUPLOAD: a fixture upload handed out but not yet committed; expires by TTL."""

    class Meta(_MetadataModel.Meta):
        pass

    key = UnicodeAttribute()
    staging_key = UnicodeAttribute()
    uploader = UnicodeAttribute()
    size = NumberAttribute()
    etag = UnicodeAttribute()
    part_count = NumberAttribute()
    multipart_id = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    etag: str
    last_modified: datetime


@dataclass(frozen=True)
class FixtureUpload:
    upload_id: str
    key: str
    staging_key: str
    uploader: str
    size: int
    etag: str
    part_count: int
    multipart_id: str | None


def list_objects(
    bucket: str, prefix: str, limit: int, start_after: str | None = None, s3: Any = None
) -> tuple[list[StoredObject], bool]:
    """Up to `limit` (at most 1000) objects under `prefix` after `start_after`, in key order, from one
    ListObjectsV2 call; and whether more matched."""
    s3 = s3 or client("s3")
    request: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": min(limit, 1000)}
    if start_after:
        request["StartAfter"] = start_after
    page = s3.list_objects_v2(**request)
    found = [
        StoredObject(
            key=entry["Key"],
            size=int(entry["Size"]),
            etag=str(entry.get("ETag", "")).strip('"'),
            last_modified=entry["LastModified"],
        )
        for entry in page.get("Contents", [])
    ]
    return found, bool(page.get("IsTruncated"))


_COPY_PART_BYTES = 1024**3  # parts of a multipart copy
_MAX_SINGLE_COPY_BYTES = 5 * 1024**3  # S3's limit for one CopyObject


def copy_object(
    bucket: str, source_key: str, key: str, s3: Any = None, *, if_match: str | None = None, tagging: str = ""
) -> None:
    """Server-side copy within the bucket (multipart for objects past 5 GB).

    With `if_match`, only a source with that ETag is copied (the bytes that were verified); the copy
    carries `tagging` (URL-encoded) instead of the source's tags.
    """
    s3 = s3 or client("s3")
    source = {"Bucket": bucket, "Key": source_key}
    condition = {"CopySourceIfMatch": f'"{if_match}"'} if if_match else {}
    size = int(s3.head_object(Bucket=bucket, Key=source_key)["ContentLength"])
    if size <= _MAX_SINGLE_COPY_BYTES:
        s3.copy_object(
            CopySource=source,
            Bucket=bucket,
            Key=key,
            TaggingDirective="REPLACE",
            Tagging=tagging,
            **condition,
        )
        return
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, Tagging=tagging)["UploadId"]
    try:
        parts = []
        for number, start in enumerate(range(0, size, _COPY_PART_BYTES), start=1):
            end = min(start + _COPY_PART_BYTES, size) - 1
            copied = s3.upload_part_copy(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                CopySource=source,
                CopySourceRange=f"bytes={start}-{end}",
                **condition,
            )
            parts.append({"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]})
        s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
    except BaseException:
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        raise


def create_upload(upload: FixtureUpload, ttl_seconds: int) -> None:
    FixtureUploadItem(
        pk=f"FIXUPLOAD#{upload.upload_id}",
        sk="FIXUPLOAD",
        key=upload.key,
        staging_key=upload.staging_key,
        uploader=upload.uploader,
        size=upload.size,
        etag=upload.etag,
        part_count=upload.part_count,
        multipart_id=upload.multipart_id,
        expires_at=utcnow() + timedelta(seconds=ttl_seconds),
    ).save()


def get_upload(upload_id: str) -> FixtureUpload | None:
    try:
        item = FixtureUploadItem.get(f"FIXUPLOAD#{upload_id}", "FIXUPLOAD", consistent_read=True)
    except DoesNotExist:
        return None
    if item.expires_at is not None and item.expires_at < utcnow():
        return None  # TTL deletes lazily; an expired upload is gone as far as callers can tell
    return FixtureUpload(
        upload_id=upload_id,
        key=item.key,
        staging_key=item.staging_key,
        uploader=item.uploader,
        size=int(item.size),
        etag=item.etag,
        part_count=int(item.part_count),
        multipart_id=item.multipart_id,
    )


def delete_upload(upload_id: str) -> None:
    FixtureUploadItem(pk=f"FIXUPLOAD#{upload_id}", sk="FIXUPLOAD").delete()
