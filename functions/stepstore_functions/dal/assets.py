"""Assets in the metadata table: heads, versions, label claims, shares and pending uploads.

Item layout (all keyed pk/sk; gsi1/gsi2 are the table's overloaded indexes):

- head     pk=ASSET#<id>  sk=HEAD        the current version's fields + latest_version;
           gsi1 ASSETS#<owner> / <updated iso>#<id> (an owner's assets, newest first),
           gsi2 ASSETNAME#<owner>#<name> / <updated iso>#<id> (by name, newest first).
- version  pk=ASSET#<id>  sk=V#<8 digits> one per saved version, never changed.
- owner    pk=ASSET#<id>  sk=OWNER#<owner>  keys only: lets an access check ask for items keyed by
           the reader alone (this, or their share), which exist only when access is granted, so
           refusing a hidden asset reads exactly what refusing an absent one does.
- share    pk=ASSET#<id>  sk=SHARE#<grantee>;
           gsi1 SHARED#<grantee> / <type>#<label>#<id> (what is shared with a user).
- label    pk=ASSETLABEL#<owner>#<type>#<label> sk=LABEL: claims (owner, type, label) for one asset.
- upload   pk=ASSETUPLOAD#<upload id> sk=UPLOAD: a save whose bytes are not committed yet (TTL).

Saving a version is one conditional transaction: the version item must be new and the head must
still be at the version it was read at (or not exist yet, with the label unclaimed), so concurrent
saves each get their own version number and a half-done save writes nothing.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError

from stepstore_functions.dal import cursors
from stepstore_functions.dal.clients import client
from stepstore_functions.dal.tables import (
    ByGsi1,
    ByGsi2,
    _MetadataModel,
    lost_a_race,
    on_metadata_table,
    read_together,
    transaction,
    utcnow,
)
from stepstore_functions.models.assets import (
    AssetDraft,
    AssetFormat,
    AssetShare,
    AssetType,
    AssetVersion,
    PendingAssetUpload,
)
from stepstore_functions.models.errors import ConflictError, NotFoundError

_VERSION_DIGITS = 8
_SAVE_ATTEMPTS = 12
HEAD = "HEAD"


class _VersionFields(_MetadataModel):
    """Attributes a head and a version share (not a table item by itself)."""

    class Meta(_MetadataModel.Meta):
        pass

    asset_id = UnicodeAttribute()
    owner = UnicodeAttribute()
    version = NumberAttribute()
    asset_type = UnicodeAttribute()
    label = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    description = UnicodeAttribute(null=True)
    kind = UnicodeAttribute()
    data_format = UnicodeAttribute()
    metadata = JSONAttribute(default=dict)
    attributes = JSONAttribute(default=dict)
    links = JSONAttribute(default=dict)
    size = NumberAttribute()
    etag = UnicodeAttribute()
    key = UnicodeAttribute()
    object_version = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


@on_metadata_table
class AssetVersionItem(_VersionFields):
    """pk=ASSET#<id>, sk=V#<version, 8 digits>."""

    class Meta(_VersionFields.Meta):
        pass


@on_metadata_table
class AssetHeadItem(_VersionFields):
    """pk=ASSET#<id>, sk=HEAD: the current version, indexed by owner and by name."""

    class Meta(_VersionFields.Meta):
        pass

    latest_version = NumberAttribute()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    by_owner = ByGsi1()
    by_name = ByGsi2()


@on_metadata_table
class AssetLabelItem(_MetadataModel):
    """pk=ASSETLABEL#<owner>#<type>#<label>, sk=LABEL: which asset holds this label and type."""

    class Meta(_MetadataModel.Meta):
        pass

    asset_id = UnicodeAttribute()


@on_metadata_table
class AssetOwnerItem(_MetadataModel):
    """pk=ASSET#<id>, sk=OWNER#<owner>: who owns the asset, found by key by that owner alone."""

    class Meta(_MetadataModel.Meta):
        pass


@on_metadata_table
class AssetShareItem(_MetadataModel):
    """pk=ASSET#<id>, sk=SHARE#<grantee>; gsi1 lists what is shared with a grantee."""

    class Meta(_MetadataModel.Meta):
        pass

    asset_id = UnicodeAttribute()
    owner = UnicodeAttribute()
    grantee = UnicodeAttribute()
    asset_type = UnicodeAttribute()
    label = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    shared_with = ByGsi1()


@on_metadata_table
class AssetUploadItem(_MetadataModel):
    """pk=ASSETUPLOAD#<id>, sk=UPLOAD: a save handed presigned URLs but not committed; expires by TTL."""

    class Meta(_MetadataModel.Meta):
        pass

    owner = UnicodeAttribute()
    draft = JSONAttribute()
    key = UnicodeAttribute()
    size = NumberAttribute(null=True)
    etag = UnicodeAttribute(null=True)
    part_count = NumberAttribute()
    multipart_id = UnicodeAttribute(null=True)
    overwrite = NumberAttribute(default=0)
    target_asset_id = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()


def asset_pk(asset_id: str) -> str:
    return f"ASSET#{asset_id}"


def label_pk(owner: str, asset_type: AssetType, label: str) -> str:
    return f"ASSETLABEL#{owner}#{asset_type.value}#{label}"


def _version_sk(version: int) -> str:
    return f"V#{version:0{_VERSION_DIGITS}d}"


# Mapping between items and domain records


def _draft_dict(draft: AssetDraft) -> dict[str, Any]:
    return {
        "asset_type": draft.asset_type.value,
        "label": draft.label,
        "name": draft.name,
        "description": draft.description,
        "kind": draft.kind,
        "data_format": draft.data_format.value,
        "metadata": draft.metadata,
        "attributes": draft.attributes,
        "links": draft.links,
    }


def _draft_from_dict(raw: dict[str, Any]) -> AssetDraft:
    return AssetDraft(
        asset_type=AssetType(raw["asset_type"]),
        label=raw["label"],
        name=raw.get("name"),
        description=raw.get("description"),
        kind=raw["kind"],
        data_format=AssetFormat(raw["data_format"]),
        metadata=raw.get("metadata") or {},
        attributes=raw.get("attributes") or {},
        links=raw.get("links") or {},
    )


def _record(item: _VersionFields) -> AssetVersion:
    return AssetVersion(
        asset_id=item.asset_id,
        owner=item.owner,
        version=int(item.version),
        draft=AssetDraft(
            asset_type=AssetType(item.asset_type),
            label=item.label,
            name=item.name,
            description=item.description,
            kind=item.kind,
            data_format=AssetFormat(item.data_format),
            metadata=item.metadata or {},
            attributes=item.attributes or {},
            links=item.links or {},
        ),
        size=int(item.size),
        etag=item.etag,
        key=item.key,
        created_at=item.created_at,
        object_version=item.object_version,
    )


def _fields(record: AssetVersion) -> dict[str, Any]:
    draft = record.draft
    return {
        "asset_id": record.asset_id,
        "owner": record.owner,
        "version": record.version,
        "asset_type": draft.asset_type.value,
        "label": draft.label,
        "name": draft.name,
        "description": draft.description,
        "kind": draft.kind,
        "data_format": draft.data_format.value,
        "metadata": draft.metadata,
        "attributes": draft.attributes,
        "links": draft.links,
        "size": record.size,
        "etag": record.etag,
        "key": record.key,
        "object_version": record.object_version,
        "created_at": record.created_at,
    }


def _head_item(record: AssetVersion) -> AssetHeadItem:
    stamp = f"{record.created_at.isoformat()}#{record.asset_id}"
    named = record.draft.name is not None
    return AssetHeadItem(
        pk=asset_pk(record.asset_id),
        sk=HEAD,
        latest_version=record.version,
        gsi1pk=f"ASSETS#{record.owner}",
        gsi1sk=stamp,
        gsi2pk=f"ASSETNAME#{record.owner}#{record.draft.name}" if named else None,
        gsi2sk=stamp if named else None,
        **_fields(record),
    )


# Reads


def get_head(asset_id: str) -> AssetVersion | None:
    try:
        return _record(AssetHeadItem.get(asset_pk(asset_id), HEAD, consistent_read=True))
    except DoesNotExist:
        return None


def readable_by(asset_id: str, reader: str) -> bool:
    """Whether `reader` owns the asset or has a share of it: one read of two items keyed by the reader.

    Neither item exists for someone with no access, whether or not the asset does, so the check
    reads, and returns, exactly the same for a hidden asset as for an absent one.
    """
    pk = asset_pk(asset_id)
    found = read_together(
        [(AssetOwnerItem, pk, f"OWNER#{reader}"), (AssetShareItem, pk, f"SHARE#{reader}")], attributes=["pk"]
    )
    return any(item is not None for item in found)


def get_heads(asset_ids: Iterable[str]) -> list[AssetVersion]:
    keys = [(asset_pk(a), HEAD) for a in dict.fromkeys(asset_ids)]
    return [_record(item) for item in AssetHeadItem.batch_get(keys, consistent_read=True)] if keys else []


def find_by_label(owner: str, asset_type: AssetType, label: str) -> str | None:
    """The id of the owner's asset with this type and label, if any."""
    try:
        return AssetLabelItem.get(label_pk(owner, asset_type, label), "LABEL", consistent_read=True).asset_id
    except DoesNotExist:
        return None


def labels_held(owner: str, wanted: Iterable[tuple[AssetType, str]]) -> set[tuple[AssetType, str]]:
    """Which of these (type, label) pairs the owner holds an asset of: one batch read of label claims."""
    pairs = {label_pk(owner, t, label): (t, label) for t, label in wanted}
    if not pairs:
        return set()
    found = AssetLabelItem.batch_get([(pk, "LABEL") for pk in pairs], consistent_read=True)
    return {pairs[item.pk] for item in found}


def owned_heads(owner: str, limit: int | None = None) -> list[AssetVersion]:
    """The owner's assets (current versions), newest first: one index query."""
    items = AssetHeadItem.by_owner.query(f"ASSETS#{owner}", scan_index_forward=False, limit=limit)
    return [_record(i) for i in items]


def owned_heads_named(owner: str, name: str) -> list[AssetVersion]:
    items = AssetHeadItem.by_name.query(f"ASSETNAME#{owner}#{name}", scan_index_forward=False)
    return [_record(i) for i in items]


def owned_page(
    owner: str,
    asset_type: AssetType | None,
    label: str | None,
    name: str | None,
    limit: int,
    start: Any,
) -> tuple[list[AssetVersion], dict[str, str] | None]:
    """One page of the owner's assets (current versions) that match, newest first, and where to resume.

    `start` is the plain key a previous page stopped at (checked to lie in this owner's index range).
    """
    if label is not None and asset_type is not None:
        if start is not None:
            raise cursors.bad_cursor("assets")
        own_id = find_by_label(owner, asset_type, label)
        return (get_heads([own_id]) if own_id else []), None
    filters = None
    if asset_type is not None:
        filters = AssetHeadItem.asset_type == asset_type.value
    if label is not None:
        filters = (
            AssetHeadItem.label == label if filters is None else filters & (AssetHeadItem.label == label)
        )
    if name is not None:
        partition = f"ASSETNAME#{owner}#{name}"
        key = cursors.check_key(
            start, "assets", {"gsi2pk": partition, "sk": HEAD}, {"pk": "ASSET#", "gsi2sk": ""}
        )
        index = AssetHeadItem.by_name
    else:
        partition = f"ASSETS#{owner}"
        key = cursors.check_key(
            start, "assets", {"gsi1pk": partition, "sk": HEAD}, {"pk": "ASSET#", "gsi1sk": ""}
        )
        index = AssetHeadItem.by_owner
    items, last = cursors.query_page(
        AssetHeadItem,
        index.query,
        limit,
        key,
        hash_key=partition,
        scan_index_forward=False,
        filter_condition=filters,
    )
    return [_record(i) for i in items], cursors.plain_key(last)


def shared_page(
    grantee: str, asset_type: AssetType | None, label: str | None, limit: int, start: Any
) -> tuple[list[str], dict[str, str] | None]:
    """One page of the ids of assets shared with `grantee` (by type and label), and where to resume."""
    partition = f"SHARED#{grantee}"
    prefix = (
        f"{asset_type.value}#" + (f"{label}#" if label is not None else "") if asset_type is not None else ""
    )
    key = cursors.check_key(
        start, "assets", {"gsi1pk": partition, "sk": f"SHARE#{grantee}"}, {"pk": "ASSET#", "gsi1sk": prefix}
    )
    items, last = cursors.query_page(
        AssetShareItem,
        AssetShareItem.shared_with.query,
        limit,
        key,
        hash_key=partition,
        range_key_condition=AssetShareItem.gsi1sk.startswith(prefix) if prefix else None,
        filter_condition=(AssetShareItem.label == label)
        if label is not None and asset_type is None
        else None,
    )
    return [i.asset_id for i in items], cursors.plain_key(last)


def versions_page(asset_id: str, limit: int, cursor: str | None) -> tuple[list[AssetVersion], str | None]:
    """One page of the asset's versions, newest first, and the next page's cursor."""
    pk = asset_pk(asset_id)
    start = cursors.decode_key(cursor, "versions", {"pk": pk}, {"sk": "V#"})
    items, last = cursors.query_page(
        AssetVersionItem,
        AssetVersionItem.query,
        limit,
        start,
        hash_key=pk,
        range_key_condition=AssetVersionItem.sk.startswith("V#"),
        scan_index_forward=False,
        consistent_read=True,
    )
    return [_record(i) for i in items], cursors.encode_key("versions", last)


def shares_page(asset_id: str, limit: int, cursor: str | None) -> tuple[list[AssetShare], str | None]:
    """One page of who the asset is shared with, by user name, and the next page's cursor."""
    pk = asset_pk(asset_id)
    start = cursors.decode_key(cursor, "shares", {"pk": pk}, {"sk": "SHARE#"})
    items, last = cursors.query_page(
        AssetShareItem,
        AssetShareItem.query,
        limit,
        start,
        hash_key=pk,
        range_key_condition=AssetShareItem.sk.startswith("SHARE#"),
        consistent_read=True,
    )
    return [_share(i) for i in items], cursors.encode_key("shares", last)


def versions(asset_id: str, newest_first: bool = True) -> list[AssetVersion]:
    items = AssetVersionItem.query(
        asset_pk(asset_id),
        AssetVersionItem.sk.startswith("V#"),
        scan_index_forward=not newest_first,
        consistent_read=True,
    )
    return [_record(i) for i in items]


def get_version(asset_id: str, version: int) -> AssetVersion | None:
    try:
        return _record(AssetVersionItem.get(asset_pk(asset_id), _version_sk(version), consistent_read=True))
    except DoesNotExist:
        return None


# Saves


def save_version(
    owner: str,
    new_asset_id: str,
    draft: AssetDraft,
    size: int,
    etag: str,
    key: str,
    overwrite: bool,
    target_asset_id: str | None,
    object_version: str | None = None,
) -> AssetVersion:
    """Commit a new version: a new asset (claiming its label), or the next version of an existing one.

    Same owner, type and label already held and `overwrite` False: ConflictError naming the holder.
    `target_asset_id` gone (deleted meanwhile): NotFoundError. Lost races are retried with a fresh
    read, so every concurrent overwrite ends as its own version.
    """
    claim = label_pk(owner, draft.asset_type, draft.label)
    for attempt in range(_SAVE_ATTEMPTS):
        holder = find_by_label(owner, draft.asset_type, draft.label)
        if holder is not None and not overwrite:
            raise ConflictError(
                f"asset {holder} already has label {draft.label!r} and type {draft.asset_type.value!r}; "
                "save with overwrite=True to add a version"
            )
        if target_asset_id is not None and holder is not None and holder != target_asset_id:
            raise ConflictError(
                f"label {draft.label!r} of type {draft.asset_type.value!r} belongs to asset {holder}, "
                f"not to asset {target_asset_id}"
            )
        asset_id = target_asset_id or holder
        head = get_head(asset_id) if asset_id else None
        if target_asset_id is not None and head is None:
            raise NotFoundError(f"asset {target_asset_id} not found (deleted while saving?)")
        record = AssetVersion(
            asset_id=asset_id or new_asset_id,
            owner=owner,
            version=head.version + 1 if head else 1,
            draft=draft,
            size=size,
            etag=etag,
            key=key,
            created_at=utcnow(),
            object_version=object_version,
        )
        version_item = AssetVersionItem(
            pk=asset_pk(record.asset_id), sk=_version_sk(record.version), **_fields(record)
        )
        try:
            with transaction() as tx:
                tx.save(version_item, condition=AssetVersionItem.pk.does_not_exist())
                if head is None:
                    tx.save(_head_item(record), condition=AssetHeadItem.pk.does_not_exist())
                    tx.save(AssetOwnerItem(pk=asset_pk(record.asset_id), sk=f"OWNER#{owner}"))
                    tx.save(
                        AssetLabelItem(pk=claim, sk="LABEL", asset_id=record.asset_id),
                        condition=AssetLabelItem.pk.does_not_exist(),
                    )
                else:
                    tx.save(_head_item(record), condition=AssetHeadItem.latest_version == head.version)
                    if (head.draft.asset_type, head.draft.label) != (draft.asset_type, draft.label):
                        # A version that relabels the asset moves its label claim with it.
                        tx.delete(
                            AssetLabelItem(
                                pk=label_pk(owner, head.draft.asset_type, head.draft.label), sk="LABEL"
                            )
                        )
                        tx.save(
                            AssetLabelItem(pk=claim, sk="LABEL", asset_id=record.asset_id),
                            condition=AssetLabelItem.pk.does_not_exist(),
                        )
                    _update_share_labels(tx, record)
            return record
        except TransactWriteError as error:
            if not lost_a_race(error):
                raise  # not contention (too many items, say): retrying cannot help
            time.sleep(random.uniform(0, 0.02 * (attempt + 1)))  # someone else committed first: read again
    raise ConflictError(f"could not save asset {draft.label!r}: too many concurrent saves, try again")


def _update_share_labels(tx: Any, record: AssetVersion) -> None:
    for share in AssetShareItem.query(asset_pk(record.asset_id), AssetShareItem.sk.startswith("SHARE#")):
        if (share.asset_type, share.label) != (record.draft.asset_type.value, record.draft.label):
            tx.save(_share_item(record.asset_id, record.owner, share.grantee, record.draft, share.created_at))


# Deletes


def delete_asset(asset_id: str) -> list[AssetVersion]:
    """Remove the asset's head and label claim at once (it vanishes for readers), then the rest.

    Returns the versions whose objects the caller should now delete.
    """
    head = get_head(asset_id)
    if head is None:
        raise NotFoundError(f"asset {asset_id} not found")
    with transaction() as tx:
        tx.delete(AssetHeadItem(pk=asset_pk(asset_id), sk=HEAD), condition=AssetHeadItem.pk.exists())
        tx.delete(AssetOwnerItem(pk=asset_pk(asset_id), sk=f"OWNER#{head.owner}"))
        tx.delete(
            AssetLabelItem(pk=label_pk(head.owner, head.draft.asset_type, head.draft.label), sk="LABEL"),
            condition=AssetLabelItem.asset_id == asset_id,
        )
    removed = versions(asset_id)
    with AssetVersionItem.batch_write() as batch:
        for record in removed:
            batch.delete(AssetVersionItem(pk=asset_pk(asset_id), sk=_version_sk(record.version)))
    with AssetShareItem.batch_write() as batch:
        for share in AssetShareItem.query(asset_pk(asset_id), AssetShareItem.sk.startswith("SHARE#")):
            batch.delete(share)
    return removed


def purge_object(bucket: str, key: str) -> None:
    """Delete every stored version of an object (the assets bucket keeps versions)."""
    s3 = client("s3")
    listing = s3.list_object_versions(Bucket=bucket, Prefix=key)
    doomed = [
        {"Key": v["Key"], "VersionId": v["VersionId"]}
        for v in listing.get("Versions", []) + listing.get("DeleteMarkers", [])
        if v["Key"] == key
    ]
    if doomed:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
    else:
        s3.delete_object(Bucket=bucket, Key=key)


# Shares


def _share_item(
    asset_id: str, owner: str, grantee: str, draft: AssetDraft, created_at: datetime
) -> AssetShareItem:
    return AssetShareItem(
        pk=asset_pk(asset_id),
        sk=f"SHARE#{grantee}",
        asset_id=asset_id,
        owner=owner,
        grantee=grantee,
        asset_type=draft.asset_type.value,
        label=draft.label,
        created_at=created_at,
        gsi1pk=f"SHARED#{grantee}",
        gsi1sk=f"{draft.asset_type.value}#{draft.label}#{asset_id}",
    )


def _share(item: AssetShareItem) -> AssetShare:
    return AssetShare(
        asset_id=item.asset_id, owner=item.owner, grantee=item.grantee, created_at=item.created_at
    )


def put_share(head: AssetVersion, grantee: str) -> AssetShare:
    item = _share_item(head.asset_id, head.owner, grantee, head.draft, utcnow())
    try:
        with transaction() as tx:
            # Only while the asset exists: a share must not outlive a concurrent delete.
            tx.condition_check(
                AssetHeadItem, asset_pk(head.asset_id), HEAD, condition=AssetHeadItem.pk.exists()
            )
            tx.save(item)
    except TransactWriteError as error:
        raise NotFoundError(f"asset {head.asset_id} not found") from error
    return _share(item)


def delete_share(asset_id: str, grantee: str) -> bool:
    try:
        AssetShareItem(pk=asset_pk(asset_id), sk=f"SHARE#{grantee}").delete(
            condition=AssetShareItem.pk.exists()
        )
    except DeleteError as error:
        if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def shares_of(asset_id: str) -> list[AssetShare]:
    return [
        _share(i)
        for i in AssetShareItem.query(
            asset_pk(asset_id), AssetShareItem.sk.startswith("SHARE#"), consistent_read=True
        )
    ]


def shared_with(grantee: str, asset_type: AssetType | None = None, label: str | None = None) -> list[str]:
    """Ids of the assets shared with `grantee`, narrowed by type (and label) through the sort key."""
    condition = None
    if asset_type is not None:
        prefix = f"{asset_type.value}#" + (f"{label}#" if label is not None else "")
        condition = AssetShareItem.gsi1sk.startswith(prefix)
    items = AssetShareItem.shared_with.query(f"SHARED#{grantee}", condition)
    return [i.asset_id for i in items if label is None or i.label == label]


# Uploads


def create_upload(upload: PendingAssetUpload, ttl_seconds: int) -> None:
    AssetUploadItem(
        pk=f"ASSETUPLOAD#{upload.upload_id}",
        sk="UPLOAD",
        owner=upload.owner,
        draft=_draft_dict(upload.draft),
        key=upload.key,
        size=upload.size,
        etag=upload.etag,
        part_count=upload.part_count,
        multipart_id=upload.multipart_id,
        overwrite=int(upload.overwrite),
        target_asset_id=upload.target_asset_id,
        expires_at=utcnow() + timedelta(seconds=ttl_seconds),
    ).save(condition=AssetUploadItem.pk.does_not_exist())


def get_upload(upload_id: str) -> PendingAssetUpload | None:
    try:
        item = AssetUploadItem.get(f"ASSETUPLOAD#{upload_id}", "UPLOAD", consistent_read=True)
    except DoesNotExist:
        return None
    if item.expires_at <= utcnow():
        return None  # DynamoDB deletes expired items lazily; an expired upload is gone for us
    return PendingAssetUpload(
        upload_id=upload_id,
        owner=item.owner,
        draft=_draft_from_dict(item.draft),
        key=item.key,
        size=int(item.size) if item.size is not None else None,
        etag=item.etag,
        part_count=int(item.part_count),
        multipart_id=item.multipart_id,
        overwrite=bool(item.overwrite),
        target_asset_id=item.target_asset_id,
    )


def delete_upload(upload_id: str) -> None:
    AssetUploadItem(pk=f"ASSETUPLOAD#{upload_id}", sk="UPLOAD").delete()
