"""Bounds on turning an uploaded DataSource file into a DataFrame, checked before anything is decoded.

A small file can declare a huge table: a megabyte of Parquet can decode to gigabytes, a zip bomb
can pose as an xlsx workbook, a gzip member can inflate a thousandfold. So before parsing, the SDK
reads what the file declares about its decoded size (the Parquet footer's row groups, the xlsx zip
directory, the gzip trailer) and refuses past the limit, naming the file and the limit. What a
declaration cannot prove is bounded while decoding: gzip inflates at most one byte past the limit,
CSV reads at most one row past the row limit, JSON nesting is measured before it is parsed.

Limits, in order of precedence: the DataSource's own `max_bytes` / `max_rows`, then the
environment (`STEPSTORE_UPLOAD_MAX_BYTES`, `STEPSTORE_UPLOAD_MAX_ROWS`), then the defaults below.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stepstore.errors import ConfigurationError, UploadLimitError

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
DEFAULT_MAX_ROWS = 20_000_000
MAX_JSON_DEPTH = 64
MAX_ZIP_ENTRIES = 10_000
MAX_BYTES_ENV = "STEPSTORE_UPLOAD_MAX_BYTES"
MAX_ROWS_ENV = "STEPSTORE_UPLOAD_MAX_ROWS"

GZIP_MAGIC = b"\x1f\x8b"
_GZIP_WINDOW = 16 + zlib.MAX_WBITS
_INFLATE_CHUNK = 8 * 1024 * 1024
_JSON_SCAN_CHUNK = 16 * 1024 * 1024
# A JSON string literal: brackets inside one are text, not nesting.
_JSON_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)

# Bytes per value of Parquet's fixed-width physical types once decoded; variable-width values are
# counted at 8 bytes each (Arrow's offset and pandas' pointer) on top of their uncompressed pages.
_FIXED_WIDTH = {"BOOLEAN": 1, "INT32": 4, "INT64": 8, "INT96": 12, "FLOAT": 4, "DOUBLE": 8}


def _env_limit(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip().replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigurationError(f"{name}={raw!r} is not a positive whole number")
    return value


@dataclass(frozen=True)
class UploadLimits:
    """How large a DataSource file may become once decoded, and how many rows it may hold."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_rows: int = DEFAULT_MAX_ROWS
    max_json_depth: int = MAX_JSON_DEPTH

    @classmethod
    def resolve(cls, params: Mapping[str, Any] | None = None) -> UploadLimits:
        """The limits for a DataSource with these params: its own, else the environment's, else defaults."""
        params = params or {}
        max_bytes = params.get("max_bytes") or _env_limit(MAX_BYTES_ENV, DEFAULT_MAX_BYTES)
        max_rows = params.get("max_rows") or _env_limit(MAX_ROWS_ENV, DEFAULT_MAX_ROWS)
        return cls(max_bytes=int(max_bytes), max_rows=int(max_rows))

    def refuse_bytes(self, what: str, declared: int, how: str) -> UploadLimitError:
        return UploadLimitError(
            f"{what} {how} {declared:,} bytes once decoded, over the limit of {self.max_bytes:,} bytes; "
            f"raise it with DataSource(max_bytes=...) or {MAX_BYTES_ENV} if the file is trusted",
            field="max_bytes",
        )

    def refuse_rows(self, what: str, rows: int, how: str) -> UploadLimitError:
        return UploadLimitError(
            f"{what} {how} {rows:,} rows, over the limit of {self.max_rows:,} rows; "
            f"raise it with DataSource(max_rows=...) or {MAX_ROWS_ENV} if the file is trusted",
            field="max_rows",
        )


def gunzip(data: bytes, limits: UploadLimits, what: str) -> bytes:
    """The bytes of a gzip file (every member), refused as soon as they would pass the limit.

    The trailer's ISIZE (the last member's size mod 2**32) refuses an honest bomb without inflating
    anything; a lying trailer is caught while inflating, which never produces more than one chunk
    past the limit.
    """
    if len(data) >= 18:
        declared = int.from_bytes(data[-4:], "little")
        if declared > limits.max_bytes:
            raise limits.refuse_bytes(what, declared, "declares (gzip trailer)")
    out = io.BytesIO()
    rest = data
    try:
        while rest:
            inflater = zlib.decompressobj(_GZIP_WINDOW)
            pending = rest
            while pending and not inflater.eof:
                room = limits.max_bytes + 1 - out.tell()
                out.write(inflater.decompress(pending, min(room, _INFLATE_CHUNK)))
                if out.tell() > limits.max_bytes:
                    raise limits.refuse_bytes(what, out.tell(), "inflates to more than")
                pending = inflater.unconsumed_tail
            if not inflater.eof:
                raise UploadLimitError(f"{what} is a truncated gzip file", field="file")
            rest = inflater.unused_data.lstrip(b"\x00")  # members may be padded with zeros
    except zlib.error as error:
        raise UploadLimitError(f"{what} is not a valid gzip file: {error}", field="file") from error
    return out.getvalue()


def _parquet_footer_bytes(metadata: Any) -> int:
    """Decoded bytes a Parquet footer declares: fixed-width values by count, the rest by their pages."""
    declared = 0
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        for c in range(group.num_columns):
            column = group.column(c)
            width = _FIXED_WIDTH.get(column.physical_type)
            if column.physical_type == "FIXED_LEN_BYTE_ARRAY":
                width = metadata.schema.column(c).length or 1
            values = max(int(column.num_values), 0)
            pages = int(column.total_uncompressed_size)
            declared += max(values * width if width else values * 8 + pages, pages)
    return declared


def read_parquet(data: bytes, limits: UploadLimits, what: str) -> Any:
    """A DataFrame from Parquet bytes, refused before decoding when it would pass the limits.

    The footer declares rows and the size of fixed-width values. Strings are where it cannot tell:
    a dictionary page of one 10 KB string can stand for a million rows. So string and binary columns
    are first read still dictionary-encoded (as small as the file), their decoded length summed from
    the dictionary and the indices, and only then expanded.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(pa.BufferReader(data))
    metadata = parquet.metadata
    declared = _parquet_footer_bytes(metadata)
    if declared > limits.max_bytes:
        raise limits.refuse_bytes(what, declared, "declares (Parquet footer)")
    if metadata.num_rows > limits.max_rows:
        raise limits.refuse_rows(what, metadata.num_rows, "declares (Parquet footer)")
    schema = parquet.schema_arrow
    stringy = [
        f.name
        for f in schema
        if pa.types.is_string(f.type)
        or pa.types.is_large_string(f.type)
        or pa.types.is_binary(f.type)
        or pa.types.is_large_binary(f.type)
    ]
    table = pq.read_table(pa.BufferReader(data), use_pandas_metadata=True, read_dictionary=stringy or None)
    decoded = declared
    for name in stringy:
        for chunk in table.column(name).chunks:
            if isinstance(chunk, pa.DictionaryArray) and len(chunk):
                lengths = pc.take(pc.binary_length(chunk.dictionary), chunk.indices)
                decoded += int(pc.sum(lengths).as_py() or 0)
        if decoded > limits.max_bytes:
            raise limits.refuse_bytes(what, decoded, "declares (Parquet dictionary pages)")
    expanded = table.cast(
        pa.schema(
            [schema.field(f.name) if f.name in stringy else f for f in table.schema],
            metadata=table.schema.metadata,
        )
    )
    return expanded.to_pandas()


def check_zip(data: bytes, limits: UploadLimits, what: str) -> None:
    """Refuse an xlsx (a zip) whose central directory declares more than the limit uncompressed.

    Python's zip reader never returns more than an entry declares, so the directory bounds the
    inflated size of the workbook that openpyxl then reads.
    """
    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except zipfile.BadZipFile as error:
        raise UploadLimitError(f"{what} is not an xlsx workbook (zip): {error}", field="file") from error
    if len(entries) > MAX_ZIP_ENTRIES:
        raise UploadLimitError(
            f"{what} holds {len(entries):,} zip entries; a workbook may hold at most {MAX_ZIP_ENTRIES:,}",
            field="file",
        )
    declared = sum(entry.file_size for entry in entries)
    if declared > limits.max_bytes:
        raise limits.refuse_bytes(what, declared, "declares (zip directory)")


def check_json_depth(data: bytes, limits: UploadLimits, what: str) -> None:
    """Refuse JSON nested deeper than the limit, measured without parsing (no recursion to blow)."""
    import numpy as np

    stripped = _JSON_STRINGS.sub(b'""', data)
    depth = 0
    deepest = 0
    for start in range(0, len(stripped), _JSON_SCAN_CHUNK):
        chunk = np.frombuffer(
            stripped, dtype=np.uint8, count=min(_JSON_SCAN_CHUNK, len(stripped) - start), offset=start
        )
        steps = ((chunk == ord("[")) | (chunk == ord("{"))).astype(np.int32)
        steps -= ((chunk == ord("]")) | (chunk == ord("}"))).astype(np.int32)
        running = np.cumsum(steps) + depth
        if running.size:
            deepest = max(deepest, int(running.max()))
            depth = int(running[-1])
    if deepest > limits.max_json_depth:
        raise UploadLimitError(
            f"{what} nests JSON {deepest} levels deep; the limit is {limits.max_json_depth}", field="file"
        )


def check_size(data: bytes, limits: UploadLimits, what: str) -> None:
    if len(data) > limits.max_bytes:
        raise limits.refuse_bytes(what, len(data), "is")


def check_rows(rows: int, limits: UploadLimits, what: str) -> None:
    if rows > limits.max_rows:
        raise limits.refuse_rows(what, rows, "has more than" if rows == limits.max_rows + 1 else "has")
