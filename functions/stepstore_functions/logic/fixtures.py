"""Fixtures (shared files under `fixture/` in the fixtures bucket) and presigned reads of allowed buckets.

Every user may list and read fixtures; only admin and service tokens may add them, since every flow
of the deployment reads the same files.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass

from stepstore_functions.dal import cursors
from stepstore_functions.dal import fixtures as fixture_store
from stepstore_functions.dal.blobs import COMMITTED_TAGGING, BlobStore
from stepstore_functions.dal.fixtures import FixtureUpload, StoredObject
from stepstore_functions.dal.tables import utcnow
from stepstore_functions.logic.uploads import plan_parts, verify_upload
from stepstore_functions.models.domain import Actor, Role
from stepstore_functions.models.errors import ForbiddenError, InvalidInputError, NotFoundError
from stepstore_functions.resources import FIXTURE_PREFIX
from stepstore_functions.settings import get_settings

MAX_LISTED = 1000  # one ListObjectsV2 call
MAX_KEY_CHARS = 1024
STAGING_PREFIX = "staging/fixtures/"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Download:
    bucket: str
    key: str
    size: int
    etag: str
    url: str
    expires_in: int


@dataclass(frozen=True)
class FixtureTicket:
    upload_id: str
    key: str
    urls: list[str]
    part_size: int | None
    headers: dict[str, str]
    expires_in: int


def _fixture_blobs() -> BlobStore:
    return BlobStore.of(get_settings().fixtures_bucket)


def check_relative_path(field: str, value: str) -> str:
    """A path inside the fixture area: no '..', not absolute, no backslashes or control characters."""
    if len(value) > MAX_KEY_CHARS:
        raise InvalidInputError(f"{field} is longer than {MAX_KEY_CHARS} characters", field=field)
    if ".." in value:
        raise InvalidInputError(
            f"{field} {value!r} is refused: '..' may not climb out of {FIXTURE_PREFIX}", field=field
        )
    if value.startswith(("/", "~")) or "\\" in value or "://" in value or re.match(r"^[A-Za-z]:", value):
        raise InvalidInputError(
            f"{field} {value!r} is refused: give a path relative to {FIXTURE_PREFIX}, not an absolute one",
            field=field,
        )
    if _CONTROL.search(value):
        raise InvalidInputError(f"{field} contains control characters", field=field)
    return value


def fixture_key(key: str) -> str:
    """The full key for a fixture named relative to the fixture area (or already under it)."""
    relative = key[len(FIXTURE_PREFIX) :] if key.startswith(FIXTURE_PREFIX) else key
    check_relative_path("key", relative)
    if not relative or relative.endswith("/"):
        raise InvalidInputError(f"key {key!r} names a folder, not a file", field="key")
    return FIXTURE_PREFIX + relative


def list_fixtures(
    actor: Actor, prefix: str | None, limit: int, cursor: str | None = None
) -> tuple[str, list[StoredObject], str | None]:
    """One page of fixture keys under `fixture/{prefix}`, in key order, and the next page's cursor."""
    relative = check_relative_path("prefix", prefix or "")
    full = FIXTURE_PREFIX + relative
    after = cursors.decode(cursor, "fixtures")
    start = None
    if after is not None:
        start = after.get("after") if set(after) == {"after"} else None
        if not isinstance(start, str) or not start.startswith(full) or len(start) > MAX_KEY_CHARS:
            raise cursors.bad_cursor("fixtures")
    objects, truncated = fixture_store.list_objects(
        get_settings().fixtures_bucket, full, min(max(limit, 1), MAX_LISTED), start
    )
    next_cursor = cursors.encode("fixtures", {"after": objects[-1].key}) if truncated and objects else None
    return full, objects, next_cursor


def readable_buckets() -> frozenset[str]:
    """The fixtures bucket and those the deployment configured (STEPSTORE_READABLE_BUCKETS)."""
    settings = get_settings()
    extra = {b.strip() for b in settings.readable_buckets.split(",") if b.strip()}
    return frozenset({settings.fixtures_bucket, *extra})


def download(actor: Actor, bucket: str, key: str) -> Download:
    """A presigned GET of an object in a bucket this deployment lets flows read.

    The data and assets buckets are never on that list: their objects are reached through the
    outputs and assets routes, which check ownership.
    """
    if bucket not in readable_buckets():
        raise ForbiddenError(
            f"bucket {bucket!r} is not readable through StepStore; the deployment allows the fixtures bucket "
            "and those listed in STEPSTORE_READABLE_BUCKETS"
        )
    if not key or len(key) > MAX_KEY_CHARS or _CONTROL.search(key):
        raise InvalidInputError(f"key {key[:64]!r} is not a valid object key", field="key")
    blobs = BlobStore(bucket, get_settings().presign_seconds)
    head = blobs.head(key)
    if head is None:
        raise NotFoundError(f"object {key!r} not found in bucket {bucket!r}")
    return Download(bucket, key, head.size, head.etag, blobs.presign_download(key), blobs.presign_seconds)


def download_fixture(actor: Actor, key: str) -> Download:
    return download(actor, get_settings().fixtures_bucket, fixture_key(key))


def decode_key(encoded: str) -> str:
    """Fixture keys travel in upload paths base64url-encoded (they contain '/')."""
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInputError("the key segment is not base64url-encoded UTF-8", field="key") from None


def _require_writer(actor: Actor) -> None:
    if actor.role not in (Role.ADMIN, Role.SERVICE):
        raise ForbiddenError(
            f"only admin and service tokens may add fixtures; {actor.principal!r} is a {actor.role.value}"
        )


def start_upload(actor: Actor, key: str, size: int, etag: str, part_size: int | None) -> FixtureTicket:
    """Presigned URLs for a fixture's bytes; they land under a staging key until committed."""
    _require_writer(actor)
    full = fixture_key(key)
    part_count = plan_parts(size, etag, part_size)
    upload_id = uuid.uuid4().hex
    staging_key = f"{STAGING_PREFIX}{upload_id}"
    presigned = _fixture_blobs().presign_upload(
        staging_key, part_count, size=size, etag=etag, part_size=part_size
    )
    settings = get_settings()
    fixture_store.create_upload(
        FixtureUpload(
            upload_id=upload_id,
            key=full,
            staging_key=staging_key,
            uploader=actor.principal,
            size=size,
            etag=etag,
            part_count=part_count,
            multipart_id=presigned.multipart_id,
        ),
        settings.upload_ttl_seconds,
    )
    return FixtureTicket(
        upload_id=upload_id,
        key=full,
        urls=presigned.urls,
        part_size=part_size if part_count > 1 else None,
        headers=presigned.headers,
        expires_in=settings.presign_seconds,
    )


def commit_upload(actor: Actor, key: str, upload_id: str, parts: list[tuple[int, str]]) -> StoredObject:
    """Verify the staged bytes against the declared size and ETag, then put them at the fixture's key.

    A mismatched upload is deleted and the fixture it meant to replace stays as it was.
    """
    _require_writer(actor)
    full = fixture_key(key)
    upload = fixture_store.get_upload(upload_id)
    if upload is None or upload.key != full or upload.uploader != actor.principal:
        raise NotFoundError(f"upload {upload_id!r} of fixture {full!r} not found")
    blobs = _fixture_blobs()
    verify_upload(
        blobs,
        upload.staging_key,
        upload.multipart_id,
        parts,
        upload.part_count,
        upload.size,
        upload.etag,
        f"fixture {full!r} (upload {upload_id})",
        forget=lambda: fixture_store.delete_upload(upload_id),
    )
    # Only the verified bytes are copied (the staging object is create-only, and the copy is
    # conditional on its ETag besides), and the fixture is never tagged staging, not even briefly.
    fixture_store.copy_object(
        blobs.bucket, upload.staging_key, full, if_match=upload.etag, tagging=COMMITTED_TAGGING
    )
    blobs.delete(upload.staging_key)
    fixture_store.delete_upload(upload_id)
    stored = blobs.head(full)
    if stored is None:  # pragma: no cover - deleted between copy and head
        raise NotFoundError(f"fixture {full!r} not found")
    return StoredObject(key=full, size=stored.size, etag=stored.etag, last_modified=utcnow())
