"""Run the benchmarks and print the table (BENCHMARKS.md holds the last full run).

python -m bench.run            # full sizes (several minutes)
python -m bench.run --tiny     # seconds: what the test suite runs so the suite cannot rot
"""

from __future__ import annotations

import argparse
import sys
import time

from bench import sections
from bench.harness import Report, StackProcess

FULL = {
    "sizes": [100_000, 1_000_000, 5_000_000],
    "asset_sizes": [1_000_000, 5_000_000],
    "repeats": 5,
    "calls": 300,
    "flows": 8,
    "conc_rows": 100_000,
    "memory_rows": 22_000_000,
    "import_repeats": 7,
}
TINY = {
    "sizes": [1_000],
    "asset_sizes": [1_000],
    "repeats": 1,
    "calls": 5,
    "flows": 2,
    "conc_rows": 100,
    "memory_rows": 10_000,
    "import_repeats": 1,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tiny", action="store_true", help="tiny sizes, one repeat: checks that it runs")
    parser.add_argument(
        "--only",
        nargs="*",
        default=None,
        choices=["bulk", "assets", "metadata", "cold", "concurrency", "memory"],
        help="run only these sections",
    )
    args = parser.parse_args(argv)
    config = TINY if args.tiny else FULL
    wanted = set(args.only or ["bulk", "assets", "metadata", "cold", "concurrency", "memory"])
    report = Report()
    started = time.perf_counter()
    with StackProcess() as stack:
        stack.use(stack.create_user())
        if "bulk" in wanted:
            sections.bulk(report, stack, config["sizes"], config["repeats"])
        if "assets" in wanted:
            sections.assets(report, stack, config["asset_sizes"], config["repeats"])
        if "metadata" in wanted:
            sections.metadata(report, stack, config["calls"])
        if "cold" in wanted:
            sections.cold_start(report, config["import_repeats"])
        if "concurrency" in wanted:
            sections.concurrency(report, stack, config["flows"], config["conc_rows"])
        if "memory" in wanted:
            sections.memory(report, stack, config["memory_rows"])
    print(report.markdown())
    print(
        f"\n{len(report.rows)} figures in {time.perf_counter() - started:.0f} s "
        f"(`python -m bench.run{' --tiny' if args.tiny else ''}`)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
