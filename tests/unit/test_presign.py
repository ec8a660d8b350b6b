"""Presigned URLs: what they sign and how long they live. moto ignores both, so they are checked here."""

from __future__ import annotations

import base64
import hashlib
from unittest.mock import MagicMock
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.config import Config

from stepstore_functions.dal.blobs import STAGING_TAGGING, BlobStore, part_sizes


@pytest.fixture
def blobs() -> BlobStore:
    s3 = boto3.client(
        "s3",
        region_name="eu-west-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        endpoint_url="https://s3.eu-west-1.amazonaws.com",
        config=Config(signature_version="s3v4"),
    )
    return BlobStore("stepstore-test-data", presign_seconds=900, s3=s3)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_single_upload_is_sigv4_for_that_key_with_the_staging_tag_signed(blobs):
    ticket = blobs.presign_upload("outputs/alice/abc", part_count=1)
    (url,) = ticket.urls
    params = query(url)
    assert urlsplit(url).path.endswith("/stepstore-test-data/outputs/alice/abc")
    assert params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert params["X-Amz-Expires"] == "900"
    # The tag is a signed header: an upload without it (so never expiring as staging) is refused by S3.
    assert "x-amz-tagging" in params["X-Amz-SignedHeaders"].split(";")
    assert ticket.headers == {"x-amz-tagging": STAGING_TAGGING, "If-None-Match": "*"}
    assert ticket.multipart_id is None


def test_download_url_expires_with_the_configured_lifetime(blobs):
    params = query(blobs.presign_download("outputs/alice/abc"))
    assert params["X-Amz-Expires"] == "900"
    assert params["X-Amz-Credential"].startswith("AKIDEXAMPLE/")
    assert "X-Amz-Signature" in params


def test_signature_binds_the_key(blobs):
    one = query(blobs.presign_download("outputs/alice/one"))["X-Amz-Signature"]
    other = query(blobs.presign_download("outputs/alice/two"))["X-Amz-Signature"]
    assert one != other


def signed_headers(url: str) -> set[str]:
    return set(query(url)["X-Amz-SignedHeaders"].split(";"))


def test_a_single_put_is_create_only_and_bound_to_the_declared_length_and_md5(blobs):
    payload = b"committed bytes"
    etag = hashlib.md5(payload).hexdigest()
    ticket = blobs.presign_upload("assets/alice/abc", part_count=1, size=len(payload), etag=etag)
    (url,) = ticket.urls
    # Signed headers: S3 refuses the URL unless the request carries exactly these values, so the
    # client must send If-None-Match: * (refused once the key exists), this length and this MD5.
    assert {"if-none-match", "content-length", "content-md5", "x-amz-tagging", "host"} <= signed_headers(url)
    md5 = base64.b64encode(hashlib.md5(payload).digest()).decode()
    assert ticket.headers == {"x-amz-tagging": STAGING_TAGGING, "If-None-Match": "*", "Content-MD5": md5}
    # The values themselves are not in the query string (they are headers): none can be dropped.
    assert not {"If-None-Match", "Content-MD5", "content-md5"} & set(query(url))


def test_a_put_whose_bytes_are_produced_later_is_still_create_only(blobs):
    (url,) = blobs.presign_upload("outputs/alice/streamed", part_count=1).urls
    assert "if-none-match" in signed_headers(url)
    assert "content-md5" not in signed_headers(url)


def test_parts_of_a_declared_upload_are_each_bound_to_their_length(blobs):
    size, part = 12 * 1024 * 1024 + 5, 5 * 1024 * 1024
    blobs._s3 = _recording(blobs.s3)
    ticket = blobs.presign_upload(
        "assets/alice/big", part_count=3, size=size, etag="0" * 32 + "-3", part_size=part
    )
    assert ticket.multipart_id == "mp-1"
    assert all("content-length" in signed_headers(u) for u in ticket.urls)
    assert [query(u)["partNumber"] for u in ticket.urls] == ["1", "2", "3"]
    assert part_sizes(size, part, 3) == [part, part, 2 * 1024 * 1024 + 5]
    # The same part number with another length gives another signature.
    other = blobs.presign_parts("assets/alice/big", "mp-1", 3, 1, [part, part, 7])
    assert query(other[0])["X-Amz-Signature"] != query(ticket.urls[2])["X-Amz-Signature"]


def test_a_multipart_upload_is_completed_create_only(blobs):
    s3 = MagicMock()
    BlobStore("stepstore-test-data", 900, s3=s3).complete_multipart("k", "mp", [(1, "e1")])
    assert s3.complete_multipart_upload.call_args.kwargs["IfNoneMatch"] == "*"


def test_a_versioned_read_is_signed_for_the_committed_version(blobs):
    url = blobs.presign_download("assets/alice/abc", version_id="v-123")
    assert query(url)["versionId"] == "v-123"
    assert (
        query(url)["X-Amz-Signature"] != query(blobs.presign_download("assets/alice/abc"))["X-Amz-Signature"]
    )


def _recording(s3):
    """The real signer, with the one call that would reach S3 answered locally."""

    class Recording:
        def __getattr__(self, name):
            return getattr(s3, name)

        def create_multipart_upload(self, **kwargs):
            return {"UploadId": "mp-1"}

    return Recording()
