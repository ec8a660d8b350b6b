"""Step outputs over real HTTP against the local stack: every kind round-trips, in-link semantics."""

from __future__ import annotations

import io
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepstore import InvalidInputError, NotFoundError, StoreInterface
from stepstore.transfer import SINGLE_PUT_MAX


@pytest.fixture
def step(alice, flow_id) -> StoreInterface:
    return StoreInterface(flow_id, step_name="produce")


def reread(flow_id: str, name: str):
    """Read `name` back the way the next step would: from a later step's in-link."""
    return StoreInterface(flow_id, step_name="consume").get_input(name)


def test_dataframe_round_trips_with_dtypes_and_index(step, flow_id):
    frame = pd.DataFrame(
        {
            "id": np.arange(5, dtype="int64"),
            "ratio": np.linspace(0, 1, 5),
            "label": list("abcde"),
            "ok": [True, False, True, True, False],
            "at": pd.date_range("2026-01-01", periods=5, freq="h", tz="UTC"),
            "maybe": pd.array([1, None, 3, None, 5], dtype="Int64"),
            "grade": pd.Categorical(list("xyxyx")),
        },
        index=pd.Index([10, 20, 30, 40, 50], name="row"),
    )
    step.save_output(frame, "frame")
    back = reread(flow_id, "frame")
    pd.testing.assert_frame_equal(back, frame)


def test_series_round_trips(step, flow_id):
    series = pd.Series([0.5, 1.5, None], index=["a", "b", "c"], name="score")
    step.save_output(series, "series")
    pd.testing.assert_series_equal(reread(flow_id, "series"), series)


@pytest.mark.parametrize(
    "value",
    [
        42,
        -(2**80),
        0.1,
        float("inf"),
        True,
        "naïve ✓",
        {"nested": {"list": [1, 2.5, None, "x"], "flag": False}},
    ],
    ids=["int", "bigint", "float", "inf", "bool", "str", "dict"],
)
def test_json_kinds_round_trip_exactly(step, flow_id, value):
    step.save_output(value, "value")
    back = reread(flow_id, "value")
    assert back == value and type(back) is type(value)


def test_a_dict_too_big_to_inline_goes_through_s3_and_back(step, flow_id):
    big = {f"key{i}": "v" * 100 for i in range(2000)}  # ~220 KB of JSON
    step.save_output(big, "big")
    assert reread(flow_id, "big") == big
    (listed,) = [o for o in step.list_outputs() if o["name"] == "big"]
    assert listed["size"] > 64 * 1024 and listed["etag"]


def test_bytesio_round_trips_byte_for_byte(step, flow_id):
    payload = os.urandom(1_000_003)
    step.save_output(io.BytesIO(payload), "blob")
    assert reread(flow_id, "blob").getvalue() == payload


def test_large_objects_use_a_parallel_multipart_upload_and_round_trip(step, flow_id):
    payload = os.urandom(SINGLE_PUT_MAX + 3 * 1024 * 1024)
    step.save_output(io.BytesIO(payload), "large")
    (listed,) = [o for o in step.list_outputs() if o["name"] == "large"]
    assert listed["etag"].endswith("-3")  # 8 MiB parts: three of them
    assert reread(flow_id, "large").getvalue() == payload


def test_saving_again_replaces_this_steps_output(step, flow_id):
    step.save_output(pd.DataFrame({"v": [1]}), "x")
    step.save_output(pd.DataFrame({"v": [2]}), "x")
    assert reread(flow_id, "x")["v"].tolist() == [2]
    assert [o["name"] for o in step.list_outputs()] == ["x"]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.integers(-(2**63), 2**63 - 1), st.floats(width=64), st.text(max_size=8)),
        min_size=0,
        max_size=20,
    )
)
def test_property_any_frame_round_trips_through_the_stack(step, flow_id, rows):
    frame = pd.DataFrame(rows, columns=["i", "f", "s"]).astype({"i": "int64", "f": "float64"})
    step.save_output(frame, "prop")
    pd.testing.assert_frame_equal(step.get_input("prop", step_name="produce"), frame)


def test_unsupported_data_is_refused_by_type_and_nothing_is_stored(step):
    with pytest.raises(ValueError, match=r"builtins\.set") as caught:
        step.save_output({1, 2}, "bad")
    assert isinstance(caught.value, InvalidInputError)
    assert step.list_outputs() == []


def test_unknown_output_names_the_name_and_the_step(step, flow_id):
    consumer = StoreInterface(flow_id, step_name="consume")
    with pytest.raises(NotFoundError, match=r"'missing'.*'consume'") as caught:
        consumer.get_input("missing")
    assert isinstance(caught.value, ValueError) and caught.value.status == 404
    with pytest.raises(ValueError, match=r"'missing'.*'produce'"):
        consumer.get_input("missing", step_name="produce")
    with pytest.raises(NotFoundError, match="step 'ghost' not found in flow"):
        consumer.get_input("anything", step_name="ghost")


def test_invalid_names_are_422_naming_the_field(step):
    with pytest.raises(InvalidInputError) as caught:
        step.save_output(1, "bad/name#")
    assert caught.value.status == 422 and caught.value.field == "name"
    with pytest.raises(InvalidInputError) as caught:
        StoreInterface("flow#1", step_name="s")
    assert caught.value.field == "flow_id"


@pytest.mark.parametrize("streamed", [False, True], ids=["one-put", "multipart-stream"])
def test_large_frames_round_trip_by_either_upload(step, flow_id, monkeypatch, streamed):
    import stepstore.streaming

    if streamed:  # as a frame of several GB would, without building one
        monkeypatch.setattr(stepstore.streaming, "STREAM_ABOVE_BYTES", 1024 * 1024)
    rows = 600_000
    frame = pd.DataFrame(
        {
            "id": np.arange(rows, dtype="int64"),
            "x": np.random.default_rng(1).random(rows),
            "y": np.random.default_rng(2).random(rows),
            "word": pd.Series(np.arange(rows) % 997).map("w{}".format),
        }
    )
    step.save_output(frame, "large")
    (listed,) = [o for o in step.list_outputs() if o["name"] == "large"]
    assert ("-" in listed["etag"]) is streamed  # a multipart ETag is 'md5-N'
    assert listed["size"] > 8 * 1024 * 1024
    pd.testing.assert_frame_equal(reread(flow_id, "large"), frame)


def test_a_stream_longer_than_its_size_hint_asks_for_more_part_urls(step, flow_id):
    from stepstore import streaming
    from stepstore.client import ApiClient, segment

    payload = os.urandom(12 * 1024 * 1024)
    prefix = f"/flows/{segment(flow_id)}/steps/produce/outputs/hinted"

    def produce(sink):
        for offset in range(0, len(payload), 1_000_000):
            sink.write(payload[offset : offset + 1_000_000])

    streaming.upload_stream(
        ApiClient.from_environment(), prefix, "bytes", "raw", produce, size_hint=1, part_size=5 * 1024 * 1024
    )
    assert reread(flow_id, "hinted").getvalue() == payload


def test_a_failing_producer_commits_nothing(step, flow_id):
    from stepstore import streaming
    from stepstore.client import ApiClient, segment

    def produce(sink):
        sink.write(os.urandom(6 * 1024 * 1024))
        raise RuntimeError("writer died")

    with pytest.raises(RuntimeError, match="writer died"):
        streaming.upload_stream(
            ApiClient.from_environment(),
            f"/flows/{segment(flow_id)}/steps/produce/outputs/dead",
            "bytes",
            "raw",
            produce,
            size_hint=1,
            part_size=5 * 1024 * 1024,
        )
    assert step.list_outputs() == []
