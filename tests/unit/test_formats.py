"""Serialisation of every supported kind, without the network."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepstore import formats
from stepstore.errors import InvalidInputError


def round_trip(value):
    encoded = formats.encode(value)
    return encoded, formats.decode(encoded.kind, encoded.format, encoded.payload)


def mixed_frame() -> pd.DataFrame:
    index = pd.Index(["a", "b", "c"], name="key")
    return pd.DataFrame(
        {
            "i64": np.array([1, -2, 3], dtype="int64"),
            "i8": np.array([1, 2, 3], dtype="int8"),
            "f32": np.array([0.5, np.nan, 2.25], dtype="float32"),
            "nullable": pd.array([1, None, 3], dtype="Int64"),
            "text": ["x", "y", "z"],
            "flag": [True, False, True],
            "when": pd.to_datetime(
                ["2026-01-01 00:00:00", "2026-06-30 12:00:00", "2026-12-31 00:00:00"], format="ISO8601"
            ),
            "when_tz": pd.to_datetime(["2026-01-01", "2026-06-30", "2026-12-31"]).tz_localize(
                "Europe/Berlin"
            ),
            "cat": pd.Categorical(["lo", "hi", "lo"], categories=["lo", "hi"], ordered=True),
        },
        index=index,
    )


def test_dataframe_keeps_dtypes_and_index():
    frame = mixed_frame()
    encoded, back = round_trip(frame)
    assert (encoded.kind, encoded.format) == ("dataframe", "parquet")
    pd.testing.assert_frame_equal(back, frame)
    assert back.dtypes.to_dict() == frame.dtypes.to_dict()


def test_multiindex_and_range_index_survive():
    frame = pd.DataFrame(
        {"v": [1.0, 2.0]}, index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)], names=["k", "n"])
    )
    pd.testing.assert_frame_equal(round_trip(frame)[1], frame)
    ranged = pd.DataFrame({"v": range(5)}, index=pd.RangeIndex(10, 15))
    pd.testing.assert_frame_equal(round_trip(ranged)[1], ranged)


@pytest.mark.parametrize("name", ["score", None, 7])
def test_series_keeps_name_dtype_and_index(name):
    series = pd.Series([1.5, None, 3.0], index=[10, 20, 30], name=name, dtype="float64")
    encoded, back = round_trip(series)
    assert encoded.kind == "series"
    pd.testing.assert_series_equal(back, series)


@pytest.mark.parametrize(
    "value",
    [
        0,
        -(2**70),
        3.141592653589793,
        1e-310,
        -0.0,
        True,
        False,
        "",
        "naïve ✓ text",
        {"a": [1, 2.5, None, {"b": "c"}]},
    ],
)
def test_json_values_come_back_exactly(value):
    encoded, back = round_trip(value)
    assert encoded.format == "json"
    assert back == value
    assert type(back) is type(value)
    if isinstance(value, float):
        assert math.copysign(1, back) == math.copysign(1, value)


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_infinite_floats_round_trip(value):
    assert round_trip(value)[1] == value


def test_nan_float_round_trips():
    assert math.isnan(round_trip(float("nan"))[1])


def test_numpy_scalars_become_python_numbers():
    assert round_trip(np.int64(5))[1] == 5
    assert type(round_trip(np.int64(5))[1]) is int
    assert round_trip(np.float64(0.25))[1] == 0.25


def test_bytesio_is_byte_for_byte_whatever_its_position():
    buffer = io.BytesIO(bytes(range(256)) * 3)
    buffer.seek(100)
    encoded, back = round_trip(buffer)
    assert encoded.format == "raw"
    assert back.getvalue() == bytes(range(256)) * 3


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ([1, 2], "builtins.list"),
        ((1, 2), "builtins.tuple"),
        (None, "NoneType"),
        (object(), "builtins.object"),
        (b"raw", "BytesIO"),
        ({1: "int key"}, "key 1"),
        ({"t": (1, 2)}, "tuple"),
        ({"s": {1, 2}}, "set"),
    ],
)
def test_unsupported_values_name_their_type(value, named):
    with pytest.raises(ValueError, match=named) as caught:
        formats.encode(value)
    assert isinstance(caught.value, InvalidInputError)


def test_non_string_column_names_are_refused_with_the_column():
    with pytest.raises(ValueError, match="column names must be str"):
        formats.encode(pd.DataFrame({0: [1]}))


frames = st.lists(
    st.tuples(
        st.integers(-(2**62), 2**62),
        st.floats(allow_nan=True, allow_infinity=True, width=64),
        st.text(max_size=12),
        st.booleans(),
    ),
    max_size=30,
).map(
    lambda rows: pd.DataFrame(rows, columns=["i", "f", "s", "b"]).astype(
        {"i": "int64", "f": "float64", "b": "bool"}
    )
)


@settings(max_examples=60, deadline=None)
@given(frames)
def test_any_frame_of_these_dtypes_round_trips(frame):
    pd.testing.assert_frame_equal(round_trip(frame)[1], frame)
