"""Asset classes, how each object is encoded, schema checks, range reads and the CLI progress bar."""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stepstore import Asset, AssetType, Dataset, Explainer, IntegrityError, Model, Schema, SchemaViolation
from stepstore.assets import asset_type, decode_object, encode_object, restore_asset, to_json_value
from stepstore.cli_assets import ProgressBar
from stepstore.store_assets import RangeFile, read_parquet


@dataclass
class Estimator:
    coefficient: float

    def predict(self, values: list[float]) -> list[float]:
        return [v * self.coefficient for v in values]


def roundtrip(value):
    encoded = encode_object(value, "value")
    payload = encoded.parquet_payload()
    return encoded, decode_object(encoded.kind, encoded.format, payload)


@pytest.mark.parametrize(
    ("value", "stored_as"),
    [
        ({"a": [1, 2.5, None, True, "x"]}, "json"),
        ([{"k": "v"}], "json"),
        ("text", "json"),
        (3, "json"),
        (b"\x00bytes", "raw"),
        (float("nan"), "pickle"),  # JSON has no exact NaN
        ((1, 2), "pickle"),
        ({"k": (1, 2)}, "pickle"),
        ({3: "int key"}, "pickle"),
        (np.float64(1.5), "pickle"),
        (Estimator(2.0), "pickle"),
    ],
)
def test_each_object_is_stored_in_the_format_that_gives_it_back_exactly(value, stored_as):
    encoded, decoded = roundtrip(value)
    assert encoded.format == stored_as
    if isinstance(value, float) and value != value:
        assert decoded != decoded
    else:
        assert decoded == value and type(decoded) is type(value)


def test_frames_are_parquet_and_keep_dtypes_and_index():
    frame = pd.DataFrame(
        {
            "n": pd.array([1, None], dtype="Int64"),
            "s": ["a", "b"],
            "t": pd.to_datetime(["2024-01-01", "2024-02-01"]),
        },
        index=pd.Index([5, 9], name="id"),
    )
    encoded, decoded = roundtrip(frame)
    assert (encoded.kind, encoded.format) == ("dataframe", "parquet")
    pd.testing.assert_frame_equal(decoded, frame)


def test_frames_parquet_cannot_hold_are_pickled_as_frames():
    frame = pd.DataFrame({0: [1], 1: [2]})
    encoded, decoded = roundtrip(frame)
    assert (encoded.kind, encoded.format) == ("dataframe", "pickle")
    pd.testing.assert_frame_equal(decoded, frame)


def test_unpicklable_objects_are_value_errors_naming_the_type():
    import threading

    with pytest.raises(ValueError, match=r"asset 'x'.+_thread\.lock cannot be pickled"):
        Asset(threading.Lock(), "x", AssetType.OTHER)._encode()
    with pytest.raises(ValueError, match=r"Model 'm'.+function cannot be pickled"):
        Model(lambda v: v, "m")._encode()


def test_asset_types_accept_members_values_and_names():
    assert asset_type(AssetType.MODEL) is AssetType.MODEL
    assert asset_type("dataset") is AssetType.DATASET
    assert asset_type("KNOWLEDGE_GRAPH") is AssetType.KNOWLEDGE_GRAPH
    with pytest.raises(ValueError, match="asset type 'blob' is not one of MODEL, DATASET"):
        asset_type("blob")


def test_asset_validates_what_it_is_given():
    with pytest.raises(ValueError, match="non-empty str label"):
        Asset(1, "  ", "other")
    with pytest.raises(ValueError, match="metadata must be a dict"):
        Asset(1, "x", "other", metadata=["not", "a", "dict"])
    with pytest.raises(ValueError, match=r"categorical_cols .+ does not have: \['nope'\]"):
        Dataset(pd.DataFrame({"a": [1]}), "d", categorical_cols=["nope"])
    with pytest.raises(ValueError, match="encoding 'binary' is not one of"):
        Dataset(pd.DataFrame({"a": [1]}), "d", encoding="binary")


def test_links_need_saved_assets_and_notes_go_where_asked():
    parent = Asset(1, "parent", "other")
    child = Asset(2, "child", "other")
    with pytest.raises(ValueError, match="save it first"):
        child.link_asset("parent", parent)
    parent.id = "f" * 32
    child.link_asset("parent", parent)
    assert child.linked_asset_objects == {"parent": "f" * 32}
    child.add_user_notes(notes="first")
    child.add_user_notes("owner", "ops")
    assert child.user_notes == {"log": ["first"], "owner": "ops"}
    with pytest.raises(ValueError, match="'user' or 'engineer'"):
        child.add_notes("manager", "k", "v")


def test_model_passes_attributes_through_and_survives_pickling_itself():
    model = Model(Estimator(3.0), "m")
    assert model.predict([1.0, 2.0]) == [3.0, 6.0]
    assert model.coefficient == 3.0
    with pytest.raises(AttributeError):
        model.not_there  # noqa: B018
    assert pickle.loads(pickle.dumps(model)).coefficient == 3.0


def record(asset: Asset, encoded_kind: str, **extra) -> dict:
    return {
        "asset_id": "a" * 32,
        "owner": "alice",
        "type": asset.type.value,
        "label": asset.label,
        "name": asset.name,
        "description": asset.description,
        "version": 4,
        "kind": encoded_kind,
        "metadata": asset.metadata,
        "attributes": asset._attributes(),
        "links": asset.linked_asset_objects,
        "created_at": "2026-01-01T00:00:00Z",
        **extra,
    }


def test_typed_assets_restore_with_their_settings():
    frame = pd.DataFrame({"a": [1], "b": ["x"]})
    dataset = Dataset(
        frame, "d", categorical_cols=["b"], predict_cols=["a"], cat_to_vals={"b": np.array(["x"])}
    )
    restored = restore_asset(record(dataset, "dataframe"), frame)
    assert isinstance(restored, Dataset)
    assert (restored.categorical_cols, restored.predict_cols, restored.cat_to_vals) == (
        ["b"],
        ["a"],
        {"b": ["x"]},
    )
    assert (restored.id, restored.version, restored.owner) == ("a" * 32, 4, "alice")

    explainer = Explainer("explainer object", "e", model=Estimator(1.0), dataset=frame)
    encoded = explainer._encode()
    loaded = restore_asset(
        record(explainer, encoded.kind), decode_object(encoded.kind, encoded.format, encoded.payload)
    )
    assert isinstance(loaded, Explainer)
    assert loaded.explainer == "explainer object" and loaded.model == Estimator(1.0)
    pd.testing.assert_frame_equal(loaded.dataset, frame)

    odd = Asset(3, "not a schema", AssetType.SCHEMA)
    assert type(restore_asset(record(odd, "json"), 3)) is Asset


def test_schema_round_trips_through_its_stored_form():
    schema = Schema({"n": "int64", "c": "category"}, valid_inputs={"n": [0, 10]}, label="s")
    encoded = schema._encode()
    restored = restore_asset(
        record(schema, encoded.kind), decode_object(encoded.kind, encoded.format, encoded.payload)
    )
    assert isinstance(restored, Schema)
    assert restored.col_to_dtype == schema.col_to_dtype
    frame = pd.DataFrame({"n": [1, 5], "c": pd.Categorical(["a", "b"])})
    assert restored.validate(frame) is True
    with pytest.raises(SchemaViolation, match=r"'n' has 11 at row 1, outside \[0, 10\]"):
        restored.validate(frame.assign(n=[1, 11]))


def test_schema_refuses_settings_that_cannot_work():
    with pytest.raises(ValueError, match="not a dtype"):
        Schema({"a": "no-such-dtype"}, label="s")
    with pytest.raises(ValueError, match=r"names columns the schema lacks: \['b'\]"):
        Schema({"a": "int64"}, valid_inputs={"b": [1, 2]}, label="s")
    with pytest.raises(
        ValueError, match=r"exact_match needs valid_inputs for every column; none for \['b'\]"
    ):
        Schema({"a": "int64", "b": "int64"}, exact_match=True, valid_inputs={"a": [1, 2]}, label="s")


def test_json_settings_take_numpy_values_and_refuse_objects():
    assert to_json_value({"k": (np.int64(1), np.array([2.5]))}, "f") == {"k": [1, [2.5]]}
    with pytest.raises(ValueError, match="f holds a Estimator"):
        to_json_value({"k": Estimator(1.0)}, "f")


class FakeS3:
    """Serves one object over 'HTTP' with Range support, as a presigned GET URL would."""

    def __init__(self, payload: bytes, etag: str = "etag-1") -> None:
        self.payload = payload
        self.etag = etag
        self.ranges: list[tuple[int, int]] = []

    def get(self, url, headers=None, timeout=None):
        start, end = (int(x) for x in headers["Range"].removeprefix("bytes=").split("-"))
        self.ranges.append((start, end))
        return _Response(206, self.payload[start : end + 1], {"ETag": f'"{self.etag}"'})


@dataclass
class _Response:
    status_code: int
    content: bytes
    headers: dict

    @property
    def text(self) -> str:
        return ""


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame), sink)
    return sink.getvalue()


def test_range_reads_fetch_only_the_wanted_columns(monkeypatch):
    from stepstore import transfer

    frame = pd.DataFrame({f"c{n}": np.arange(50_000, dtype="float64") * n for n in range(10)})
    payload = parquet_bytes(frame)
    fake = FakeS3(payload)
    monkeypatch.setattr(transfer, "_s3_session", lambda: fake)

    loaded = read_parquet("http://s3/obj", len(payload), "etag-1", ["c3"])

    pd.testing.assert_frame_equal(loaded, frame[["c3"]])
    fetched = sum(end - start + 1 for start, end in fake.ranges)
    assert fetched < len(payload) / 4  # one column of ten, plus the footer


def test_a_range_from_another_object_version_is_an_integrity_error(monkeypatch):
    from stepstore import transfer

    monkeypatch.setattr(transfer, "_s3_session", lambda: FakeS3(b"0123456789", etag="other"))
    source = RangeFile("http://s3/obj", 10, "etag-1")
    with pytest.raises(IntegrityError, match="do not match the stored object"):
        source.read(4)
    source.seek(-3, io.SEEK_END)
    assert source.tell() == 7


def test_progress_bar_draws_on_large_transfers_only():
    stream = io.StringIO()
    bar = ProgressBar(10 * 1024 * 1024, "uploading x", stream=stream)
    for _ in range(10):
        bar(1024 * 1024)
    bar.close()
    text = stream.getvalue()
    assert "uploading x [" in text and "100%" in text and text.endswith("\n")
    assert text.count("\r") == 10

    quiet = io.StringIO()
    small = ProgressBar(1000, "tiny", stream=quiet)
    small(1000)
    small.close()
    assert quiet.getvalue() == ""
