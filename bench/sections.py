"""The benchmark sections. Each measures StepStore and its floor in the same run."""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from bench.harness import Report, Row, StackProcess, median_time, paired_medians
from stepstore import StoreInterface

BUCKET_FLOOR = "stepstore-bench-floor"


def floor_bucket(stack: StackProcess) -> Any:
    """An S3 client and the floor's bucket in the stack's moto (created once)."""
    s3 = stack.s3()
    if BUCKET_FLOOR not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=BUCKET_FLOOR)
    return s3


def mixed_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """Mixed dtypes, as a flow's data tends to be: ints, floats, strings, bools, times, categories."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype="int64"),
            "amount": rng.normal(100, 15, rows),
            "count": rng.integers(0, 1000, rows, dtype="int32"),
            "flag": rng.random(rows) < 0.5,
            "at": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 10**9, rows), unit="s"),
            "region": pd.Categorical.from_codes(rng.integers(0, 4, rows), ["north", "south", "east", "west"]),
            "code": pd.Series(rng.integers(0, 50_000, rows)).map("C{:05d}".format),
        }
    )


def bulk(report: Report, stack: StackProcess, sizes: list[int], repeats: int) -> None:
    """save_output / get_input against to_parquet + put_object and get_object + read_parquet."""
    s3 = floor_bucket(stack)
    flow = f"bench-{uuid.uuid4().hex[:8]}"
    producer = StoreInterface(flow, step_name="produce")
    consumer = StoreInterface(flow, step_name="consume")
    for rows in sizes:
        _bulk_size(report, s3, producer, consumer, rows, repeats)


def _bulk_size(
    report: Report, s3: object, producer: StoreInterface, consumer: StoreInterface, rows: int, repeats: int
) -> None:
    frame = mixed_frame(rows)
    target_save = 1.05 if rows >= 1_000_000 else None
    target_load = 1.15 if rows >= 1_000_000 else None
    key, name = f"floor-{rows}", f"f{rows}"

    def floor_save() -> None:
        buffer = io.BytesIO()
        frame.to_parquet(buffer)
        s3.put_object(Bucket=BUCKET_FLOOR, Key=key, Body=buffer.getvalue())  # type: ignore[attr-defined]

    def floor_load() -> pd.DataFrame:
        body = s3.get_object(Bucket=BUCKET_FLOOR, Key=key)["Body"].read()  # type: ignore[attr-defined]
        return pd.read_parquet(io.BytesIO(body))

    ours, floor = paired_medians(lambda: producer.save_output(frame, name), floor_save, repeats)
    report.add(Row("bulk", f"save_output {rows:.0e} rows", ours, floor, "s", target_save))
    pd.testing.assert_frame_equal(consumer.get_input(name), floor_load())
    ours, floor = paired_medians(lambda: consumer.get_input(name), floor_load, repeats)
    report.add(Row("bulk", f"get_input {rows:.0e} rows", ours, floor, "s", target_load))


def metadata(report: Report, stack: StackProcess, calls: int) -> None:
    """Small round trips against one raw DynamoDB call to the same moto server."""
    dynamodb = stack.dynamodb()
    table = "stepstore-local-metadata"
    key = {"pk": {"S": "BENCH#floor"}, "sk": {"S": "BENCH"}}
    dynamodb.put_item(TableName=table, Item={**key, "n": {"N": "0"}})
    flow = f"meta-{uuid.uuid4().hex[:8]}"
    first = StoreInterface(flow, step_name="first")
    first.save_output(1, "present")
    store = StoreInterface(flow, step_name="second")

    def raw_update() -> None:
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET progress = :p, message = :m",
            ExpressionAttributeValues={":p": {"N": "50"}, ":m": {"S": "working"}},
        )

    def raw_get() -> None:
        dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)

    for _ in range(20):  # warm connections and caches on both sides
        raw_update(), raw_get(), store.update_progress(1, "warm"), store.has_input("present")
    ours, floor = paired_medians(lambda: store.update_progress(50, "working"), raw_update, calls)
    report.add(Row("metadata", "update_progress", ours * 1000, floor * 1000, "ms", 1.6))
    ours, floor = paired_medians(lambda: store.has_input("present"), raw_get, calls)
    report.add(Row("metadata", "has_input", ours * 1000, floor * 1000, "ms", 1.6))
    if hasattr(store, "get_element_value") and _page_benchmark_ready(store):
        ours, floor = paired_medians(
            lambda: store.get_element_value("second", "bench-choice"), raw_get, calls
        )
        report.add(Row("metadata", "get_element_value", ours * 1000, floor * 1000, "ms", 1.6))


def _page_benchmark_ready(store: StoreInterface) -> bool:
    """A page with one dropdown and a value set, when the pages capability is present."""
    try:
        from stepstore.pages import Card, Dropdown, Page, Section  # type: ignore[attr-defined]
    except ImportError:
        return False
    try:
        page = Page("bench", [Section("s", [Card("c", [Dropdown(["a", "b"], title="bench-choice")])])])
        store.update_page(page)  # type: ignore[attr-defined]
        store.get_element_value("second", "bench-choice")  # type: ignore[attr-defined]
    except Exception as error:  # the pages API may differ; report rather than guess
        print(f"  get_element_value skipped: {error}", file=sys.stderr)
        return False
    return True


HANDLER_MODULES = ("stepstore_functions.handlers.api", "stepstore_functions.handlers.authorizer")


def _import_seconds(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return float(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    )


def cold_start(report: Report, repeats: int) -> None:
    """Import time of each API handler module against `import boto3`, each in a fresh interpreter."""
    for module in HANDLER_MODULES:
        ours, floor = paired_medians(
            lambda m=module: _import_seconds(m), lambda: _import_seconds("boto3"), repeats
        )
        times = (ours, floor)
        report.add(
            Row(
                "cold start",
                f"import {module.rsplit('.', 1)[-1]} handler",
                *[t * 1000 for t in times],
                "ms",
                2.0,
            )
        )
    code = (
        "import sys, time; t = time.perf_counter(); import stepstore; d = time.perf_counter() - t; "
        "assert 'pandas' not in sys.modules, 'import stepstore imported pandas'; print(d)"
    )
    ours = statistics.median(
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(repeats)
    )
    floor = statistics.median(_import_seconds("boto3") for _ in range(repeats))
    report.add(
        Row("cold start", "import stepstore (no pandas)", ours * 1000, floor * 1000, "ms", None, "vs boto3")
    )


def concurrency(report: Report, stack: StackProcess, flows: int, rows: int) -> None:
    """`flows` flows at once, each saving and reading outputs; throughput and errors."""
    frame = mixed_frame(rows)

    def one_flow(index: int) -> int:
        flow = f"conc-{index}-{uuid.uuid4().hex[:6]}"
        done = 0
        a = StoreInterface(flow, step_name="a")
        a.save_output(frame, "frame")
        a.save_output({"i": index}, "meta")
        a.update_progress(100, "done")
        b = StoreInterface(flow, step_name="b")
        assert len(b.get_input("frame")) == rows and b.get_input("meta") == {"i": index}
        done += 6
        return done

    def serial() -> None:
        for i in range(flows):
            one_flow(i)

    serial_seconds = median_time(serial, 1)
    errors = 0
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=flows) as pool:
        futures = [pool.submit(one_flow, i) for i in range(flows)]
        for future in futures:
            try:
                future.result()
            except Exception as error:  # counted, and the first shown
                errors += 1
                if errors == 1:
                    print(f"  concurrency error: {error!r}", file=sys.stderr)
    parallel_seconds = time.perf_counter() - start
    ops = flows * 6
    report.add(
        Row(
            "concurrency",
            f"{flows} flows in parallel ({rows} rows each)",
            ops / parallel_seconds,
            ops / serial_seconds,
            "ops/s",
            None,
            f"(floor: the same flows one after another); errors: {errors}",
        )
    )
    if errors:
        raise RuntimeError(f"{errors} of {flows} concurrent flows failed")


MEMORY_CHILD = """
import gc, io, os, sys, threading, time
import boto3, pandas as pd
from bench.sections import mixed_frame

def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

mode, rows, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
frame = mixed_frame(rows) if mode.endswith("save") else None
gc.collect()
peak, done = [rss()], threading.Event()

def sample() -> None:  # the peak while the operation runs, not the one building the frame made
    while not done.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.002)

sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
if mode == "floor_save":
    buffer = io.BytesIO(); frame.to_parquet(buffer)
    boto3.client("s3", region_name="us-east-1").put_object(Bucket="BUCKET", Key=name, Body=buffer.getvalue())
elif mode == "floor_load":
    body = boto3.client("s3", region_name="us-east-1").get_object(Bucket="BUCKET", Key=name)["Body"].read()
    loaded = pd.read_parquet(io.BytesIO(body))
else:
    from stepstore import StoreInterface
    if mode == "ours_save":
        StoreInterface(name, step_name="produce").save_output(frame, "frame")
    else:
        loaded = StoreInterface(name, step_name="consume").get_input("frame")
done.set(); sampler.join()
print(max(peak[0], rss()))
""".replace("BUCKET", BUCKET_FLOOR)


def memory(report: Report, stack: StackProcess, rows: int) -> None:
    """Peak RSS while a process saves (loads) a large frame, ours against the floor's. The saving
    process holds the frame already; the loading one starts without it."""
    floor_bucket(stack)
    name = f"mem-{uuid.uuid4().hex[:8]}"
    frame_bytes = mixed_frame(1000).memory_usage(deep=True).sum() * rows / 1000

    def peak(mode: str) -> float:
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_CHILD, mode, str(rows), name], capture_output=True, text=True
        )
        if out.returncode:
            raise RuntimeError(f"{mode} failed: {out.stderr[-2000:]}")
        return int(out.stdout.strip().splitlines()[-1]) / 1e9

    for what in ("save", "load"):
        floor = peak(f"floor_{what}")
        ours = peak(f"ours_{what}")
        report.add(
            Row("memory", f"peak RSS, {what} {frame_bytes / 1e9:.1f} GB frame", ours, floor, "GB", 1.3)
        )


def wide_frame(rows: int, columns: int = 20, seed: int = 0) -> pd.DataFrame:
    """`columns` numeric and text columns, for reading a few of many."""
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {}
    for i in range(columns):
        data[f"c{i:02d}"] = (
            rng.normal(size=rows) if i % 4 else pd.Series(rng.integers(0, 999, rows)).map("t{}".format)
        )
    return pd.DataFrame(data)


def assets(report: Report, stack: StackProcess, sizes: list[int], repeats: int) -> None:
    """save_asset / get_dataset against the same floor; projection of 2 of 20 columns against all 20."""
    from stepstore.assets import Dataset

    s3 = floor_bucket(stack)
    store = StoreInterface(f"assets-{uuid.uuid4().hex[:8]}", step_name="bench")
    for rows in sizes:
        frame = mixed_frame(rows)
        label, key = f"bench-{rows}", f"asset-floor-{rows}"

        def floor_save(frame: pd.DataFrame = frame, key: str = key) -> None:
            buffer = io.BytesIO()
            frame.to_parquet(buffer)
            s3.put_object(Bucket=BUCKET_FLOOR, Key=key, Body=buffer.getvalue())

        def floor_load(key: str = key) -> pd.DataFrame:
            return pd.read_parquet(io.BytesIO(s3.get_object(Bucket=BUCKET_FLOOR, Key=key)["Body"].read()))

        def ours_save(frame: pd.DataFrame = frame, label: str = label) -> None:
            store.save_asset(Dataset(frame, label=label), overwrite=True)

        ours, floor = paired_medians(ours_save, floor_save, repeats)
        report.add(
            Row("assets", f"save_asset {rows:.0e} rows", ours, floor, "s", 1.2 if rows >= 1_000_000 else None)
        )
        ours, floor = paired_medians(lambda label=label: store.get_dataset(label), floor_load, repeats)
        report.add(
            Row(
                "assets", f"get_dataset {rows:.0e} rows", ours, floor, "s", 1.2 if rows >= 1_000_000 else None
            )
        )
    wide = wide_frame(sizes[-1])
    store.save_asset(Dataset(wide, label="bench-wide"), overwrite=True)
    few = ["c01", "c02"]
    ours, floor = paired_medians(
        lambda: store.get_dataset("bench-wide", columns=few), lambda: store.get_dataset("bench-wide"), repeats
    )
    report.add(
        Row(
            "assets",
            f"get_dataset 2 of 20 columns, {sizes[-1]:.0e} rows",
            ours,
            floor,
            "s",
            1 / 3,
            "(floor: all 20 columns)",
        )
    )
