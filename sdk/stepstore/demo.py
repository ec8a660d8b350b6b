"""The demo: a three-step flow (load, transform, summarise) on the local stack, end to end."""

from __future__ import annotations

import sys
from importlib import resources
from typing import TextIO

from stepstore.flow import Flow, FlowRun
from stepstore.store import StoreInterface

SALES_CSV = "sales.csv"


def build_flow() -> Flow:
    flow = Flow("sales-demo")

    @flow.step("load")
    def load(store: StoreInterface) -> None:
        import pandas as pd

        with resources.files("stepstore.examples").joinpath("data", SALES_CSV).open() as csv:
            raw = pd.read_csv(csv, parse_dates=["date"])
        store.update_progress(50, f"read {len(raw)} rows from {SALES_CSV}")
        store.save_output(raw, "raw_sales")
        store.update_progress(100, f"saved {len(raw)} rows")

    @flow.step("transform")
    def transform(store: StoreInterface) -> None:
        raw = store.get_input("raw_sales")
        clean = raw.dropna(subset=["units"]).astype({"units": "int64"})
        clean["revenue"] = clean["units"] * clean["unit_price"]
        clean["month"] = clean["date"].dt.to_period("M").astype(str)
        store.update_progress(60, f"dropped {len(raw) - len(clean)} rows without units")
        store.save_output(clean, "sales")
        store.save_output({"rows_in": len(raw), "rows_out": len(clean)}, "cleaning_report")
        store.update_progress(100, "sales cleaned")

    @flow.step("summarise")
    def summarise(store: StoreInterface) -> None:
        sales = store.get_input("sales")
        by_region = (
            sales.groupby("region")[["units", "revenue"]].sum().sort_values("revenue", ascending=False)
        )
        store.update_progress(50, f"summarised {len(sales)} sales by region")
        store.save_output(by_region, "revenue_by_region")
        store.save_output(float(round(sales["revenue"].sum(), 2)), "total_revenue")
        store.save_output(str(by_region.index[0]), "top_region")
        store.update_progress(100, "summary ready")

    return flow


def run_demo(out: TextIO = sys.stdout) -> FlowRun:
    """Start a local stack in this process, run the demo flow as a new user, print what it left."""
    from stepstore.local import LocalStack
    from stepstore.local.environment import environment

    with LocalStack() as stack:
        token = stack.create_user("demo")
        with environment({"STEPSTORE_API_URL": stack.api_url, "STEPSTORE_TOKEN": token}):
            run = build_flow().run()
            report(run, out)
    return run


def serve_demo(host: str = "127.0.0.1", port: int = 0, out: TextIO = sys.stdout) -> None:
    """The demo flow, then a flow that waits for a person (demo_review), on a local stack that keeps
    running for the web console until Ctrl-C."""
    import signal
    import threading
    import uuid

    from stepstore.demo_review import FLOW_PREFIX, ReviewRunner, start_review
    from stepstore.local import LocalStack
    from stepstore.local.environment import environment

    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    with LocalStack(host=host, port=port) as stack:
        token = stack.create_user("demo")
        with environment({"STEPSTORE_API_URL": stack.api_url, "STEPSTORE_TOKEN": token}):
            report(build_flow().run(), out)
            review = f"{FLOW_PREFIX}-{uuid.uuid4().hex[:6]}"
            start_review(review)
            with ReviewRunner() as runner:
                runner.watch(review)
                print(
                    f"\nOpen the web console: {stack.console_url}\n"
                    f"Sign in with the demo user's token: {token}\n"
                    f"Flow {review} waits for you: upload stepstore/examples/data/sales.csv, make your "
                    "choices, run the action.\nCtrl-C stops the stack (its data goes with it).",
                    file=out,
                    flush=True,
                )
                stopped.wait()


def report(run: FlowRun, out: TextIO) -> None:
    status = run.status
    print(f"Flow {status.flow_id} (owner {status.owner}): {status.status.value}", file=out)
    print(f"{'step':<12} {'status':<10} {'progress':>8}  message", file=out)
    for step in status.steps:
        print(f"{step.name:<12} {step.status.value:<10} {step.progress:>7.0f}%  {step.message}", file=out)
    last = StoreInterface(status.flow_id, step_name=status.steps[-1].name)
    print("\nWhat each step left:", file=out)
    for step in status.steps:
        for output in last.list_outputs(step.name):
            print(
                f"  {step.name:<12} {output['name']:<18} {output['kind']:<10} {output['format']:<8} "
                f"{output['size']:>7} bytes",
                file=out,
            )
    print("\nrevenue_by_region:", file=out)
    summary_step = status.steps[-1].name
    print(last.get_input("revenue_by_region", step_name=summary_step).to_string(), file=out)
    print(f"\ntotal_revenue: {last.get_input('total_revenue', step_name=summary_step)}", file=out)
    print(f"top_region: {last.get_input('top_region', step_name=summary_step)}", file=out)
