"""What every presigned upload shares (outputs, assets, pages, DataSource files, fixtures):
planning its parts, and verifying its bytes before any metadata points at them."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from stepstore_functions.dal.blobs import BlobStore, ObjectHead
from stepstore_functions.models.api import MAX_PARTS, MIN_PART_BYTES
from stepstore_functions.models.errors import InvalidInputError
from stepstore_functions.settings import get_settings

MAX_SINGLE_PUT_BYTES = 5 * 1024**3


def plan_parts(size: int, etag: str | None, part_size: int | None) -> int:
    """How many parts an upload of `size` bytes has; a declared ETag's '-N' suffix must agree."""
    if part_size is None:
        if etag and "-" in etag:
            raise InvalidInputError("a multipart ETag needs part_size", field="etag")
        if size > MAX_SINGLE_PUT_BYTES:
            raise InvalidInputError(f"size {size} needs a multipart upload (part_size)", field="size")
        return 1
    part_count = max(1, math.ceil(size / part_size))
    if part_count > MAX_PARTS:
        raise InvalidInputError(
            f"{part_count} parts of {part_size} bytes; at most {MAX_PARTS}", field="part_size"
        )
    if part_count == 1 or size < MIN_PART_BYTES:
        raise InvalidInputError("an upload that fits in one part must not be multipart", field="part_size")
    if etag is not None and not etag.endswith(f"-{part_count}"):
        raise InvalidInputError(f"ETag of {part_count} parts must end in '-{part_count}'", field="etag")
    return part_count


@dataclass(frozen=True)
class Ticket:
    """What the caller needs to send the bytes: where, with which headers, for how long."""

    upload_id: str
    urls: list[str]
    part_size: int | None
    headers: dict[str, str]
    expires_in: int


@dataclass(frozen=True)
class OpenedUpload:
    """An upload handed out: its object key, part count (0 until a streamed one commits) and ticket."""

    upload_id: str
    key: str
    part_count: int
    multipart_id: str | None
    ticket: Ticket


def open_upload(
    blobs: BlobStore,
    key_prefix: str,
    size: int | None,
    etag: str | None,
    part_size: int | None,
    initial_parts: int | None = None,
) -> OpenedUpload:
    """Presign the upload of a new object under `key_prefix`.

    Size and ETag are declared now when known; a caller that produces the bytes as it uploads
    them declares them at commit, and asks for `initial_parts` part URLs now (more later).
    """
    if size is None:
        if etag is not None:
            raise InvalidInputError("an ETag without the size it belongs to", field="etag")
        part_count, presign_now = 0, (initial_parts or 1) if part_size is not None else 1
    else:
        part_count = plan_parts(size, etag, part_size)
        presign_now = part_count
    upload_id = uuid.uuid4().hex
    key = f"{key_prefix}/{upload_id}"
    presigned = blobs.presign_upload(
        key, presign_now, multipart=part_size is not None, size=size, etag=etag, part_size=part_size
    )
    ticket = Ticket(
        upload_id=upload_id,
        urls=presigned.urls,
        part_size=part_size if presigned.multipart_id else None,
        headers=presigned.headers,
        expires_in=get_settings().presign_seconds,
    )
    return OpenedUpload(upload_id, key, part_count, presigned.multipart_id, ticket)


def declared(
    start_size: int | None, start_etag: str | None, size: int | None, etag: str | None
) -> tuple[int, str]:
    """The size and ETag the object must have: declared at the start, at commit, or both alike."""
    for field, at_start, at_commit in (("size", start_size, size), ("etag", start_etag, etag)):
        if at_start is not None and at_commit is not None and at_start != at_commit:
            raise InvalidInputError(
                f"{field} at commit ({at_commit}) differs from the start ({at_start})", field
            )
    final_size = start_size if start_size is not None else size
    final_etag = start_etag if start_etag is not None else etag
    if final_size is None or final_etag is None:
        missing = "size" if final_size is None else "etag"
        raise InvalidInputError(
            f"the upload's {missing} was declared neither at start nor at commit", missing
        )
    return final_size, final_etag


def more_part_urls(
    blobs: BlobStore, key: str, multipart_id: str | None, upload_id: str, first: int, count: int
) -> list[str]:
    """Part URLs for a streamed upload that needs more parts than it asked for at the start."""
    if multipart_id is None:
        raise InvalidInputError(f"upload {upload_id!r} is a single PUT, not multipart", field="upload_id")
    if first + count - 1 > MAX_PARTS:
        raise InvalidInputError(f"a multipart upload has at most {MAX_PARTS} parts", field="count")
    return blobs.presign_parts(key, multipart_id, first, count)


def verify_upload(
    blobs: BlobStore,
    key: str,
    multipart_id: str | None,
    parts: list[tuple[int, str]],
    part_count: int,
    size: int,
    etag: str,
    what: str,
    forget: Callable[[], None],
    remove: Callable[[str], None] | None = None,
) -> ObjectHead:
    """Assemble a multipart upload, then check that the object has the declared size and ETag;
    returns what S3 holds (with its version id in a versioned bucket).

    On a mismatch the object is removed (`remove`, by default a delete) and the upload forgotten, so
    no metadata can ever point at it; InvalidInputError names `what` and the difference. An object
    that is simply not there yet leaves the upload open for another try.
    """
    if multipart_id is not None:
        numbers = sorted(n for n, _ in parts)
        expected = part_count or len(parts)
        if numbers != list(range(1, expected + 1)):
            raise InvalidInputError(
                f"expected parts 1 to {expected} of {what}, got {len(parts)} numbered {numbers[:3]}...",
                field="parts",
            )
        if not blobs.complete_multipart(key, multipart_id, sorted(parts)):
            blobs.abort_multipart(key, multipart_id)
            forget()
            raise InvalidInputError(
                f"the parts of {what} could not be assembled; upload again", field="parts"
            )
    head = blobs.head(key)
    if head is None:
        raise InvalidInputError(f"{what} has not been uploaded yet", field="upload_id")
    if head.size != size or head.etag != etag:
        (remove or blobs.delete)(key)
        forget()
        raise InvalidInputError(
            f"uploaded object for {what} does not match: {head.size} bytes with ETag {head.etag}, "
            f"declared {size} bytes with ETag {etag}",
            field="etag",
        )
    return head
