"""What every benchmark section shares: a stack in its own process, timing, the result table."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from stepstore.local.stack import free_port


@dataclass
class Row:
    section: str
    case: str
    ours: float
    floor: float
    unit: str
    target: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.ours / self.floor if self.floor else float("inf")

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        return "met" if self.ratio <= self.target else "NOT met"


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        print(
            f"  {row.section} / {row.case}: {row.ours:.4g} vs {row.floor:.4g} {row.unit} = {row.ratio:.2f}x "
            f"{row.verdict}",
            file=sys.stderr,
            flush=True,
        )

    def markdown(self) -> str:
        lines = [
            f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}",
            "",
            "| section | case | StepStore | floor | unit | ratio | target | |",
            "|---|---|---:|---:|---|---:|---:|---|",
        ]
        for r in self.rows:
            target = f"<= {r.target:.3g}x" if r.target is not None else ""
            cells = [r.section, r.case, f"{r.ours:.4g}", f"{r.floor:.4g}", r.unit, f"{r.ratio:.2f}x", target]
            lines.append("| " + " | ".join(cells) + f" | {r.verdict} {r.note}".rstrip() + " |")
        return "\n".join(lines)


def median_time(call: Callable[[], Any], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def paired_medians(ours: Callable[[], Any], floor: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Alternate the two so that drift on a noisy machine hits both alike."""
    ours_samples, floor_samples = [], []
    for _ in range(repeats):
        for call, samples in ((floor, floor_samples), (ours, ours_samples)):
            start = time.perf_counter()
            call()
            samples.append(time.perf_counter() - start)
    return statistics.median(ours_samples), statistics.median(floor_samples)


class StackProcess:
    """`stepstore local up` in a child process, as a laptop user runs it: S3 and the API are
    another process's work, as they are in AWS."""

    def __init__(self) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STEPSTORE_"))}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "stepstore.cli", "local", "up", "--port", str(self.port), "--no-events"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self.api_url = self.process.stdout.readline().strip().split("=", 1)[1]
        self.admin_token = self.process.stdout.readline().strip().split("=", 1)[1]
        self.aws_endpoint_url = self.process.stderr.readline().split(" at ", 1)[1].split(";")[0].strip()

    def __enter__(self) -> StackProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)

    def create_user(self, name: str | None = None) -> str:
        import requests

        response = requests.post(
            f"{self.api_url}/users",
            json={"name": name or f"bench-{uuid.uuid4().hex[:8]}"},
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["token"]

    def use(self, token: str) -> None:
        """Point this process's SDK and boto3 at the stack."""
        os.environ.update(
            STEPSTORE_API_URL=self.api_url,
            STEPSTORE_TOKEN=token,
            AWS_ENDPOINT_URL=self.aws_endpoint_url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
        )

    def s3(self) -> Any:
        return boto3.client("s3", region_name="us-east-1", endpoint_url=self.aws_endpoint_url)

    def dynamodb(self) -> Any:
        return boto3.client("dynamodb", region_name="us-east-1", endpoint_url=self.aws_endpoint_url)
