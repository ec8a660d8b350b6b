"""Routes: assets (saving versions through presigned uploads, finding, listing, sharing, deleting)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from stepstore_functions.handlers.context import path_value, request_actor
from stepstore_functions.logic import assets
from stepstore_functions.models.api import (
    DEFAULT_PAGE,
    CursorQuery,
    LimitQuery,
    PartUrls,
    PartUrlsRequest,
    UploadTicket,
)
from stepstore_functions.models.assets import (
    AssetCommit,
    AssetDeleted,
    AssetDraft,
    AssetList,
    AssetOut,
    AssetShare,
    AssetType,
    AssetUploadRequest,
    AssetVersion,
    ShareList,
    ShareOut,
)

router = Router()


def asset_out(record: AssetVersion, url: str | None = None) -> AssetOut:
    draft = record.draft
    return AssetOut(
        asset_id=record.asset_id,
        owner=record.owner,
        type=draft.asset_type,
        label=draft.label,
        name=draft.name,
        description=draft.description,
        version=record.version,
        kind=draft.kind,
        format=draft.data_format,
        metadata=draft.metadata,
        attributes=draft.attributes,
        links=draft.links,
        size=record.size,
        etag=record.etag,
        created_at=record.created_at,
        url=url,
    )


def share_out(share: AssetShare) -> ShareOut:
    return ShareOut(
        asset_id=share.asset_id, owner=share.owner, grantee=share.grantee, created_at=share.created_at
    )


@router.post("/assets/uploads", summary="Start saving an asset version: presigned URLs for its bytes")
def start_upload(body: AssetUploadRequest) -> UploadTicket:
    draft = AssetDraft(
        asset_type=body.type,
        label=body.label,
        name=body.name,
        description=body.description,
        kind=body.kind,
        data_format=body.format,
        metadata=body.metadata,
        attributes=body.attributes,
        links=body.links,
    )
    ticket = assets.start_upload(
        request_actor(router),
        draft,
        body.size,
        body.etag,
        body.part_size,
        body.overwrite,
        body.asset_id,
        body.part_count,
    )
    return UploadTicket.of(ticket)


@router.post("/assets/uploads/<upload_id>/parts", summary="More part URLs for a streamed asset upload")
def presign_more_parts(upload_id: str, body: PartUrlsRequest) -> PartUrls:
    urls = assets.presign_more_parts(request_actor(router), path_value(upload_id), body.first, body.count)
    return PartUrls(urls=urls)


@router.post(
    "/assets/uploads/<upload_id>/commit",
    summary="Commit an asset version: verified against its declared size and ETag, then made visible",
)
def commit_upload(upload_id: str, body: AssetCommit) -> AssetOut:
    record = assets.commit_upload(
        request_actor(router),
        path_value(upload_id),
        [(p.part_number, p.etag) for p in body.parts],
        body.size,
        body.etag,
    )
    return asset_out(record)


@router.get(
    "/assets",
    summary="Current versions of the assets the caller owns (newest first), then of those shared with them",
)
def list_assets(
    label: Annotated[str | None, Query(max_length=256)] = None,
    type: Annotated[AssetType | None, Query()] = None,
    name: Annotated[str | None, Query(max_length=256)] = None,
    asset_id: Annotated[str | None, Query(max_length=32)] = None,
    limit: LimitQuery = DEFAULT_PAGE,
    cursor: CursorQuery = None,
    owner: Annotated[str | None, Query(max_length=64)] = None,
) -> AssetList:
    found, after = assets.list_assets(
        request_actor(router), label, type, name, asset_id, limit, cursor, owner
    )
    return AssetList(assets=[asset_out(r.record, r.url) for r in found], next=after)


@router.get(
    "/assets/match",
    summary="The newest asset version that matches every filter given: the caller's own first, "
    "a shared one only when none of theirs matches (or `owner` names its owner)",
)
def find_asset(
    label: Annotated[str | None, Query(max_length=256)] = None,
    type: Annotated[AssetType | None, Query()] = None,
    name: Annotated[str | None, Query(max_length=256)] = None,
    time_created: Annotated[datetime | None, Query()] = None,
    asset_id: Annotated[str | None, Query(max_length=32)] = None,
    owner: Annotated[str | None, Query(max_length=64)] = None,
) -> AssetOut:
    found = assets.find_asset(request_actor(router), label, type, name, time_created, asset_id, owner)
    return asset_out(found.record, found.url)


@router.get("/assets/<asset_id>", summary="An asset's current version, with a download URL")
def get_asset(asset_id: str) -> AssetOut:
    found = assets.get_asset_by_id(request_actor(router), path_value(asset_id))
    return asset_out(found.record, found.url)


@router.get("/assets/<asset_id>/versions", summary="An asset's versions, newest first, one page at a time")
def list_versions(asset_id: str, limit: LimitQuery = DEFAULT_PAGE, cursor: CursorQuery = None) -> AssetList:
    found, after = assets.list_versions(request_actor(router), path_value(asset_id), limit, cursor)
    return AssetList(assets=[asset_out(r) for r in found], next=after)


@router.get("/assets/<asset_id>/versions/<version>", summary="One version of an asset, with a download URL")
def get_version(asset_id: str, version: int) -> AssetOut:
    found = assets.get_asset_by_id(request_actor(router), path_value(asset_id), version)
    return asset_out(found.record, found.url)


@router.delete(
    "/assets/<asset_id>", summary="Delete an asset: every version's metadata and object (owner only)"
)
def delete_asset(asset_id: str) -> AssetDeleted:
    asset = path_value(asset_id)
    return AssetDeleted(asset_id=asset, versions=assets.delete_asset(request_actor(router), asset))


@router.get(
    "/assets/<asset_id>/shares", summary="Who an asset is shared with, one page at a time (owner only)"
)
def list_shares(asset_id: str, limit: LimitQuery = DEFAULT_PAGE, cursor: CursorQuery = None) -> ShareList:
    found, after = assets.list_shares(request_actor(router), path_value(asset_id), limit, cursor)
    return ShareList(shares=[share_out(s) for s in found], next=after)


@router.put("/assets/<asset_id>/shares/<user>", summary="Share an asset with a user, read-only (owner only)")
def share_asset(asset_id: str, user: str) -> ShareOut:
    return share_out(assets.share_asset(request_actor(router), path_value(asset_id), path_value(user)))


@router.delete("/assets/<asset_id>/shares/<user>", summary="Stop sharing an asset with a user (owner only)")
def unshare_asset(asset_id: str, user: str) -> ShareList:
    actor = request_actor(router)
    asset = path_value(asset_id)
    assets.unshare_asset(actor, asset, path_value(user))
    found, after = assets.list_shares(actor, asset)
    return ShareList(shares=[share_out(s) for s in found], next=after)
