"""Hostile DataSource files are refused from what they declare, before they are decoded.

Every bomb here is built small: the Parquet file repeats one tiny row group, the zip and gzip files
are deflated as they are written, chunk by chunk. Nothing in the test holds the decoded size.
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stepstore import DataSource, InvalidInputError
from stepstore.errors import ConfigurationError, UploadLimitError
from stepstore.store_pages import parse_upload
from stepstore.upload_limits import DEFAULT_MAX_BYTES, MAX_BYTES_ENV, MAX_ROWS_ENV, UploadLimits

WHAT = "'bomb' uploaded to DataSource 'Data' on step 'load'"


def parquet_bomb(row_groups: int = 3, rows_per_group: int = 100_000, width: int = 10_000) -> bytes:
    """About 1 KB of Parquet that decodes to `row_groups * rows_per_group` strings of `width` bytes
    (3 GB by default): each row group's dictionary holds the one string, its indices are all zero."""
    indices = pa.array(np.zeros(rows_per_group, dtype=np.int32))
    column = pa.DictionaryArray.from_arrays(indices, pa.array(["x" * width]))
    table = pa.table({"s": column})
    sink = io.BytesIO()
    # Without the stored Arrow schema a reader sees plain strings (no categorical to hide behind).
    with pq.ParquetWriter(sink, table.schema, compression="zstd", store_schema=False) as writer:
        for _ in range(row_groups):
            writer.write_table(table)
    return sink.getvalue()


def zeros_parquet(row_groups: int, rows_per_group: int) -> bytes:
    """Parquet of int64 zeros: a few hundred bytes per row group whatever the row count."""
    zeros = pa.table({"x": pa.array(np.zeros(rows_per_group, dtype=np.int64))})
    sink = io.BytesIO()
    with pq.ParquetWriter(sink, zeros.schema, compression="zstd") as writer:
        for _ in range(row_groups):
            writer.write_table(zeros, row_group_size=rows_per_group)
    return sink.getvalue()


def deflated_stream(chunk: bytes, times: int) -> bytes:
    """`chunk` repeated `times` as one gzip member, compressed as it is produced."""
    sink = io.BytesIO()
    with gzip.GzipFile(fileobj=sink, mode="wb", compresslevel=9) as out:
        for _ in range(times):
            out.write(chunk)
    return sink.getvalue()


def xlsx_bomb(megabytes: int) -> bytes:
    """A workbook-shaped zip whose sheet inflates to `megabytes` MB of repeated row XML."""
    row = b'<row><c t="inlineStr"><is><t>boom</t></is></c></row>' * 20_000  # about 1 MB
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for _ in range(megabytes):
                sheet.write(row)
    return sink.getvalue()


def test_a_parquet_bomb_is_refused_before_its_strings_are_expanded():
    bomb = parquet_bomb()
    assert len(bomb) < 64 * 1024  # small on the wire ...
    pool = pa.default_memory_pool()
    peak_before = pool.max_memory()
    with pytest.raises(UploadLimitError) as refused:
        parse_upload(bomb, "parquet", WHAT)
    message = str(refused.value)
    assert "'bomb'" in message and f"limit of {DEFAULT_MAX_BYTES:,} bytes" in message
    assert "declares (Parquet dictionary pages) 3,002,430,600 bytes once decoded" in message
    assert isinstance(refused.value, InvalidInputError) and isinstance(refused.value, ValueError)
    # ... 3 GB decoded, yet the reader never allocated anything near that
    assert pool.max_memory() - peak_before < 128 * 1024 * 1024


def test_a_parquet_file_declaring_too_much_in_its_footer_is_refused_without_reading_pages():
    bomb = zeros_parquet(row_groups=10, rows_per_group=1_000_000)  # 80 MB of int64 declared
    assert len(bomb) < 256 * 1024
    with pytest.raises(UploadLimitError, match="declares \\(Parquet footer\\) 80,000,000 bytes"):
        parse_upload(bomb, "parquet", WHAT, UploadLimits(max_bytes=16 * 1024 * 1024))


def test_a_parquet_file_with_too_many_rows_is_refused_and_a_small_one_parses():
    small = zeros_parquet(row_groups=3, rows_per_group=1000)
    with pytest.raises(UploadLimitError, match="3,000 rows, over the limit of 2,999 rows"):
        parse_upload(small, "parquet", WHAT, UploadLimits(max_rows=2999))
    frame = parse_upload(small, "parquet", WHAT, UploadLimits(max_rows=3000))
    assert len(frame) == 3000 and int(frame["x"].sum()) == 0
    strings = parse_upload(parquet_bomb(2, 10, 5), "parquet", WHAT)
    assert strings["s"].tolist() == ["xxxxx"] * 20  # plain strings, as pandas reads them


def test_parquet_frames_come_back_as_pandas_reads_them():
    frame = pd.DataFrame(
        {
            "n": [1, 2, None],
            "s": ["a", None, "c"],
            "b": [b"x", b"y", b"z"],
            "t": pd.date_range("2024", periods=3),
        },
        index=pd.Index(["r1", "r2", "r3"], name="row"),
    )
    sink = io.BytesIO()
    frame.to_parquet(sink)
    expected = pd.read_parquet(io.BytesIO(sink.getvalue()))
    pd.testing.assert_frame_equal(parse_upload(sink.getvalue(), "parquet", WHAT), expected)


def test_an_xlsx_zip_bomb_is_refused_from_its_zip_directory():
    bomb = xlsx_bomb(megabytes=40)
    assert len(bomb) < 1024 * 1024
    with pytest.raises(UploadLimitError) as refused:
        parse_upload(bomb, "xlsx", WHAT, UploadLimits(max_bytes=8 * 1024 * 1024))
    assert "declares (zip directory)" in str(refused.value)
    assert "8,388,608 bytes" in str(refused.value) and "'bomb'" in str(refused.value)


def test_a_gzip_bomb_is_refused_by_its_trailer_and_a_lying_trailer_while_inflating():
    bomb = deflated_stream(b"a,b\n" + b"1,2\n" * 250_000, times=40)  # 40 MB of CSV, about 40 KB gzipped
    assert len(bomb) < 256 * 1024
    limits = UploadLimits(max_bytes=4 * 1024 * 1024)
    with pytest.raises(UploadLimitError, match="declares \\(gzip trailer\\)"):
        parse_upload(bomb, "csv", WHAT, limits)
    liar = bomb[:-4] + (100).to_bytes(4, "little")  # claims 100 bytes
    with pytest.raises(UploadLimitError, match="inflates to more than"):
        parse_upload(liar, "csv", WHAT, limits)
    # two members, each honest and small, adding up past the limit
    member = deflated_stream(b"a\n" + b"1\n" * 1_000_000, times=1)
    with pytest.raises(UploadLimitError, match="inflates to more than"):
        parse_upload(member * 3, "csv", WHAT, limits)


def test_gzipped_csv_and_json_within_the_limits_parse():
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    csv_gz = gzip.compress(frame.to_csv(index=False).encode())
    pd.testing.assert_frame_equal(parse_upload(csv_gz, "csv", WHAT), frame)
    json_gz = gzip.compress(frame.to_json(orient="records").encode())
    pd.testing.assert_frame_equal(parse_upload(json_gz, "json", WHAT), frame)
    with pytest.raises(UploadLimitError, match=r"not a valid gzip file|truncated gzip"):
        parse_upload(csv_gz[:-9], "csv", WHAT)


def test_csv_is_bounded_in_bytes_and_rows():
    text = b"a\n" + b"1\n" * 1000
    with pytest.raises(UploadLimitError, match="over the limit of 500 rows"):
        parse_upload(text, "csv", WHAT, UploadLimits(max_rows=500))
    with pytest.raises(UploadLimitError, match="is 2,002 bytes once decoded, over the limit of 1,000 bytes"):
        parse_upload(text, "csv", WHAT, UploadLimits(max_bytes=1000))
    assert len(parse_upload(text, "csv", WHAT, UploadLimits(max_rows=1000))) == 1000


def test_json_is_bounded_in_nesting_before_it_is_parsed():
    deep = b"[" * 100_000 + b"]" * 100_000  # json.loads would raise RecursionError
    with pytest.raises(UploadLimitError, match="nests JSON 100000 levels deep; the limit is 64"):
        parse_upload(deep, "json", WHAT)
    # brackets inside strings are text, not nesting
    fine = json.dumps([{"s": "[[[[" * 100, "n": 1}]).encode()
    assert parse_upload(fine, "json", WHAT)["n"].tolist() == [1]
    many = json.dumps([{"n": i} for i in range(100)]).encode()
    with pytest.raises(UploadLimitError, match="over the limit of 99 rows"):
        parse_upload(many, "json", WHAT, UploadLimits(max_rows=99))


def test_limits_come_from_the_data_source_then_the_environment(monkeypatch):
    monkeypatch.delenv(MAX_BYTES_ENV, raising=False)
    monkeypatch.delenv(MAX_ROWS_ENV, raising=False)
    assert UploadLimits.resolve({}) == UploadLimits()
    monkeypatch.setenv(MAX_BYTES_ENV, "4_000_000_000")
    monkeypatch.setenv(MAX_ROWS_ENV, "7")
    assert UploadLimits.resolve(None) == UploadLimits(max_bytes=4_000_000_000, max_rows=7)
    source = DataSource("Data", ["parquet"], max_bytes=10, max_rows=3)
    assert UploadLimits.resolve(source.to_dict()["params"]) == UploadLimits(max_bytes=10, max_rows=3)
    assert DataSource.from_dict(source.to_dict()) == source
    monkeypatch.setenv(MAX_BYTES_ENV, "lots")
    with pytest.raises(ConfigurationError, match=MAX_BYTES_ENV):
        UploadLimits.resolve({})
    with pytest.raises(ValueError, match="max_rows must be a positive int"):
        DataSource("Data", max_rows=0)


def test_a_raised_limit_lets_a_trusted_large_file_through(monkeypatch):
    bomb = zeros_parquet(row_groups=4, rows_per_group=1000)  # 32 KB decoded
    with pytest.raises(UploadLimitError):
        parse_upload(bomb, "parquet", WHAT, UploadLimits(max_bytes=16_000))
    monkeypatch.setenv(MAX_BYTES_ENV, "64000")
    assert len(parse_upload(bomb, "parquet", WHAT, UploadLimits.resolve({}))) == 4000
