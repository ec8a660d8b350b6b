"""Routes: fixture files (list, presigned reads, uploads) and presigned reads of allowed buckets."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from stepstore_functions.handlers.context import path_value, request_actor
from stepstore_functions.logic import fixtures
from stepstore_functions.models.api import MAX_PAGE, CursorQuery, LimitQuery
from stepstore_functions.models.fixtures import (
    FixtureCommit,
    FixtureList,
    FixtureOut,
    FixtureUploadRequest,
    FixtureUploadTicket,
    ObjectDownload,
)

router = Router()


def download_out(found: fixtures.Download) -> ObjectDownload:
    return ObjectDownload(
        bucket=found.bucket,
        key=found.key,
        size=found.size,
        etag=found.etag,
        url=found.url,
        expires_in=found.expires_in,
    )


@router.get("/fixtures", summary="Fixture keys under fixture/{prefix}, in key order, one page at a time")
def list_fixtures(
    prefix: Annotated[str | None, Query(max_length=1024)] = None,
    limit: LimitQuery = MAX_PAGE,
    cursor: CursorQuery = None,
) -> FixtureList:
    full, found, after = fixtures.list_fixtures(request_actor(router), prefix, limit, cursor)
    return FixtureList(
        prefix=full,
        fixtures=[
            FixtureOut(key=o.key, size=o.size, etag=o.etag, last_modified=o.last_modified) for o in found
        ],
        truncated=after is not None,
        next=after,
    )


@router.get("/fixtures/download", summary="A presigned GET of one fixture")
def download_fixture(key: Annotated[str, Query(min_length=1, max_length=1024)]) -> ObjectDownload:
    return download_out(fixtures.download_fixture(request_actor(router), key))


@router.post(
    "/fixtures/files/<key_b64>/uploads",
    summary="Start a fixture upload (admin or service): presigned URLs; the key is base64url-encoded",
)
def start_fixture_upload(key_b64: str, body: FixtureUploadRequest) -> FixtureUploadTicket:
    ticket = fixtures.start_upload(
        request_actor(router), fixtures.decode_key(path_value(key_b64)), body.size, body.etag, body.part_size
    )
    return FixtureUploadTicket.of(ticket)


@router.post(
    "/fixtures/files/<key_b64>/uploads/<upload_id>/commit",
    summary="Commit a fixture upload once its bytes match the declared size and ETag",
)
def commit_fixture_upload(key_b64: str, upload_id: str, body: FixtureCommit) -> FixtureOut:
    stored = fixtures.commit_upload(
        request_actor(router),
        fixtures.decode_key(path_value(key_b64)),
        path_value(upload_id),
        [(p.part_number, p.etag) for p in body.parts],
    )
    return FixtureOut(key=stored.key, size=stored.size, etag=stored.etag, last_modified=stored.last_modified)


@router.get(
    "/objects",
    summary="A presigned GET of an object in a bucket the deployment lets flows read (get_s3_asset)",
)
def download_object(
    bucket: Annotated[str, Query(min_length=3, max_length=63)],
    key: Annotated[str, Query(min_length=1, max_length=1024)],
) -> ObjectDownload:
    return download_out(fixtures.download(request_actor(router), bucket, key))
