"""Asset bytes: reading only the columns asked for, large frames streamed, interrupted saves invisible."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
import requests

from stepstore import Asset, Dataset, InvalidInputError, NotFoundError, StoreInterface, store_assets, transfer
from stepstore.client import ApiClient

pytestmark = pytest.mark.integration


@pytest.fixture
def store(alice, flow_id) -> StoreInterface:
    return StoreInterface(flow_id, step_name="s")


@pytest.fixture
def s3_bytes(monkeypatch) -> list[int]:
    """Counts the body bytes the SDK takes from S3: whole-object downloads and range reads alike."""
    received: list[int] = []
    download, into_buffer, fetch = (
        transfer.download,
        store_assets.download_into_buffer,
        store_assets.RangeFile._fetch,
    )

    def counted_download(*args, **kwargs):
        body = download(*args, **kwargs)
        received.append(len(body))
        return body

    def counted_into_buffer(*args, **kwargs):
        body = into_buffer(*args, **kwargs)
        received.append(len(body))
        return body

    def counted_fetch(self, start, end):
        data = fetch(self, start, end)
        received.append(len(data))
        return data

    monkeypatch.setattr(transfer, "download", counted_download)
    monkeypatch.setattr(store_assets, "download_into_buffer", counted_into_buffer)
    monkeypatch.setattr(store_assets.RangeFile, "_fetch", counted_fetch)
    return received


def wide_frame(rows: int = 20_000, columns: int = 24) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {f"c{n:02d}": rng.standard_normal(rows) for n in range(columns)},
        index=pd.Index(np.arange(rows) * 7, name="row"),
    )


def test_projecting_columns_reads_a_fraction_of_the_bytes(store, s3_bytes):
    frame = wide_frame()
    store.save_asset(Dataset(frame, "wide", categorical_cols=None, predict_cols=["c01", "c05"]))
    size = store.list_assets(label="wide")[0].size

    whole = store.get_dataset("wide")
    whole_bytes = sum(s3_bytes)
    s3_bytes.clear()
    narrow = store.get_dataset("wide", columns=["c05", "c01"])
    narrow_bytes = sum(s3_bytes)

    pd.testing.assert_frame_equal(whole.object, frame)
    pd.testing.assert_frame_equal(narrow.object, frame[["c05", "c01"]])
    assert narrow.predict_cols == ["c01", "c05"]  # the dataset's settings come with the projection
    assert whole_bytes == size
    # two of 24 columns (plus the index and the footer): well under a quarter of the object
    assert narrow_bytes < size / 4, (narrow_bytes, size)
    with pytest.raises(InvalidInputError, match=r"no columns \['nope'\]"):
        store.get_dataset("wide", columns=["nope"])


def test_projection_works_on_get_asset_and_on_frames_not_stored_as_parquet(store):
    frame = pd.DataFrame({1: [1, 2], 2: [3, 4]})  # int column names: pickled, not Parquet
    store.save_asset(Dataset(frame, "int columns"))
    assert store.list_assets(label="int columns")[0].format == "pickle"
    projected = store.get_asset("int columns", "dataset", columns=[2])
    pd.testing.assert_frame_equal(projected.object, frame[[2]])


def test_a_large_dataset_streams_up_and_comes_back_equal(store, s3_bytes):
    rows = 1_200_000  # about 29 MB in memory: above the single-PUT size, so streamed in parts
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(
        {
            "a": rng.standard_normal(rows),
            "b": rng.integers(0, 1000, rows),
            "c": rng.standard_normal(rows).astype("float32"),
        }
    )
    asset_id = store.save_asset(Dataset(frame, "big frame"))

    loaded = store.get_dataset("big frame")

    pd.testing.assert_frame_equal(loaded.object, frame)
    info = store.list_asset_versions(asset_id)[0]
    assert info.size > transfer.SINGLE_PUT_MAX
    assert s3_bytes == [info.size]  # one GET of exactly the stored bytes


def _start(api: ApiClient, payload: bytes, label: str) -> dict:
    return api.post(
        "/assets/uploads",
        {
            "type": "other",
            "label": label,
            "kind": "bytes",
            "format": "raw",
            "size": len(payload),
            "etag": hashlib.md5(payload).hexdigest(),
        },
    )


def test_a_killed_upload_leaves_no_visible_asset(store):
    api = ApiClient.from_environment()
    payload = b"half of what was promised"
    ticket = _start(api, payload, "interrupted")
    # the client dies after sending the bytes, before committing
    requests.put(ticket["urls"][0], data=payload, headers=ticket["headers"], timeout=10).raise_for_status()

    assert store.get_assets() == []
    with pytest.raises(NotFoundError):
        store.get_asset("interrupted", "other")
    # and the label is still free
    store.save_asset(Asset(b"complete", "interrupted", "other"))
    assert store.get_asset("interrupted", "other").object == b"complete"


def test_bytes_that_do_not_match_are_refused_and_nothing_is_visible(store):
    api = ApiClient.from_environment()
    ticket = _start(api, b"the real thing", "tampered")
    requests.put(ticket["urls"][0], data=b"something else", headers=ticket["headers"], timeout=10)

    with pytest.raises(InvalidInputError, match="does not match"):
        api.post(f"/assets/uploads/{ticket['upload_id']}/commit", {"parts": []})

    assert store.get_assets() == []
    with pytest.raises(NotFoundError):  # the upload is spent
        api.post(f"/assets/uploads/{ticket['upload_id']}/commit", {"parts": []})


def test_a_conflict_found_at_commit_discards_the_upload(store):
    api = ApiClient.from_environment()
    payload = b"second writer"
    ticket = _start(api, payload, "race")
    store.save_asset(Asset(b"first writer", "race", "other"))  # wins while the other is uploading
    requests.put(ticket["urls"][0], data=payload, headers=ticket["headers"], timeout=10).raise_for_status()

    with pytest.raises(Exception, match="already has label 'race'") as raised:
        api.post(f"/assets/uploads/{ticket['upload_id']}/commit", {"parts": []})

    assert isinstance(raised.value, ValueError)
    assert store.get_asset("race", "other").object == b"first writer"
    assert [v.version for v in store.list_asset_versions(store.get_asset("race", "other").id)] == [1]
