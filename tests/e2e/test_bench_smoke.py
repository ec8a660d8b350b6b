"""A tiny run of the benchmark suite, so that it cannot rot. No timing is asserted here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_tiny_benchmark_run_prints_every_section():
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--tiny"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    table = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    sections = {line.split("|")[1].strip() for line in table[1:]}
    assert {"bulk", "assets", "metadata", "cold start", "concurrency", "memory"} <= sections
    cases = {line.split("|")[2].strip() for line in table[1:]}
    assert {"update_progress", "has_input", "import api handler", "import stepstore (no pandas)"} <= cases
    assert "errors: 0" in result.stdout
