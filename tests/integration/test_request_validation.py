"""Every request rule of the API models, tried as a request: at its limit it passes, one past it the
API answers 422 naming the field (before any lookup: the rule holds even for a step that does not exist).
"""

from __future__ import annotations

import hashlib
import uuid

import pytest
import requests

from stepstore import StoreInterface
from stepstore.client import ApiClient
from stepstore.errors import StepStoreError

MIB = 1024**2
PART = 5 * MIB
TIB = 1024**4
MD5 = "0123456789abcdef0123456789abcdef"
EMPTY_MD5 = hashlib.md5(b"").hexdigest()


@pytest.fixture
def api(alice, flow_id) -> ApiClient:
    StoreInterface(flow_id, step_name="s")
    return ApiClient.from_environment()


@pytest.fixture
def step(flow_id) -> str:
    return f"/flows/{flow_id}/steps/s"


def refused(call, *args, **kwargs) -> StepStoreError:
    """The error a request gets; it must be a validation refusal (422)."""
    with pytest.raises(StepStoreError) as caught:
        call(*args, **kwargs)
    assert caught.value.status == 422, str(caught.value)
    return caught.value


def field_of(call, *args, **kwargs) -> str | None:
    """The field a request's refusal names, or None when the request is accepted."""
    try:
        call(*args, **kwargs)
    except StepStoreError as error:
        return error.field
    return None


# Progress and status


@pytest.mark.parametrize("completion", [0, 0.0, 37.5, 100])
def test_completion_from_0_to_100_is_recorded(api, step, completion):
    assert api.put(f"{step}/progress", {"completion": completion})["progress"] == completion


@pytest.mark.parametrize("completion", [-0.5, -1, 100.5, 101])
def test_completion_outside_0_to_100_is_refused(api, step, completion):
    assert refused(api.put, f"{step}/progress", {"completion": completion}).field == "completion"


def test_a_progress_message_may_be_4096_characters_not_more(api, step):
    assert api.put(f"{step}/progress", {"completion": 1, "message": "m" * 4096})["message"] == "m" * 4096
    assert refused(api.put, f"{step}/progress", {"completion": 1, "message": "m" * 4097}).field == "message"


def test_a_status_message_may_be_4096_characters_not_more(api, step):
    assert api.put(f"{step}/status", {"status": "running", "message": "m" * 4096})["message"] == "m" * 4096
    error = refused(api.put, f"{step}/status", {"status": "running", "message": "m" * 4097})
    assert error.field == "message"


def test_a_field_the_api_does_not_know_is_refused_by_name(api, step):
    assert refused(api.put, f"{step}/progress", {"completion": 1, "surprise": 1}).field == "surprise"


def test_rules_hold_before_any_lookup(api, flow_id):
    missing = f"/flows/{flow_id}/steps/never-opened-{uuid.uuid4().hex[:6]}"
    assert refused(api.put, f"{missing}/progress", {"completion": 101}).field == "completion"
    value = '"' + "x" * (64 * 1024 - 1) + '"'
    assert (
        refused(api.put, f"{missing}/outputs/v", {"kind": "str", "value_json": value}).field == "value_json"
    )


# Inline outputs


def test_an_inline_value_may_be_64_kib_of_json_text(api, step):
    at_limit = '"' + "x" * (64 * 1024 - 2) + '"'
    assert api.put(f"{step}/outputs/v", {"kind": "str", "value_json": at_limit})["size"] == 64 * 1024
    over = '"' + "x" * (64 * 1024 - 1) + '"'
    assert refused(api.put, f"{step}/outputs/v", {"kind": "str", "value_json": over}).field == "value_json"


# Starting an upload


def start(api, step):
    def call(**body):
        return api.post(f"{step}/outputs/out/uploads", {"kind": "bytes", "format": "raw", **body})

    return call


def test_an_upload_size_from_0_to_5_tib(api, step):
    upload = start(api, step)
    assert len(upload(size=0, etag=EMPTY_MD5)["urls"]) == 1
    assert refused(upload, size=-1, etag=MD5).field == "size"
    # 5 TiB passes the request rule; in parts of 5 MiB it is then too many parts (the planning rule).
    assert field_of(upload, size=5 * TIB, part_size=PART) == "part_size"
    assert refused(upload, size=5 * TIB + 1, part_size=PART).field == "size"


@pytest.mark.parametrize(
    "etag", [MD5.upper(), MD5[:-1], MD5 + "0", f"{MD5}-", f"{MD5}-123456", f"{MD5}-x", "", f" {MD5}"]
)
def test_an_upload_etag_must_be_an_s3_etag(api, step, etag):
    assert refused(start(api, step), size=10, etag=etag).field == "etag"


def test_a_multipart_etag_with_up_to_five_digits_is_an_etag(api, step):
    # Passes the request rule; the planning rule then finds the part count does not match.
    assert field_of(start(api, step), size=2 * PART, etag=f"{MD5}-12345", part_size=PART) == "etag"
    assert len(start(api, step)(size=2 * PART, etag=f"{MD5}-2", part_size=PART)["urls"]) == 2


def test_a_part_is_at_least_5_mib(api, step):
    upload = start(api, step)
    assert len(upload(size=PART + 1, part_size=PART)["urls"]) == 2
    assert refused(upload, size=PART + 1, part_size=PART - 1).field == "part_size"


def test_part_urls_asked_for_at_the_start_number_1_to_10000(api, step):
    upload = start(api, step)
    assert len(upload(part_size=PART, part_count=1)["urls"]) == 1
    assert len(upload(part_size=PART)["urls"]) == 1  # a streamed upload asks for one unless it says more
    assert len(upload(part_count=10_000)["urls"]) == 1  # a single PUT needs one URL whatever is asked
    assert len(upload(part_size=PART, part_count=3)["urls"]) == 3
    assert refused(upload, part_size=PART, part_count=0).field == "part_count"
    assert refused(upload, part_size=PART, part_count=10_001).field == "part_count"


# Committing an upload and asking for more part URLs


@pytest.fixture
def streamed(api, step) -> str:
    """A multipart upload whose size is declared at commit: its path."""
    ticket = start(api, step)(part_size=PART, part_count=1)
    return f"{step}/outputs/out/uploads/{ticket['upload_id']}"


@pytest.mark.parametrize(("number", "accepted"), [(0, False), (1, True), (10_000, True), (10_001, False)])
def test_committed_part_numbers_run_from_1_to_10000(api, streamed, number, accepted):
    body = {"parts": [{"part_number": number, "etag": MD5}], "size": 1, "etag": f"{MD5}-1"}
    # An accepted number passes the request rule and fails later, on the parts themselves.
    assert field_of(api.post, f"{streamed}/commit", body) == ("parts" if accepted else "parts.0.part_number")


@pytest.mark.parametrize(("length", "accepted"), [(0, False), (1, True), (80, True), (81, False)])
def test_a_committed_part_etag_has_1_to_80_characters(api, streamed, length, accepted):
    body = {"parts": [{"part_number": 1, "etag": "e" * length}], "size": 1, "etag": f"{MD5}-1"}
    assert field_of(api.post, f"{streamed}/commit", body) == ("parts" if accepted else "parts.0.etag")


def test_a_size_and_etag_declared_at_commit_follow_the_start_rules(api, streamed):
    assert refused(api.post, f"{streamed}/commit", {"size": -1, "etag": MD5}).field == "size"
    assert refused(api.post, f"{streamed}/commit", {"size": 1, "etag": "nope"}).field == "etag"
    # Size 0 and a well-formed ETag pass the request rules; the parts are what is missing then.
    assert field_of(api.post, f"{streamed}/commit", {"size": 0, "etag": f"{MD5}-1"}) == "parts"


@pytest.mark.parametrize(
    ("first", "count", "problem"),
    [
        (1, 1, None),
        (2, 1000, None),
        (10_000, 1, None),
        (0, 1, "first"),
        (10_001, 1, "first"),
        (2, 0, "count"),
        (2, 1001, "count"),
        (9_002, 1000, "count"),  # the request is well formed; part 10,001 is past S3's limit
    ],
)
def test_more_part_urls_from_part_1_to_10000_up_to_1000_at_a_time(api, streamed, first, count, problem):
    ask = {"first": first, "count": count}
    if problem is None:
        assert len(api.post(f"{streamed}/parts", ask)["urls"]) == count
    else:
        assert field_of(api.post, f"{streamed}/parts", ask) == problem


# Users


def test_a_user_name_has_1_to_64_characters(stack):
    def create(name: str) -> requests.Response:
        return requests.post(
            f"{stack.api_url}/users",
            json={"name": name},
            headers={"Authorization": f"Bearer {stack.admin_token}"},
            timeout=30,
        )

    longest = "u" + uuid.uuid4().hex + "x" * 31
    assert len(longest) == 64 and create(longest).status_code == 200
    for name in ("", longest + "y"):
        answer = create(name)
        assert answer.status_code == 422 and answer.json()["field"] == "name"


def test_progress_moves_the_page_version_only_when_it_says_so(api, step):
    before = api.get(f"{step}/page/version")["version"]
    api.put(f"{step}/progress", {"completion": 5})
    assert api.get(f"{step}/page/version")["version"] == before
    api.put(f"{step}/progress", {"completion": 6, "page_update": True})
    assert api.get(f"{step}/page/version")["version"] == before + 1
