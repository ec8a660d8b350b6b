"""The console's demo: a flow that waits for a person. Step "choose" shows a page of inputs (a CSV
upload, dropdowns, text, a number range, a period); when the user runs its action, step "report"
filters the upload by those choices and shows a Table, a Plotly chart and a summary.

`ReviewRunner` plays the part a flow runner plays: it watches for the action and runs the next step.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from stepstore.client import ApiClient, segment
from stepstore.errors import StepStoreError
from stepstore.pages import (
    Card,
    DataSource,
    DateTimeRange,
    Dropdown,
    Image,
    NumericRange,
    Page,
    PlotlyPlot,
    RichText,
    Section,
    Table,
    TextInput,
)
from stepstore.store import StoreInterface

FLOW_PREFIX = "sales-review"
REGIONS = ["North", "South", "East", "West"]
METRICS = {"units": "Units sold", "revenue": "Revenue"}

INTRO = """Upload a month's **sales CSV** (columns `date`, `region`, `product`, `units`, `unit_price`;
the demo ships one as `stepstore/examples/data/sales.csv`), pick what to look at, then press
**Run action**. The next step, *report*, filters the file by your choices and charts it.

- Only rows in the **period** and **units** range are kept.
- *Metrics* picks what the chart shows.
"""

# A small illustration, drawn as SVG (an Image element may hold PNG, JPEG, GIF, WebP or SVG bytes).
BANNER_SVG = b"""<svg xmlns="http://www.w3.org/2000/svg" width="480" height="120" viewBox="0 0 480 120">
<rect width="480" height="120" rx="10" fill="#eef2fb"/>
<g fill="#1f4fd1"><rect x="40" y="60" width="40" height="40" rx="4"/>
<rect x="100" y="40" width="40" height="60" rx="4"/><rect x="160" y="70" width="40" height="30" rx="4"/>
<rect x="220" y="25" width="40" height="75" rx="4"/></g>
<text x="290" y="55" font-family="sans-serif" font-size="20" font-weight="700" fill="#1b2330">
Sales review</text>
<text x="290" y="82" font-family="sans-serif" font-size="14" fill="#5b6677">upload, choose, report</text>
</svg>"""


def choose_page() -> Page:
    return Page(
        "Review sales",
        [
            Section(
                "About",
                [
                    Card(
                        "How this works",
                        [
                            Image(BANNER_SVG, extension="svg", title="Sales review", show_title=False),
                            RichText(INTRO),
                        ],
                    )
                ],
            ),
            Section(
                "Your choices",
                [
                    Card(
                        "Data",
                        [
                            DataSource(
                                "Sales file",
                                ["csv"],
                                reference_id="sales_file",
                                description="A CSV with date, region, product, units and unit_price.",
                            ),
                            TextInput(
                                "Sales review",
                                title="Report title",
                                reference_id="report_title",
                                description="Shown at the top of the report.",
                            ),
                        ],
                    ),
                    Card(
                        "Filters",
                        [
                            Dropdown(REGIONS, title="Region", reference_id="region", selected=["North"]),
                            Dropdown(
                                METRICS,
                                selected=["revenue"],
                                multiselect=True,
                                title="Metrics",
                                reference_id="metrics",
                            ),
                            NumericRange(0, 100, title="Units per order", reference_id="units"),
                            DateTimeRange(
                                datetime(2026, 1, 1),
                                datetime(2026, 6, 30, 23, 59),
                                title="Period",
                                reference_id="period",
                            ),
                        ],
                    ),
                ],
            ),
        ],
    )


def start_review(flow_id: str) -> StoreInterface:
    """Open the flow's first step, store its page and leave it waiting for the user's action."""
    store = StoreInterface(flow_id, step_name="choose")
    store.update_page(choose_page())
    store.update_progress(50, "waiting for your choices: upload a file, then run the action")
    return store


def run_report(flow_id: str) -> None:
    """Step "report": the user's choices applied to the uploaded file, as a table, a chart and a summary."""
    import pandas as pd

    choose = StoreInterface(flow_id, step_name="choose")
    choose.set_step_status("completed", "choices made")
    store = StoreInterface(flow_id, step_name="report")
    store.update_progress(10, "reading the upload")
    sales = store.get_element_value("choose", "sales_file")
    region = store.get_element_value("choose", "region")
    metrics = store.get_element_value("choose", "metrics") or ["revenue"]
    title = store.get_element_value("choose", "report_title") or "Sales review"
    low, high = store.get_element_value("choose", "units")
    start, end = store.get_element_value("choose", "period")

    frame = sales.copy()
    frame["date"] = pd.to_datetime(frame["date"])
    frame["revenue"] = (frame["units"] * frame["unit_price"]).round(2)
    naive = [
        pd.Timestamp(t).tz_localize(None) if pd.Timestamp(t).tzinfo else pd.Timestamp(t) for t in (start, end)
    ]
    kept = frame[
        (frame["region"] == region)
        & frame["units"].between(low, high)
        & frame["date"].between(naive[0], naive[1])
    ].sort_values("date")
    kept["date"] = kept["date"].dt.date.astype(str)
    store.update_progress(60, f"{len(kept)} of {len(frame)} orders match")

    by_product = kept.groupby("product")[["units", "revenue"]].sum().reset_index()
    figure: dict[str, Any] = {
        "data": [
            {
                "type": "bar",
                "name": METRICS.get(m, m),
                "x": by_product["product"].tolist(),
                "y": by_product[m].tolist(),
            }
            for m in metrics
        ],
        "layout": {
            "title": {
                "text": f"{region}: {' and '.join(METRICS.get(m, m).lower() for m in metrics)} by product"
            },
            "barmode": "group",
            "margin": {"t": 50, "l": 50, "r": 20, "b": 40},
        },
    }
    summary = (
        f"**{len(kept)}** orders from **{region}** between {naive[0].date()} and {naive[1].date()}, "
        f"{low:g} to {high:g} units each: **{int(kept['units'].sum()):,}** units, "
        f"**{kept['revenue'].sum():,.2f}** revenue."
    )
    page = Page(
        str(title),
        [
            Section(
                "Summary",
                [
                    Card("At a glance", [RichText(summary)]),
                    Card("By product", [PlotlyPlot(figure, title="By product", show_title=False)]),
                ],
            ),
            Section(
                "Orders",
                [
                    Card(
                        "Matching orders",
                        [
                            Table(
                                kept.reset_index(drop=True),
                                title="orders",
                                downloadable=True,
                                show_title=False,
                            )
                        ],
                    )
                ],
            ),
        ],
    )
    store.update_page(page)
    store.update_progress(100, f"report on {len(kept)} orders", page_update=True)
    store.set_step_status("completed", f"report on {len(kept)} orders")


class ReviewRunner:
    """Runs step "report" of the flows it watches each time the user runs step "choose"'s action."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self._flows: dict[str, str | None] = {}  # flow id -> the last action it ran the report for
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stepstore-review-runner", daemon=True)
        self.errors: list[str] = []

    def watch(self, flow_id: str) -> None:
        with self._lock:
            self._flows.setdefault(flow_id, None)

    def __enter__(self) -> ReviewRunner:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                watched = dict(self._flows)
            for flow_id, seen in watched.items():
                try:
                    self._check(flow_id, seen)
                except (StepStoreError, OSError) as error:
                    self.errors.append(f"{flow_id}: {error}")
                    time.sleep(self.interval)

    def _check(self, flow_id: str, seen: str | None) -> None:
        path = f"/flows/{segment(flow_id)}/steps/choose/elements/sales_file"
        body = ApiClient.from_environment().get(path)
        action = body.get("action")
        if not action or action.get("ran_at") == seen:
            return
        with self._lock:
            self._flows[flow_id] = action.get("ran_at")
        try:
            run_report(flow_id)
        except Exception as error:  # a failed report is the step's failure, shown in the console
            StoreInterface(flow_id, step_name="report").set_step_status(
                "failed", f"{type(error).__name__}: {error}"
            )
