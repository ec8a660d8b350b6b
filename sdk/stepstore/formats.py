"""How each kind of value is serialised: every storage format in one place.

DataFrames and Series travel as Parquet (pyarrow), which keeps dtypes and index; dicts and
scalars as JSON, checked to come back exactly; BytesIO as the raw bytes. pandas and pyarrow
are imported only when a DataFrame or Series is actually involved.
"""

from __future__ import annotations

import io
import json
import math
import numbers
import sys
from dataclasses import dataclass
from typing import Any

from stepstore.errors import InvalidInputError

_SERIES_META_KEY = b"stepstore.series"
_UNNAMED_SERIES_COLUMN = "__series__"


@dataclass(frozen=True)
class Encoded:
    kind: str
    format: str
    payload: bytes

    @property
    def json_text(self) -> str:
        return self.payload.decode()


def _pandas() -> Any | None:
    # If pandas was never imported, the value cannot be a DataFrame or Series.
    return sys.modules.get("pandas")


# Rows per Parquet row group, pyarrow's default: smaller groups let a stream start sooner but
# cost far more to encode (dictionaries are rebuilt per group), so large frames stream by group.
ROW_GROUP_ROWS = 1024 * 1024


def arrow_table(data: Any, what: str = "data") -> tuple[str, Any] | None:
    """(kind, pyarrow Table) for a DataFrame or Series, None for anything else."""
    pd = _pandas()
    if pd is not None and isinstance(data, pd.DataFrame):
        return "dataframe", _frame_table(data, what)
    if pd is not None and isinstance(data, pd.Series):
        return "series", _series_table(data, what)
    return None


def write_parquet(table: Any, sink: Any) -> None:
    """Write `table` to the file `sink` one row group at a time (so a streaming sink can send early)."""
    import pyarrow.parquet as pq

    with pq.ParquetWriter(sink, table.schema) as writer:
        for offset in range(0, max(table.num_rows, 1), ROW_GROUP_ROWS):
            writer.write_table(table.slice(offset, ROW_GROUP_ROWS))


def encode(data: Any, what: str = "data") -> Encoded:
    """Serialise `data`; unsupported or unserialisable values raise InvalidInputError (a ValueError)."""
    tabular = arrow_table(data, what)
    if tabular is not None:
        kind, table = tabular
        sink = io.BytesIO()
        write_parquet(table, sink)
        return Encoded(kind, "parquet", sink.getvalue())
    if isinstance(data, io.BytesIO):
        return Encoded("bytes", "raw", data.getvalue())
    if isinstance(data, bool):
        return Encoded("bool", "json", json.dumps(data).encode())
    if isinstance(data, numbers.Integral):
        return Encoded("int", "json", json.dumps(int(data)).encode())
    if isinstance(data, float | numbers.Real) and not isinstance(data, numbers.Integral):
        return Encoded("float", "json", _float_json(float(data)).encode())
    if isinstance(data, str):
        return Encoded("str", "json", json.dumps(data).encode())
    if isinstance(data, dict):
        _check_exact_json(data, what)
        return Encoded("dict", "json", json.dumps(data, separators=(",", ":")).encode())
    hint = " (wrap bytes in io.BytesIO)" if isinstance(data, bytes | bytearray) else ""
    raise InvalidInputError(
        f"cannot store {what} of type {type(data).__module__}.{type(data).__qualname__}{hint}: "
        "supported are DataFrame, Series, dict, int, float, bool, str and BytesIO"
    )


def decode(kind: str, data_format: str, payload: bytes) -> Any:
    """The value `encode` was given, rebuilt from its stored form."""
    if data_format == "raw":
        return io.BytesIO(payload)
    if data_format == "json":
        value = json.loads(payload)
        return float(value) if kind == "float" else value
    if data_format == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.read_table(pa.BufferReader(payload))
        if kind == "series":
            return _series_from_table(table)
        return table.to_pandas()
    raise InvalidInputError(f"unknown stored format {data_format!r} for a {kind}")


def _float_json(value: float) -> str:
    # repr round-trips every float exactly; json writes NaN and Infinity as Python reads them back.
    return json.dumps(value) if math.isfinite(value) else json.dumps(value, allow_nan=True)


def _check_exact_json(value: Any, path: str) -> None:
    """Refuse what JSON would change on the way back (tuples, non-string keys, objects)."""
    if value is None or isinstance(value, str | bool | int | float):
        if isinstance(value, int) and not isinstance(value, bool) and type(value) is not int:
            raise InvalidInputError(f"{path} is a {type(value).__name__}, not a plain int")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInputError(
                    f"{path} has key {key!r} of type {type(key).__name__}; "
                    "dict keys must be str to store exactly"
                )
            _check_exact_json(item, f"{path}[{key!r}]")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_exact_json(item, f"{path}[{index}]")
        return
    raise InvalidInputError(
        f"{path} holds a {type(value).__module__}.{type(value).__qualname__}, "
        "which a dict output cannot store "
        "exactly: use str, int, float, bool, None, list and dict values"
    )


def _frame_table(frame: Any, what: str) -> Any:
    import pyarrow as pa

    bad = [c for c in frame.columns if not isinstance(c, str)]
    if bad:
        raise InvalidInputError(
            f"cannot store {what}: DataFrame column names must be str for Parquet, got {bad[0]!r} "
            f"({type(bad[0]).__name__})"
        )
    try:
        # preserve_index=None: a RangeIndex is kept as metadata (and comes back a RangeIndex),
        # any other index as columns.
        return pa.Table.from_pandas(frame, preserve_index=None)
    except (pa.ArrowException, TypeError, ValueError) as error:
        raise InvalidInputError(f"cannot store {what} as Parquet: {error}") from error


def _series_table(series: Any, what: str) -> Any:
    import pyarrow as pa

    column = series.name if isinstance(series.name, str) else _UNNAMED_SERIES_COLUMN
    try:
        table = pa.Table.from_pandas(series.to_frame(name=column), preserve_index=None)
    except (pa.ArrowException, TypeError, ValueError) as error:
        raise InvalidInputError(f"cannot store {what} as Parquet: {error}") from error
    if series.name is not None and not isinstance(series.name, str):
        _check_exact_json(series.name, f"{what}.name")
    meta = dict(table.schema.metadata or {})
    meta[_SERIES_META_KEY] = json.dumps({"name": series.name}).encode()
    return table.replace_schema_metadata(meta)


def _series_from_table(table: Any) -> Any:
    meta = json.loads((table.schema.metadata or {}).get(_SERIES_META_KEY, b'{"name": null}'))
    frame = table.to_pandas()
    series = frame.iloc[:, 0]
    series.name = meta["name"]
    return series
