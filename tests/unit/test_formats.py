"""Serialisation of every supported kind, without the network."""

from __future__ import annotations

import enum
import io
import math
from fractions import Fraction

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


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 7


class Counted(int):
    """An int subclass that is not a bool or an enum."""


@pytest.mark.parametrize("value", [Level.HIGH, Counted(7), np.int32(7), np.uint8(7)])
def test_an_int_subclass_comes_back_as_a_plain_int(value):
    encoded, back = round_trip(value)
    assert (encoded.kind, encoded.format, encoded.payload) == ("int", "json", b"7")
    assert back == 7 and type(back) is int


@pytest.mark.parametrize("value", [Fraction(1, 4), np.float32(0.25), np.float16(0.25)])
def test_any_real_number_comes_back_as_a_float(value):
    encoded, back = round_trip(value)
    assert (encoded.kind, encoded.payload) == ("float", b"0.25")
    assert back == 0.25 and type(back) is float


def test_a_float_stored_as_a_whole_number_comes_back_a_float():
    back = formats.decode("float", "json", b"3")
    assert back == 3.0 and type(back) is float
    assert type(formats.decode("int", "json", b"3")) is int


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_bools_stay_bools(value):
    encoded, back = round_trip(bool(value) if isinstance(value, np.bool_) else value)
    assert encoded.kind == "bool"
    assert back is bool(value)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ({"level": Level.LOW}, r"data\['level'\] is a Level, not a plain int"),
        ({"n": [1, Counted(2)]}, r"data\['n'\]\[1\] is a Counted, not a plain int"),
        ({"deep": {"x": [{"y": (1,)}]}}, r"data\['deep'\]\['x'\]\[0\]\['y'\] holds a builtins.tuple"),
        ({"k": {2: "v"}}, r"data\['k'\] has key 2 of type int"),
    ],
)
def test_a_dict_that_json_would_change_is_refused_saying_where(value, says):
    with pytest.raises(InvalidInputError, match=says):
        formats.encode(value)


def test_a_dict_of_every_json_type_is_kept_exactly():
    value = {"s": "x", "i": -3, "f": 0.5, "b": False, "n": None, "l": [True, [1], {}], "d": {"e": {}}}
    encoded, back = round_trip(value)
    assert encoded.kind == "dict" and back == value
    assert type(back["b"]) is bool and type(back["i"]) is int


@pytest.mark.parametrize("stored", ["xml", "pickle", "", "JSON", "Parquet"])
def test_an_unknown_stored_format_is_an_error_naming_it(stored):
    with pytest.raises(InvalidInputError, match=f"unknown stored format {stored!r} for a dict"):
        formats.decode("dict", stored, b"{}")


def test_raw_bytes_come_back_as_a_fresh_buffer_at_the_start():
    back = formats.decode("bytes", "raw", b"abc")
    assert isinstance(back, io.BytesIO) and back.read() == b"abc"


def test_an_empty_frame_keeps_its_columns_and_dtypes():
    frame = pd.DataFrame({"a": pd.Series([], dtype="int64"), "b": pd.Series([], dtype="object")})
    pd.testing.assert_frame_equal(round_trip(frame)[1], frame)


def test_a_series_with_a_name_json_cannot_keep_is_refused():
    with pytest.raises(InvalidInputError, match=r"data.name holds a builtins.tuple"):
        formats.encode(pd.Series([1], name=("a", 1)))


def test_a_series_named_like_the_placeholder_column_keeps_its_name():
    for name in ("__series__", "", "values"):
        series = pd.Series([1, 2], name=name)
        pd.testing.assert_series_equal(round_trip(series)[1], series)


def test_values_that_need_no_pandas_never_import_it():
    # Without pandas imported, nothing can be a DataFrame: encoding a dict must not import it.
    import subprocess
    import sys

    code = (
        "import io, sys; from stepstore import formats; formats.encode({'a': 1}); "
        "formats.encode(io.BytesIO(b'x')); formats.encode(2.5); print('pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_an_inline_value_is_its_json_text():
    assert formats.encode({"a": [1, 2]}).json_text == '{"a":[1,2]}'
    assert formats.encode("é").json_text == '"\\u00e9"'


def test_plain_bytes_get_a_hint_to_wrap_them_and_other_types_do_not():
    for raw in (b"raw", bytearray(b"raw")):
        with pytest.raises(InvalidInputError, match=r"\(wrap bytes in io.BytesIO\)"):
            formats.encode(raw)
    with pytest.raises(InvalidInputError) as caught:
        formats.encode([1])
    assert "wrap bytes" not in str(caught.value)


def test_the_first_bad_column_name_is_the_one_named():
    with pytest.raises(InvalidInputError, match=r"got 0 \(int\)"):
        formats.encode(pd.DataFrame([[1, 2, 3]], columns=[0, "ok", 1.5]))


@pytest.mark.parametrize(
    "value",
    [pd.DataFrame({"mixed": [1, "a", 2.5]}), pd.Series([1, "a", 2.5], name="mixed")],
    ids=["frame", "series"],
)
def test_values_parquet_cannot_hold_are_refused_as_input_errors(value):
    with pytest.raises(InvalidInputError, match="cannot store data as Parquet"):
        formats.encode(value)


def test_a_stored_series_is_a_parquet_column_named_like_the_series():
    # Other readers of the object (pandas, Athena) see the Series' name as the column's.
    import pyarrow as pa
    import pyarrow.parquet as pq

    encoded = formats.encode(pd.Series([1.5, 2.5], name="score"))
    assert pq.read_table(pa.BufferReader(encoded.payload)).column_names == ["score"]


def test_an_encoded_value_cannot_be_changed_after_encoding():
    import dataclasses

    encoded = formats.encode({"a": 1})
    with pytest.raises(dataclasses.FrozenInstanceError):
        encoded.payload = b"{}"  # type: ignore[misc]
