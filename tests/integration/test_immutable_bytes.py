"""Committed bytes never change: a presigned URL used again after the commit replaces nothing.

Every upload the SDK makes is recorded (URL and headers, as a client holding the ticket would have
them) and sent again with other bytes once committed: outputs, assets (one PUT and multipart),
pages, DataSource files and fixtures. S3 refuses each (a PUT is create-only; a completed multipart
upload's id is gone), and the committed bytes and their lifecycle tag are untouched. moto does not
check signatures, so what the signature binds (that the client must send If-None-Match, the length
and the MD5) is asserted in tests/unit/test_presign.py; here the headers are sent as the ticket says.
"""

from __future__ import annotations

import io
from urllib.parse import unquote, urlsplit

import boto3
import pandas as pd
import pytest
import requests

from stepstore import (
    Asset,
    AssetType,
    Card,
    DataSource,
    IntegrityError,
    NotFoundError,
    Page,
    Section,
    StoreInterface,
    Table,
    transfer,
)
from stepstore.client import ApiClient
from stepstore.fixtures import Fixtures

pytestmark = pytest.mark.integration

COMMITTED = [{"Key": "stepstore-state", "Value": "committed"}]


@pytest.fixture
def puts(monkeypatch):
    """Every PUT the SDK sends to S3 through a presigned URL: (url, headers)."""
    recorded: list[tuple[str, dict[str, str]]] = []
    original = transfer._put

    def recording(url, body, headers, progress=None):
        recorded.append((url, dict(headers)))
        return original(url, body, headers, progress)

    monkeypatch.setattr(transfer, "_put", recording)
    return recorded


@pytest.fixture
def s3(stack):
    return boto3.client("s3", endpoint_url=stack.aws_endpoint_url)


def _object(url: str) -> tuple[str, str]:
    bucket, key = urlsplit(url).path.lstrip("/").split("/", 1)
    return bucket, unquote(key)


def _state(s3, url: str) -> tuple[bytes, list[dict[str, str]], int]:
    bucket, key = _object(url)
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return body, s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"], len(versions)


def _replay_is_refused(s3, recorded: list[tuple[str, dict[str, str]]]) -> None:
    """Send each recorded URL again with other bytes: refused, and the object exactly as it was."""
    assert recorded
    for url, headers in recorded:
        before = _state(s3, url)
        assert before[1] == COMMITTED
        again = requests.put(url, data=b"replaced after commit", headers=headers, timeout=30)
        # A single PUT: 412 (the key exists). A part of a completed multipart upload: S3 answers
        # 404 NoSuchUpload; moto fails on the missing upload id (500). Either way, nothing is written.
        assert again.status_code >= 400, (again.status_code, again.text[:200])
        assert _state(s3, url) == before


def test_an_output_url_used_again_after_commit_changes_nothing(alice, flow_id, puts, s3):
    store = StoreInterface(flow_id, step_name="s")
    store.save_output(io.BytesIO(b"the committed output"), "out")
    headers = puts[0][1]
    assert headers["If-None-Match"] == "*" and "Content-MD5" in headers
    _replay_is_refused(s3, puts)
    assert store.get_input("out", step_name="s").getvalue() == b"the committed output"


def test_an_asset_url_used_again_after_commit_changes_nothing(alice, flow_id, puts, s3):
    store = StoreInterface(flow_id, step_name="s")
    asset_id = store.save_asset(Asset(b"the committed asset", "frozen", AssetType.OTHER))
    _replay_is_refused(s3, puts)
    assert store.get_asset_by_id(asset_id).object == b"the committed asset"


def test_a_completed_multipart_upload_takes_no_more_parts_and_no_second_commit(alice, flow_id, puts, s3):
    payload = bytes(range(256)) * (17 * 1024 * 1024 // 256)  # past the single-PUT size: 3 parts
    api = ApiClient.from_environment()
    uploaded = transfer.upload(
        api, "/assets", "bytes", "raw", payload, fields={"type": "other", "label": "big-frozen"}
    )
    assert len(puts) == 3
    _replay_is_refused(s3, puts)
    assert StoreInterface(flow_id, step_name="s").get_asset_by_id(uploaded["asset_id"]).object == payload
    assert all("uploadId=" in url for url, _ in puts)
    # The upload itself is spent too: committing it again finds nothing.
    upload_id = _object(puts[0][0])[1].rsplit("/", 1)[1]
    with pytest.raises(NotFoundError):
        api.post(f"/assets/uploads/{upload_id}/commit", {"parts": []})


def test_a_page_url_used_again_after_commit_changes_nothing(alice, flow_id, puts, s3):
    frame = pd.DataFrame({"id": range(20_000), "label": [f"row-{i}" for i in range(20_000)]})
    store = StoreInterface(flow_id, step_name="big")
    store.update_page(Page("Big", [Section("Data", [Card("Rows", [Table(frame, title="Rows")])])]))
    assert puts, "a page this large goes to S3"
    _replay_is_refused(s3, puts)
    pd.testing.assert_frame_equal(store.get_page().get_element_by_title("Rows").content, frame)


def test_a_data_source_url_used_again_after_commit_changes_nothing(alice, flow_id, puts, s3):
    store = StoreInterface(flow_id, step_name="load")
    store.update_page(Page("Load", [Section("In", [Card("File", [DataSource("Notes", ["csv"])])])]))
    store.upload_data_source("load", "Notes", "notes.csv", b"a,b\n1,2\n")
    _replay_is_refused(s3, puts)
    assert store.get_current_step_user_input("Notes").getvalue() == b"a,b\n1,2\n"


def test_a_fixture_staging_url_used_again_after_commit_leaves_the_fixture_alone(stack, make_user, puts, s3):
    make_user("svc", role="service")
    fixtures = Fixtures()
    fixtures.put("frozen/data.csv", b"x\n1\n")
    fixture_key = "fixture/frozen/data.csv"
    (url, headers) = puts[0]
    bucket = _object(url)[0]
    fixture = s3.get_object(Bucket=bucket, Key=fixture_key)
    tags = s3.get_object_tagging(Bucket=bucket, Key=fixture_key)["TagSet"]
    assert tags == COMMITTED
    # The staging object was removed after the copy, so the URL may create it again: as a staging
    # object that expires, never at the fixture's key.
    requests.put(url, data=b"replaced after commit", headers=headers, timeout=30)
    assert s3.get_object(Bucket=bucket, Key=fixture_key)["Body"].read() == b"x\n1\n"
    assert s3.get_object(Bucket=bucket, Key=fixture_key)["ETag"] == fixture["ETag"]
    assert s3.get_object_tagging(Bucket=bucket, Key=fixture_key)["TagSet"] == tags
    leftover = _object(url)[1]
    if s3.list_objects_v2(Bucket=bucket, Prefix=leftover).get("KeyCount"):
        assert s3.get_object_tagging(Bucket=bucket, Key=leftover)["TagSet"] == [
            {"Key": "stepstore-state", "Value": "staging"}
        ]
    assert fixtures.get("frozen/data.csv") == b"x\n1\n"


def test_a_reader_gets_the_committed_asset_version_even_if_the_key_were_overwritten(alice, flow_id, s3):
    """Were a write to the key ever accepted (S3 refuses it), readers still get the committed version."""
    store = StoreInterface(flow_id, step_name="s")
    asset_id = store.save_asset(Asset(b"committed version", "pinned", AssetType.OTHER))
    url = ApiClient.from_environment().get(f"/assets/{asset_id}")["url"]
    bucket, key = _object(url)
    s3.put_object(Bucket=bucket, Key=key, Body=b"an overwrite S3 would have refused")
    assert store.get_asset_by_id(asset_id).object == b"committed version"


def test_a_reader_of_an_overwritten_output_gets_an_error_not_other_bytes(alice, flow_id, puts, s3):
    store = StoreInterface(flow_id, step_name="s")
    store.save_output(io.BytesIO(b"committed output"), "out")
    bucket, key = _object(puts[0][0])
    s3.put_object(Bucket=bucket, Key=key, Body=b"an overwrite S3 would have refused")
    with pytest.raises(IntegrityError):
        store.get_input("out", step_name="s")
