"""Presigned URLs: what they sign and how long they live. moto ignores both, so they are checked here."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.config import Config

from stepstore_functions.dal.blobs import STAGING_TAGGING, BlobStore


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
    assert ticket.headers == {"x-amz-tagging": STAGING_TAGGING}
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
