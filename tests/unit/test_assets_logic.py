"""Asset rules that need no AWS: names, metadata limits, request bodies, and the buffered download."""

from __future__ import annotations

from dataclasses import dataclass, field

import pydantic
import pytest

from stepstore import IntegrityError
from stepstore.store_assets import download_into_buffer
from stepstore_functions.logic import assets as logic
from stepstore_functions.models.assets import (
    MAX_METADATA_BYTES,
    AssetDraft,
    AssetFormat,
    AssetType,
    AssetUploadRequest,
    valid_asset_id,
    valid_label,
)
from stepstore_functions.models.domain import Actor, Role
from stepstore_functions.models.errors import InvalidInputError

ALICE = Actor(principal="alice", role=Role.USER, user="alice")


def draft(**changes) -> AssetDraft:
    values = {
        "asset_type": AssetType.OTHER,
        "label": "label",
        "name": None,
        "description": None,
        "kind": "json",
        "data_format": AssetFormat.JSON,
    }
    return AssetDraft(**{**values, **changes})


@pytest.mark.parametrize("label", ["sales 2024", "Jet engine N41 / subsystem", "données", "a"])
def test_labels_people_write_are_accepted(label):
    assert valid_label("label", label) == label


@pytest.mark.parametrize("label", ["", " padded", "has#hash", "tab\there", "x" * 257])
def test_labels_that_would_break_keys_are_refused_naming_the_field(label):
    with pytest.raises(InvalidInputError, match="label") as raised:
        valid_label("label", label)
    assert raised.value.field == "label"


def test_asset_ids_are_32_hex_digits():
    assert valid_asset_id("0" * 32) == "0" * 32
    for bad in ("0" * 31, "g" * 32, "../" + "0" * 29):
        with pytest.raises(InvalidInputError, match="not an asset id"):
            valid_asset_id(bad)


def test_metadata_over_the_limit_is_refused_before_anything_is_written():
    big = draft(metadata={"blob": "x" * MAX_METADATA_BYTES})
    with pytest.raises(InvalidInputError, match=f"the limit is {MAX_METADATA_BYTES}") as raised:
        logic._check_draft(big)
    assert raised.value.field == "metadata"
    with pytest.raises(InvalidInputError, match="at most 100 assets"):
        logic._check_draft(draft(links={f"l{n}": "0" * 32 for n in range(101)}))


def test_finding_an_asset_needs_a_label_a_type_or_an_id():
    with pytest.raises(InvalidInputError, match="give a label or a type"):
        logic.find_asset(ALICE)


def test_upload_requests_are_validated_by_the_api_model():
    base = {
        "type": "dataset",
        "label": "x",
        "kind": "dataframe",
        "format": "parquet",
        "size": 3,
        "etag": "a" * 32,
    }
    assert AssetUploadRequest.model_validate(base).type is AssetType.DATASET
    for change in (
        {"type": "gadget"},
        {"format": "xml"},
        {"etag": "nope"},
        {"surprise": 1},
        {"kind": "Bad Kind"},
    ):
        with pytest.raises(pydantic.ValidationError):
            AssetUploadRequest.model_validate({**base, **change})


@dataclass
class StreamedResponse:
    body: bytes
    etag: str
    headers: dict = field(default_factory=dict)
    status_code: int = 200
    closed: bool = False

    def __post_init__(self) -> None:
        self.headers = {"ETag": f'"{self.etag}"'}

    def iter_content(self, chunk_size: int):
        for offset in range(0, len(self.body), 3):
            yield self.body[offset : offset + 3]

    def close(self) -> None:
        self.closed = True


def test_buffered_download_fills_exactly_and_checks_size_and_etag(monkeypatch):
    from stepstore import transfer

    response = StreamedResponse(b"0123456789", "e1")
    monkeypatch.setattr(transfer, "_s3_session", lambda: type("S", (), {"get": lambda *a, **k: response})())
    seen: list[int] = []
    assert download_into_buffer("http://s3/o", 10, "e1", seen.append) == bytearray(b"0123456789")
    assert sum(seen) == 10 and response.closed

    with pytest.raises(IntegrityError, match="larger than the 8 bytes"):
        download_into_buffer("http://s3/o", 8, "e1")
    with pytest.raises(IntegrityError, match="10 bytes with ETag 'e1', expected 10 bytes with ETag 'e2'"):
        download_into_buffer("http://s3/o", 10, "e2")
    with pytest.raises(IntegrityError, match="10 bytes with ETag 'e1', expected 12 bytes"):
        download_into_buffer("http://s3/o", 12, "e1")


def _metadata_of_encoded_size(size: int) -> dict:
    """Metadata whose [metadata, attributes, links, description] JSON is exactly `size` bytes."""
    import json

    overhead = len(json.dumps([{"blob": ""}, {}, {}, None]).encode())
    return {"blob": "x" * (size - overhead)}


def test_metadata_up_to_the_limit_is_accepted_and_one_byte_more_is_not():
    logic._check_draft(draft(metadata=_metadata_of_encoded_size(MAX_METADATA_BYTES)))
    with pytest.raises(InvalidInputError, match=f"take {MAX_METADATA_BYTES + 1} bytes") as raised:
        logic._check_draft(draft(metadata=_metadata_of_encoded_size(MAX_METADATA_BYTES + 1)))
    assert raised.value.field == "metadata"


def test_an_asset_may_link_100_assets():
    logic._check_draft(draft(links={f"l{n}": "0" * 32 for n in range(100)}))
    with pytest.raises(InvalidInputError, match="at most 100 assets, got 101") as raised:
        logic._check_draft(draft(links={f"l{n}": "0" * 32 for n in range(101)}))
    assert raised.value.field == "links"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"label": "has#hash"}, "label"),
        ({"name": " padded"}, "name"),
        ({"name": "x" * 257}, "name"),
        ({"links": {"ok": "0" * 32, "bad#label": "1" * 32}}, "links"),
        ({"metadata": {"when": {1, 2}}}, "metadata"),
        ({"attributes": {"model": object()}}, "metadata"),
    ],
)
def test_each_part_of_a_draft_is_checked_naming_its_field(changes, field):
    with pytest.raises(InvalidInputError) as raised:
        logic._check_draft(draft(**changes))
    assert raised.value.field == field


def test_a_draft_without_a_name_needs_none():
    logic._check_draft(draft(name=None, links={"source": "0" * 32}))
