"""A ~1 GB DataFrame as a Dataset asset through a local stack, against plain Parquet + one S3 put.

    python -m bench.assets_1gb            # ~1 GB (needs ~10 GB of free memory; a few minutes)
    python -m bench.assets_1gb --gb 0.1   # quick look

The stack runs as `stepstore local up` in its own process (moto holds the objects there). Each
measured side runs in a fresh child process that builds the same frame, then either saves it or
loads it; the time covers only the save or the load, and the peak RSS is the child's own
(``os.wait4``'s rusage of that child: the whole process, frame included). "ours" is
``save_asset(Dataset(...))`` and ``get_dataset``; "plain" is ``to_parquet`` into memory and one
``put_object`` to the same moto, and ``get_object`` + ``read_parquet``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

import requests

BUCKET = "bench-plain"

CHILD = r"""
import io, json, os, resource, sys, time
import numpy as np, pandas as pd

mode, rows, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def frame_of(rows):
    rng = np.random.default_rng(42)
    return pd.DataFrame({
        **{f"f{n}": rng.standard_normal(rows) for n in range(5)},
        "i0": rng.integers(0, 1_000_000, rows), "i1": np.arange(rows, dtype="int64"),
        "f32": rng.standard_normal(rows).astype("float32"),
        "flag": rng.random(rows) < 0.5,
        "cat": pd.Categorical.from_codes(rng.integers(0, 4, rows).astype("int8"), ["a", "b", "c", "d"]),
    }, copy=False)  # no consolidating copy: building the frame must not set the peak itself

loading = mode.endswith("_load")
# A loading child keeps only what it checks against (the dtypes and one column), not a second frame.
frame = frame_of(10) if loading else frame_of(rows)
expected_f0 = np.random.default_rng(42).standard_normal(rows) if loading else None
frame_bytes = int(frame_of(1000).memory_usage(deep=True).sum() * rows / 1000)
built_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
started = time.perf_counter()
if mode == "plain_save":
    import boto3
    buffer = io.BytesIO(); frame.to_parquet(buffer)
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket=sys.argv[4], Key=name, Body=buffer.getvalue())
    stored = buffer.tell()
elif mode == "plain_load":
    import boto3
    body = boto3.client("s3", region_name="us-east-1").get_object(Bucket=sys.argv[4], Key=name)["Body"].read()
    loaded = pd.read_parquet(io.BytesIO(body)); stored = len(body); del body
elif mode == "ours_save":
    from stepstore import Dataset, StoreInterface
    store = StoreInterface(name, step_name="bench")
    asset = Dataset(frame, name); store.save_asset(asset)
    stored = store.list_asset_versions(asset.id)[0].size
elif mode == "ours_load":
    from stepstore import StoreInterface
    store = StoreInterface(name, step_name="bench")
    loaded = store.get_dataset(name).object
    stored = store.list_assets(label=name)[0].size
seconds = time.perf_counter() - started
if loading:
    assert len(loaded) == rows and loaded.dtypes.equals(frame.dtypes), loaded.dtypes
    assert loaded["i1"].iloc[-1] == rows - 1
    assert np.array_equal(loaded["f0"].to_numpy(), expected_f0)
result = {"seconds": seconds, "frame_bytes": frame_bytes, "stored_bytes": stored, "built_rss": built_rss}
print(json.dumps(result))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--gb", type=float, default=1.0, help="frame size in memory, in GB (default 1)")
    args = parser.parse_args(argv)
    rows = int(args.gb * 1e9 / 63)  # 63 bytes a row in memory (see CHILD's frame_of)

    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STEPSTORE_"))}
    port = _free_port()
    stack = subprocess.Popen(
        [sys.executable, "-m", "stepstore.cli", "local", "up", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=base_env,
    )
    try:
        assert stack.stdout is not None and stack.stderr is not None
        api_url = stack.stdout.readline().strip().split("=", 1)[1]
        admin_token = stack.stdout.readline().strip().split("=", 1)[1]
        aws_endpoint = stack.stderr.readline().split(" at ", 1)[1].split(";")[0].strip()
        created = requests.post(
            f"{api_url}/users",
            json={"name": f"bench-{uuid.uuid4().hex[:8]}"},
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=30,
        )
        created.raise_for_status()
        env = {
            **base_env,
            "STEPSTORE_API_URL": api_url,
            "STEPSTORE_TOKEN": created.json()["token"],
            "AWS_ENDPOINT_URL": aws_endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        import boto3

        s3 = boto3.client(
            "s3",
            region_name="us-east-1",
            endpoint_url=aws_endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        s3.create_bucket(Bucket=BUCKET)
        name = f"bench-{uuid.uuid4().hex[:8]}"
        results = {}
        started = time.perf_counter()
        for mode in ("plain_save", "ours_save", "plain_load", "ours_load"):
            results[mode] = _measure(mode, rows, name, env)
            r = results[mode]
            print(
                f"{mode:<11} {r['seconds']:8.2f} s   peak RSS {r['peak_rss_bytes'] / 1e9:6.2f} GB "
                f"(after building the frame: {r['built_rss'] / 1e9:.2f} GB)   "
                f"frame {r['frame_bytes'] / 1e9:.2f} GB   stored {r['stored_bytes'] / 1e9:.2f} GB",
                flush=True,
            )
        print(f"# {rows} rows; total {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        stack.terminate()
        stack.wait(timeout=60)
    return 0


def _measure(mode: str, rows: int, name: str, env: dict[str, str]) -> dict[str, float]:
    """Run one side in a fresh process; its peak RSS comes from wait4's rusage for that child alone."""
    with tempfile.TemporaryFile("w+") as errors:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, mode, str(rows), name, BUCKET],
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        assert child.stdout is not None
        out = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            errors.seek(0)
            raise RuntimeError(f"{mode} failed: {errors.read()[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_bytes"] = usage.ru_maxrss * 1024  # KiB on Linux
    return result


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
