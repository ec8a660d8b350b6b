"""Uploads that fail part way: nothing is pointed at bytes that are missing or wrong."""

from __future__ import annotations

import hashlib

import pytest
import requests

from stepstore import InvalidInputError, NotFoundError, StoreInterface
from stepstore.client import ApiClient


@pytest.fixture
def api(alice, flow_id) -> ApiClient:
    StoreInterface(flow_id, step_name="s")
    return ApiClient.from_environment()


def start(api: ApiClient, flow_id: str, payload: bytes) -> dict:
    return api.post(
        f"/flows/{flow_id}/steps/s/outputs/out/uploads",
        {"kind": "bytes", "format": "raw", "size": len(payload), "etag": hashlib.md5(payload).hexdigest()},
    )


def test_an_upload_that_never_happened_cannot_be_committed(api, flow_id):
    ticket = start(api, flow_id, b"promised bytes")
    with pytest.raises(InvalidInputError, match="not been uploaded"):
        api.post(f"/flows/{flow_id}/steps/s/outputs/out/uploads/{ticket['upload_id']}/commit", {"parts": []})
    with pytest.raises(NotFoundError):
        StoreInterface(flow_id, step_name="s").get_input("out", step_name="s")


def test_bytes_that_do_not_match_the_declared_etag_are_refused_and_removed(api, flow_id, stack):
    ticket = start(api, flow_id, b"the real thing")
    put = requests.put(ticket["urls"][0], data=b"something else!", headers=ticket["headers"], timeout=10)
    assert put.status_code == 200
    with pytest.raises(InvalidInputError, match="does not match"):
        api.post(f"/flows/{flow_id}/steps/s/outputs/out/uploads/{ticket['upload_id']}/commit", {"parts": []})
    with pytest.raises(NotFoundError):
        StoreInterface(flow_id, step_name="s").get_input("out", step_name="s")
    # the upload is spent: committing it again finds nothing
    with pytest.raises(NotFoundError):
        api.post(f"/flows/{flow_id}/steps/s/outputs/out/uploads/{ticket['upload_id']}/commit", {"parts": []})


def test_a_verified_upload_is_tagged_committed(api, flow_id, stack):
    import boto3

    payload = b"x" * 1000
    ticket = start(api, flow_id, payload)
    requests.put(ticket["urls"][0], data=payload, headers=ticket["headers"], timeout=10).raise_for_status()
    api.post(f"/flows/{flow_id}/steps/s/outputs/out/uploads/{ticket['upload_id']}/commit", {"parts": []})
    assert StoreInterface(flow_id, step_name="s").get_input("out", step_name="s").getvalue() == payload
    bucket, key = requests.utils.urlparse(ticket["urls"][0]).path.lstrip("/").split("/", 1)
    s3 = boto3.client("s3", endpoint_url=stack.aws_endpoint_url)
    tags = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    assert tags == [{"Key": "stepstore-state", "Value": "committed"}]


def test_another_users_upload_id_is_not_found(api, flow_id, make_user):
    ticket = start(api, flow_id, b"mine")
    make_user("bob")
    StoreInterface(flow_id, step_name="s")
    with pytest.raises(NotFoundError):
        ApiClient.from_environment().post(
            f"/flows/{flow_id}/steps/s/outputs/out/uploads/{ticket['upload_id']}/commit", {"parts": []}
        )


def test_kind_and_format_must_agree(api, flow_id):
    with pytest.raises(InvalidInputError) as caught:
        api.post(
            f"/flows/{flow_id}/steps/s/outputs/out/uploads",
            {"kind": "dataframe", "format": "raw", "size": 1, "etag": "0" * 32},
        )
    assert caught.value.field == "format"


def test_replacing_an_output_leaves_the_old_object_to_expire_not_to_vanish(alice, flow_id, stack):
    import io

    import boto3

    from stepstore_functions.resources import DATA_BUCKET

    store = StoreInterface(flow_id, step_name="s")
    for generation in range(3):
        store.save_output(io.BytesIO(bytes([generation]) * 100_000), "blob")
    s3 = boto3.client("s3", endpoint_url=stack.aws_endpoint_url)
    bucket = DATA_BUCKET.physical_name("local")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"outputs/{alice.name}/")["Contents"]]
    states = sorted(s3.get_object_tagging(Bucket=bucket, Key=k)["TagSet"][0]["Value"] for k in keys)
    # the current object is committed; the two it replaced are staging again, for the lifecycle rule
    assert states == ["committed", "staging", "staging"]
    assert store.get_input("blob", step_name="s").getvalue() == bytes([2]) * 100_000


@pytest.mark.parametrize(("kind", "text"), [("int", '"7"'), ("bool", "1"), ("dict", "[1]"), ("str", "3.5")])
def test_an_inline_value_must_be_of_its_declared_kind(api, flow_id, kind, text):
    with pytest.raises(InvalidInputError, match=f"not the {kind} its kind says") as caught:
        api.put(f"/flows/{flow_id}/steps/s/outputs/v", {"kind": kind, "value_json": text})
    assert caught.value.field == "value_json"
