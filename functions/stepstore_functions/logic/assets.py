"""Assets: typed, versioned objects that outlive flows; saved all or nothing, shared read-only."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from stepstore_functions.dal import assets as asset_store
from stepstore_functions.dal import cursors
from stepstore_functions.dal.blobs import BlobStore
from stepstore_functions.dal.cursors import page_size
from stepstore_functions.logic.uploads import Ticket, declared, more_part_urls, open_upload, verify_upload
from stepstore_functions.models.assets import (
    MAX_LINKS,
    MAX_METADATA_BYTES,
    AssetDraft,
    AssetShare,
    AssetType,
    AssetVersion,
    PendingAssetUpload,
    valid_asset_id,
    valid_label,
)
from stepstore_functions.models.domain import Actor, valid_user_name
from stepstore_functions.models.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from stepstore_functions.settings import get_settings


@dataclass(frozen=True)
class ReadableAsset:
    record: AssetVersion
    url: str | None


def _asset_blobs() -> BlobStore:
    return BlobStore.of(get_settings().assets_bucket)


def _readable(record: AssetVersion) -> ReadableAsset:
    return ReadableAsset(
        record=record, url=_asset_blobs().presign_download(record.key, record.object_version)
    )


def _check_draft(draft: AssetDraft) -> None:
    valid_label("label", draft.label)
    if draft.name is not None:
        valid_label("name", draft.name)
    if len(draft.links) > MAX_LINKS:
        raise InvalidInputError(
            f"an asset may link at most {MAX_LINKS} assets, got {len(draft.links)}", "links"
        )
    for link_label in draft.links:
        valid_label("links", link_label)
    try:
        encoded = json.dumps([draft.metadata, draft.attributes, draft.links, draft.description])
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"asset metadata is not JSON: {error}", field="metadata") from error
    if len(encoded.encode()) > MAX_METADATA_BYTES:
        raise InvalidInputError(
            f"asset metadata, attributes and links take {len(encoded.encode())} bytes as JSON; "
            f"the limit is {MAX_METADATA_BYTES}",
            field="metadata",
        )


def _visible_head(actor: Actor, asset_id: str) -> AssetVersion:
    """The asset if the actor owns it or it is shared with them; otherwise not found, disclosing nothing."""
    valid_asset_id(asset_id)
    head = asset_store.get_head(asset_id) if asset_store.readable_by(asset_id, actor.user) else None
    if head is None:  # never readable, or deleted since
        raise NotFoundError(f"asset {asset_id} not found")
    return head


def _owned_head(actor: Actor, asset_id: str, doing: str) -> AssetVersion:
    head = _visible_head(actor, asset_id)
    if head.owner != actor.user:
        raise ForbiddenError(
            f"asset {asset_id} is shared with {actor.user!r} read-only; only its owner may {doing}"
        )
    return head


def _check_save_target(actor: Actor, draft: AssetDraft, overwrite: bool, asset_id: str | None) -> None:
    """Refuse a save that would be refused at commit, before any bytes are sent."""
    holder = asset_store.find_by_label(actor.user, draft.asset_type, draft.label)
    if asset_id is not None:
        _owned_head(actor, asset_id, "add versions to it")
        if not overwrite:
            raise ConflictError(f"asset {asset_id} exists; save with overwrite=True to add a version to it")
        if holder is not None and holder != asset_id:
            raise ConflictError(
                f"label {draft.label!r} of type {draft.asset_type.value!r} belongs to asset {holder}, "
                f"not to asset {asset_id}"
            )
    elif holder is not None and not overwrite:
        raise ConflictError(
            f"asset {holder} already has label {draft.label!r} and type {draft.asset_type.value!r}; "
            "save with overwrite=True to add a version"
        )
    for link_label, linked_id in draft.links.items():
        try:
            _visible_head(actor, linked_id)
        except (NotFoundError, InvalidInputError) as error:
            raise InvalidInputError(
                f"link {link_label!r} names asset {linked_id!r}: {error}", field="links"
            ) from error


def start_upload(
    actor: Actor,
    draft: AssetDraft,
    size: int | None,
    etag: str | None,
    part_size: int | None,
    overwrite: bool,
    asset_id: str | None,
    initial_parts: int | None = None,
) -> Ticket:
    """Presigned URLs for a new asset version's bytes; nothing is visible until `commit_upload`.

    Size and ETag are declared here when known; a client that encodes while it uploads (a large
    DataFrame streamed as Parquet) declares them at commit and asks for more part URLs as it goes.
    """
    _check_draft(draft)
    _check_save_target(actor, draft, overwrite, asset_id)
    opened = open_upload(_asset_blobs(), f"assets/{actor.user}", size, etag, part_size, initial_parts)
    asset_store.create_upload(
        PendingAssetUpload(
            upload_id=opened.upload_id,
            owner=actor.user,
            draft=draft,
            key=opened.key,
            size=size,
            etag=etag,
            part_count=opened.part_count,
            multipart_id=opened.multipart_id,
            overwrite=overwrite,
            target_asset_id=asset_id,
        ),
        get_settings().upload_ttl_seconds,
    )
    return opened.ticket


def _pending(actor: Actor, upload_id: str) -> PendingAssetUpload:
    upload = asset_store.get_upload(upload_id)
    if upload is None or upload.owner != actor.user:
        raise NotFoundError(f"asset upload {upload_id!r} not found")
    return upload


def presign_more_parts(actor: Actor, upload_id: str, first: int, count: int) -> list[str]:
    """Part URLs for a streamed upload that needs more parts than it asked for at the start."""
    upload = _pending(actor, upload_id)
    return more_part_urls(_asset_blobs(), upload.key, upload.multipart_id, upload_id, first, count)


def commit_upload(
    actor: Actor,
    upload_id: str,
    parts: list[tuple[int, str]],
    size: int | None = None,
    etag: str | None = None,
) -> AssetVersion:
    """Make the uploaded version visible, once its object is complete and matches size and ETag.

    Anything that fails here (mismatched bytes, a conflict that appeared meanwhile) deletes the
    object and writes no metadata, so a save is all or nothing.
    """
    upload = _pending(actor, upload_id)
    expected_size, expected_etag = declared(upload.size, upload.etag, size, etag)
    blobs = _asset_blobs()
    label = upload.draft.label

    def discard() -> None:
        asset_store.purge_object(blobs.bucket, upload.key)
        asset_store.delete_upload(upload_id)

    stored = verify_upload(
        blobs,
        upload.key,
        upload.multipart_id,
        parts,
        upload.part_count,
        expected_size,
        expected_etag,
        f"asset {label!r} (upload {upload_id})",
        forget=lambda: asset_store.delete_upload(upload_id),
        remove=lambda key: asset_store.purge_object(blobs.bucket, key),
    )
    # Retag before the metadata exists: a failed commit leaves an orphan object, never a dangling item.
    blobs.mark_committed(upload.key)
    try:
        record = asset_store.save_version(
            actor.user,
            uuid.uuid4().hex,
            upload.draft,
            expected_size,
            expected_etag,
            upload.key,
            upload.overwrite,
            upload.target_asset_id,
            stored.version_id,
        )
    except (ConflictError, NotFoundError):
        discard()
        raise
    asset_store.delete_upload(upload_id)
    return record


def get_asset_by_id(actor: Actor, asset_id: str, version: int | None = None) -> ReadableAsset:
    """The asset's current version (or `version`), if the actor may read it."""
    head = _visible_head(actor, asset_id)
    if version is None or version == head.version:
        return _readable(head)
    found = asset_store.get_version(asset_id, version)
    if found is None:
        raise NotFoundError(f"asset {asset_id} has no version {version} (its latest is {head.version})")
    return _readable(found)


def list_versions(
    actor: Actor, asset_id: str, limit: int | None = None, cursor: str | None = None
) -> tuple[list[AssetVersion], str | None]:
    """One page of the asset's versions, newest first, and the next page's cursor."""
    _visible_head(actor, asset_id)
    return asset_store.versions_page(asset_id, page_size(limit), cursor)


def _candidate_heads(
    actor: Actor,
    label: str | None,
    asset_type: AssetType | None,
    name: str | None,
    asset_id: str | None,
    owner: str | None = None,
) -> tuple[list[AssetVersion], list[AssetVersion]]:
    """Current versions the actor may read that match label, type and owner (not yet name): their
    own, and those shared with them.

    Sharing never changes what a user's own lookups return: a shared asset whose type and label the
    actor also holds is left out, unless `owner` names its owner (or `asset_id` names it).
    """
    if owner is not None:
        valid_user_name("owner", owner)
    if asset_id is not None:
        head = _visible_head(actor, asset_id)
        own, shared = ([head], []) if head.owner == actor.user else ([], [head])
    else:
        own = []
        if owner is None or owner == actor.user:
            if label is not None and asset_type is not None:
                own_id = asset_store.find_by_label(actor.user, asset_type, label)
                own = asset_store.get_heads([own_id]) if own_id else []
            elif name is not None:
                own = asset_store.owned_heads_named(actor.user, name)
            else:
                own = asset_store.owned_heads(actor.user)
        shared = []
        if owner != actor.user:
            shared = asset_store.get_heads(asset_store.shared_with(actor.user, asset_type, label))
            if owner is None:
                held = asset_store.labels_held(
                    actor.user, {(h.draft.asset_type, h.draft.label) for h in shared}
                )
                shared = [h for h in shared if (h.draft.asset_type, h.draft.label) not in held]

    def wanted(head: AssetVersion) -> bool:
        return (
            (label is None or head.draft.label == label)
            and (asset_type is None or head.draft.asset_type is asset_type)
            and (owner is None or head.owner == owner)
        )

    return [h for h in own if wanted(h)], [h for h in shared if wanted(h)]


def list_assets(
    actor: Actor,
    label: str | None = None,
    asset_type: AssetType | None = None,
    name: str | None = None,
    asset_id: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    owner: str | None = None,
) -> tuple[list[ReadableAsset], str | None]:
    """One page of the current versions of the assets the actor may read that match, and the next cursor.

    The actor's own assets come first (newest first), then those shared with them; each page is one
    index query, so a page may hold fewer than `limit` assets and still not be the last. Each with a
    download URL (presigning is local signing, no request). An asset_id the actor may not read simply
    matches nothing. A shared asset with the type and label of one of the actor's own is listed only
    when `owner` names its owner.
    """
    size = page_size(limit)
    if owner is not None:
        valid_user_name("owner", owner)

    def matches(head: AssetVersion) -> bool:
        return (
            (label is None or head.draft.label == label)
            and (asset_type is None or head.draft.asset_type is asset_type)
            and (name is None or head.draft.name == name)
            and (owner is None or head.owner == owner)
        )

    if asset_id is not None:
        if cursor is not None:
            raise cursors.bad_cursor("assets")
        try:
            head = _visible_head(actor, asset_id)
        except NotFoundError:
            return [], None
        return ([_readable(head)] if matches(head) else []), None
    position = cursors.decode(cursor, "assets") or {"phase": "own", "key": None}
    phase, key = position.get("phase"), position.get("key")
    if phase not in ("own", "shared") or set(position) != {"phase", "key"}:
        raise cursors.bad_cursor("assets")
    found: list[AssetVersion] = []
    if phase == "own" and owner is not None and owner != actor.user:
        phase, key = "shared", None  # only others' assets are asked for
    if phase == "own":
        heads, last = asset_store.owned_page(actor.user, asset_type, label, name, size, key)
        found = [h for h in heads if matches(h)]
        if last is not None:
            return [_readable(h) for h in found], cursors.encode("assets", {"phase": "own", "key": last})
        if owner == actor.user:
            return [_readable(h) for h in found], None
        size -= len(heads)
        if size <= 0:
            return [_readable(h) for h in found], cursors.encode("assets", {"phase": "shared", "key": None})
        key = None
    shared_ids, last = asset_store.shared_page(actor.user, asset_type, label, size, key)
    shared = [h for h in asset_store.get_heads(shared_ids) if h.owner != actor.user and matches(h)]
    if owner is None:
        # Sharing never changes what a user's own lookups return: a shared asset whose type and label
        # the actor also holds is left out unless its owner is named.
        held = asset_store.labels_held(actor.user, {(h.draft.asset_type, h.draft.label) for h in shared})
        shared = [h for h in shared if (h.draft.asset_type, h.draft.label) not in held]
    found += shared
    after = cursors.encode("assets", {"phase": "shared", "key": last}) if last is not None else None
    return [_readable(h) for h in found], after


def find_asset(
    actor: Actor,
    label: str | None = None,
    asset_type: AssetType | None = None,
    name: str | None = None,
    time_created: datetime | None = None,
    asset_id: str | None = None,
    owner: str | None = None,
) -> ReadableAsset:
    """The newest version that matches every filter given, of the actor's own assets when any
    matches, else of those shared with them (or of `owner`'s, when named).

    Own assets always win: sharing an asset with someone can never change what their lookups of
    their own return. Name and time_created match older versions too: an asset whose current
    version was renamed is still found by the name one of its versions had.
    """
    if label is None and asset_type is None and asset_id is None:
        raise InvalidInputError("give a label or a type (or an asset_id) to find an asset", field="label")
    when = _as_utc(time_created) if time_created is not None else None
    own, shared = _candidate_heads(actor, label, asset_type, None, asset_id, owner)
    best = _newest_match(own, name, when) or _newest_match(shared, name, when)
    if best is None:
        raise NotFoundError(
            f"no asset matches {_describe(label, asset_type, name, time_created, asset_id, owner)}"
        )
    return _readable(best)


def _newest_match(heads: list[AssetVersion], name: str | None, when: datetime | None) -> AssetVersion | None:
    best: AssetVersion | None = None
    for head in heads:
        if (name is None or head.draft.name == name) and (when is None or head.created_at == when):
            found: AssetVersion | None = head
        elif name is None and when is None:
            found = None
        else:
            found = next(
                (
                    v
                    for v in asset_store.versions(head.asset_id)
                    if (name is None or v.draft.name == name) and (when is None or v.created_at == when)
                ),
                None,
            )
        if found is not None and (best is None or found.created_at > best.created_at):
            best = found
    return best


def _describe(
    label: str | None,
    asset_type: AssetType | None,
    name: str | None,
    when: datetime | None,
    asset_id: str | None,
    owner: str | None = None,
) -> str:
    given = {
        "label": label,
        "type": asset_type.value if asset_type else None,
        "name": name,
        "asset_id": asset_id,
        "owner": owner,
    }
    parts = [f"{k}={v!r}" for k, v in given.items() if v is not None]
    if when is not None:
        parts.append(f"time_created={when.isoformat()}")
    return ", ".join(parts)


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def delete_asset(actor: Actor, asset_id: str) -> int:
    """Delete every version's metadata and object; returns how many versions there were."""
    _owned_head(actor, asset_id, "delete it")
    removed = asset_store.delete_asset(asset_id)
    bucket = _asset_blobs().bucket
    for record in removed:
        asset_store.purge_object(bucket, record.key)
    return len(removed)


def share_asset(actor: Actor, asset_id: str, grantee: str) -> AssetShare:
    """Let `grantee` read every version of the asset (not change or delete it)."""
    head = _owned_head(actor, asset_id, "share it")
    valid_user_name("user", grantee)
    if grantee == actor.user:
        raise InvalidInputError(f"asset {asset_id} is already yours, {grantee!r}", field="user")
    # Whether `grantee` is a user is not checked: the answer must not tell users apart from names
    # nobody has (that would let anyone list the users). A share names a user name.
    return asset_store.put_share(head, grantee)


def unshare_asset(actor: Actor, asset_id: str, grantee: str) -> None:
    _owned_head(actor, asset_id, "change who it is shared with")
    valid_user_name("user", grantee)
    if not asset_store.delete_share(asset_id, grantee):
        raise NotFoundError(f"asset {asset_id} is not shared with {grantee!r}")


def list_shares(
    actor: Actor, asset_id: str, limit: int | None = None, cursor: str | None = None
) -> tuple[list[AssetShare], str | None]:
    """One page of who the asset is shared with, and the next page's cursor (owner only)."""
    _owned_head(actor, asset_id, "see who it is shared with")
    return asset_store.shares_page(asset_id, page_size(limit), cursor)
