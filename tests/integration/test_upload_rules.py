"""The rules every presigned upload follows, tried with real bytes through the outputs routes.

Parts must be 1..N, each as uploaded; the object must have the size and ETag declared (at the start
or at commit); a mismatch removes the object and spends the upload, while a commit that comes too
early, or names the wrong parts, leaves it open for another try.
"""

from __future__ import annotations

import hashlib

import boto3
import pytest
import requests

from stepstore import StoreInterface
from stepstore.client import ApiClient
from stepstore.errors import InvalidInputError, NotFoundError

pytestmark = pytest.mark.integration

PART = 5 * 1024 * 1024
DATA = bytes(range(256)) * (PART // 256) + b"tail"  # one full part and four bytes: two parts


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def multipart_etag(parts: list[bytes]) -> str:
    digests = b"".join(hashlib.md5(p, usedforsecurity=False).digest() for p in parts)
    return f"{md5(digests)}-{len(parts)}"


@pytest.fixture
def api(alice, flow_id) -> ApiClient:
    StoreInterface(flow_id, step_name="s")
    return ApiClient.from_environment()


@pytest.fixture
def uploads(flow_id) -> str:
    return f"/flows/{flow_id}/steps/s/outputs/out/uploads"


def put(url: str, data: bytes, headers: dict) -> str:
    response = requests.put(url, data=data, headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    return response.headers["ETag"].strip('"')


def stored(flow_id: str) -> bytes:
    return StoreInterface(flow_id, step_name="s").get_input("out", step_name="s").getvalue()


def object_exists(stack, url: str) -> bool:
    bucket, key = requests.utils.urlparse(url).path.lstrip("/").split("/", 1)
    s3 = boto3.client("s3", endpoint_url=stack.aws_endpoint_url, region_name="us-east-1")
    return s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount", 0) > 0


def start_two_parts(api, uploads) -> tuple[dict, list[tuple[int, str]]]:
    chunks = [DATA[:PART], DATA[PART:]]
    ticket = api.post(
        uploads,
        {
            "kind": "bytes",
            "format": "raw",
            "size": len(DATA),
            "etag": multipart_etag(chunks),
            "part_size": PART,
        },
    )
    assert ticket["part_size"] == PART and len(ticket["urls"]) == 2
    parts = [
        (n, put(url, chunk, ticket["headers"]))
        for n, (url, chunk) in enumerate(zip(ticket["urls"], chunks, strict=True), 1)
    ]
    return ticket, parts


def commit_body(parts, **declared) -> dict:
    return {"parts": [{"part_number": n, "etag": e} for n, e in parts], **declared}


def test_parts_may_be_listed_in_any_order(api, uploads, flow_id):
    ticket, parts = start_two_parts(api, uploads)
    committed = api.post(f"{uploads}/{ticket['upload_id']}/commit", commit_body(reversed(parts)))
    assert committed["size"] == len(DATA)
    assert stored(flow_id) == DATA


@pytest.mark.parametrize(
    "numbers", [[1], [2], [1, 3], [1, 2, 3, 4], [1, 1]], ids=lambda n: "parts " + ",".join(map(str, n))
)
def test_a_commit_must_name_parts_1_to_n_and_may_then_try_again(api, uploads, flow_id, numbers):
    ticket, parts = start_two_parts(api, uploads)
    etags = dict(parts)
    wrong = [(n, etags.get(n, etags[1])) for n in numbers]
    with pytest.raises(InvalidInputError, match="expected parts 1 to 2") as caught:
        api.post(f"{uploads}/{ticket['upload_id']}/commit", commit_body(wrong))
    assert f"got {len(numbers)} numbered {sorted(numbers)[:3]}" in str(caught.value)
    assert caught.value.field in ("parts", "parts.0.part_number")
    # Nothing was spent: the right parts still commit.
    api.post(f"{uploads}/{ticket['upload_id']}/commit", commit_body(parts))
    assert stored(flow_id) == DATA


def test_parts_that_do_not_assemble_spend_the_upload(api, uploads, flow_id):
    ticket, parts = start_two_parts(api, uploads)
    forged = [(1, parts[0][1]), (2, md5(b"not what was sent"))]
    with pytest.raises(InvalidInputError, match="could not be assembled; upload again") as caught:
        api.post(f"{uploads}/{ticket['upload_id']}/commit", commit_body(forged))
    assert caught.value.field == "parts"
    with pytest.raises(NotFoundError):
        api.post(f"{uploads}/{ticket['upload_id']}/commit", commit_body(parts))
    with pytest.raises(NotFoundError):
        stored(flow_id)


def test_a_streamed_upload_declares_its_size_at_commit_and_asks_for_parts_as_it_goes(api, uploads, flow_id):
    ticket = api.post(uploads, {"kind": "bytes", "format": "raw", "part_size": PART, "part_count": 1})
    assert len(ticket["urls"]) == 1 and ticket["part_size"] == PART
    first = put(ticket["urls"][0], DATA[:PART], ticket["headers"])
    (more,) = api.post(f"{uploads}/{ticket['upload_id']}/parts", {"first": 2, "count": 1})["urls"]
    second = put(more, DATA[PART:], ticket["headers"])
    declared = {"size": len(DATA), "etag": multipart_etag([DATA[:PART], DATA[PART:]])}
    # Without the size and ETag the commit cannot check the object, and says which is missing.
    with pytest.raises(InvalidInputError, match="size was declared neither") as caught:
        api.post(f"{uploads}/{ticket['upload_id']}/commit", commit_body([(1, first), (2, second)]))
    assert caught.value.field == "size"
    api.post(f"{uploads}/{ticket['upload_id']}/commit", commit_body([(1, first), (2, second)], **declared))
    assert stored(flow_id) == DATA


def test_a_streamed_upload_whose_bytes_differ_from_the_commit_is_removed(api, uploads, flow_id, stack):
    ticket = api.post(uploads, {"kind": "bytes", "format": "raw", "part_size": PART, "part_count": 2})
    chunks = [DATA[:PART], DATA[PART:]]
    parts = [
        (n, put(url, c, ticket["headers"]))
        for n, (url, c) in enumerate(zip(ticket["urls"], chunks, strict=True), 1)
    ]
    lie = {"size": len(DATA) + 1, "etag": multipart_etag(chunks)}
    with pytest.raises(
        InvalidInputError, match=f"{len(DATA)} bytes .* declared {len(DATA) + 1} bytes"
    ) as caught:
        api.post(f"{uploads}/{ticket['upload_id']}/commit", commit_body(parts, **lie))
    assert caught.value.field == "etag"
    assert not object_exists(stack, ticket["urls"][0])
    with pytest.raises(NotFoundError):
        api.post(f"{uploads}/{ticket['upload_id']}/commit", commit_body(parts, size=len(DATA)))


def test_a_single_put_upload_is_one_url_and_gets_no_more(api, uploads, flow_id):
    ticket = api.post(uploads, {"kind": "bytes", "format": "raw", "size": 4, "etag": md5(b"four")})
    assert len(ticket["urls"]) == 1 and ticket["part_size"] is None
    assert ticket["expires_in"] > 0
    with pytest.raises(InvalidInputError, match="is a single PUT, not multipart") as caught:
        api.post(f"{uploads}/{ticket['upload_id']}/parts", {"first": 2, "count": 1})
    assert caught.value.field == "upload_id"
    streamed = api.post(uploads, {"kind": "bytes", "format": "raw"})  # size at commit, one PUT
    assert len(streamed["urls"]) == 1 and streamed["part_size"] is None
    put(streamed["urls"][0], b"four", streamed["headers"])
    api.post(f"{uploads}/{streamed['upload_id']}/commit", {"size": 4, "etag": md5(b"four")})
    assert stored(flow_id) == b"four"


def test_an_etag_without_its_size_is_refused(api, uploads):
    with pytest.raises(InvalidInputError, match="an ETag without the size it belongs to") as caught:
        api.post(uploads, {"kind": "bytes", "format": "raw", "etag": md5(b"x")})
    assert caught.value.field == "etag"


def test_what_the_commit_declares_must_agree_with_the_start(api, uploads, flow_id, stack):
    ticket = api.post(uploads, {"kind": "bytes", "format": "raw", "size": 4, "etag": md5(b"four")})
    put(ticket["urls"][0], b"four", ticket["headers"])
    with pytest.raises(InvalidInputError, match=r"size at commit \(5\) differs from the start \(4\)"):
        api.post(f"{uploads}/{ticket['upload_id']}/commit", {"size": 5})
    with pytest.raises(InvalidInputError, match="etag at commit"):
        api.post(f"{uploads}/{ticket['upload_id']}/commit", {"etag": md5(b"five")})
    api.post(f"{uploads}/{ticket['upload_id']}/commit", {"size": 4, "etag": md5(b"four")})
    assert stored(flow_id) == b"four"


def test_bytes_shorter_than_declared_are_removed_and_the_upload_spent(api, uploads, flow_id, stack):
    ticket = api.post(uploads, {"kind": "bytes", "format": "raw", "size": 5, "etag": md5(b"fives")})
    put(ticket["urls"][0], b"five", ticket["headers"])
    with pytest.raises(InvalidInputError, match="does not match: 4 bytes"):
        api.post(f"{uploads}/{ticket['upload_id']}/commit", {})
    assert not object_exists(stack, ticket["urls"][0])
    with pytest.raises(NotFoundError):
        api.post(f"{uploads}/{ticket['upload_id']}/commit", {})
