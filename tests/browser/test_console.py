"""The web console in a real browser: sign in, a step's page with every input, an upload with
progress, the action refused then run, the next step's table and chart, download, isolation."""

from __future__ import annotations

import io
import re
import uuid
from importlib import resources

import pandas as pd
import requests

from stepstore.demo_review import ReviewRunner, start_review

SALES_CSV = resources.files("stepstore.examples").joinpath("data", "sales.csv")
TIMEOUT = 120_000  # ms: the next step runs in a thread of this (busy) test process


def expected_orders(region: str, low: int, high: int, start: str, end: str) -> pd.DataFrame:
    sales = pd.read_csv(io.BytesIO(SALES_CSV.read_bytes()), parse_dates=["date"])
    return sales[
        (sales["region"] == region)
        & sales["units"].between(low, high)
        & sales["date"].between(pd.Timestamp(start), pd.Timestamp(end))
    ]


def element(console, reference_id: str):
    return console.page.locator(f'[data-reference-id="{reference_id}"]')


def test_the_console_is_served_at_the_root_with_a_strict_policy(stack):
    response = requests.get(f"{stack.api_url}/", timeout=30)
    assert response.status_code == 200 and "text/html" in response.headers["Content-Type"]
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert f"connect-src 'self' {stack.aws_endpoint_url}" in policy
    assert "<script" in response.text and "inline" not in response.text
    script = re.search(r'src="(/_console/[^"]+\.js)"', response.text).group(1)
    asset = requests.get(f"{stack.api_url}{script}", timeout=30)
    assert asset.status_code == 200 and "javascript" in asset.headers["Content-Type"]
    assert "immutable" in asset.headers["Cache-Control"]
    # Not a way around the API's token: API routes still want one, and no file outside the build is served.
    assert requests.get(f"{stack.api_url}/flows", timeout=30).status_code == 401
    assert requests.get(f"{stack.api_url}/_console/../../pyproject.toml", timeout=30).status_code in (
        401,
        404,
    )


def test_a_user_fills_a_page_uploads_runs_the_action_and_sees_the_report(
    console, another_console, make_user, tmp_path
):
    alice = make_user("alice")
    flow = f"review-{uuid.uuid4().hex[:8]}"
    start_review(flow)

    with ReviewRunner(interval=0.3) as runner:
        runner.watch(flow)
        page = console.page
        console.open()
        page.wait_for_selector("#token")
        console.shot("01-sign-in")
        console.sign_in(alice.token)
        page.wait_for_selector(f"text={flow}")
        row = page.locator("tr", has_text=flow)
        assert "running" in row.inner_text().lower() and "choose" in row.inner_text()
        console.shot("02-flows")

        page.click(f"text={flow}")
        page.wait_for_selector('[data-reference-id="sales_file"]')
        assert page.locator("h2#page-title").inner_text() == "Review sales"
        assert page.locator(".element-image img").count() == 1
        assert page.locator(".markdown strong", has_text="sales CSV").count() == 1
        console.shot("03-step-page")

        # A refused value: the API's words appear next to the element, nothing else changes.
        units = element(console, "units").locator("input")
        units.nth(1).fill("500")
        units.nth(1).press("Tab")
        refusal = element(console, "units").locator(".field-error")
        refusal.wait_for()
        assert "cannot take [0, 500]" in refusal.inner_text() and "0 to 100" in refusal.inner_text()
        console.shot("04-value-refused", full_page=False)

        # Every input, set the way a person does.
        units.nth(0).fill("5")
        units.nth(1).fill("60")
        units.nth(1).press("Tab")
        element(console, "units").locator(".saved").wait_for()
        element(console, "region").locator("select").select_option(label="South")
        element(console, "region").locator(".saved").wait_for()
        element(console, "metrics").locator("label", has_text="Units sold").locator("input").check()
        element(console, "metrics").locator(".saved").wait_for()
        title = element(console, "report_title").locator("input")
        title.fill("South, mid-size orders")
        title.press("Tab")
        element(console, "report_title").locator(".saved").wait_for()
        period = element(console, "period").locator("input")
        period.nth(0).fill("2026-02-01T00:00")
        period.nth(1).fill("2026-05-31T23:59")
        period.nth(1).press("Tab")
        element(console, "period").locator(".saved").wait_for()

        # The action without a file: refused, naming the missing file.
        page.get_by_role("button", name="Run action").click()
        page.locator(".action-refused").wait_for()
        assert "DataSource 'Sales file' needs a file" in page.locator(".action-refused").inner_text()
        console.shot("05-action-refused")

        # The upload: straight to S3 with a progress bar, then its name and size.
        page.evaluate(
            """() => { window.__sawProgress = false;
              new MutationObserver(() => { if (document.querySelector('[aria-label="Upload progress"]'))
                window.__sawProgress = true; }).observe(document.body, {subtree: true, childList: true}); }"""
        )
        csv_path = tmp_path / "sales.csv"
        csv_path.write_bytes(SALES_CSV.read_bytes())
        element(console, "sales_file").locator("input[type=file]").set_input_files(str(csv_path))
        uploaded = element(console, "sales_file").locator(".uploaded")
        uploaded.wait_for(timeout=TIMEOUT)
        assert "sales.csv" in uploaded.inner_text() and "KB" in uploaded.inner_text()
        assert page.evaluate("window.__sawProgress") is True
        console.shot("06-uploaded")

        # The action runs; the console moves on to the next step once it exists.
        page.get_by_role("button", name="Run action").click()
        page.locator(".eyebrow", has_text="report").wait_for(timeout=TIMEOUT)
        page.locator(".plotly-chart svg.main-svg").first.wait_for(timeout=TIMEOUT)
        assert page.locator("h2#page-title").inner_text() == "South, mid-size orders"

        orders = expected_orders("South", 5, 60, "2026-02-01", "2026-05-31 23:59")
        table = page.locator(".element-table")
        assert f"of {len(orders)}" in table.locator(".table-footer").inner_text()
        assert table.locator("tbody tr").count() == min(10, len(orders))
        headers = [h.strip("↕▲▼ \n") for h in table.locator("thead th").all_text_contents()]
        assert headers[:6] == ["order_id", "date", "region", "product", "units", "unit_price"]
        bars = page.locator(".plotly-chart .barlayer .point")
        assert bars.count() == 2 * orders["product"].nunique()  # units and revenue per product
        legend = page.locator(".plotly-chart .legendtext").all_text_contents()
        assert sorted(legend) == ["Revenue", "Units sold"]
        steps = page.locator(".step-item")
        assert steps.count() == 2 and "completed" in steps.nth(0).inner_text().lower()
        console.shot("07-report")

        # Sorting works on every row, not just the page shown.
        table.locator("thead th", has_text="units").locator("button").click()
        first_units = table.locator("tbody tr").first.locator("td").nth(4).inner_text()
        assert int(first_units) == orders["units"].min()

        # Download: the whole table as CSV, not just the page on screen.
        with page.expect_download() as download:
            table.locator("text=Download CSV").click()
        saved = pd.read_csv(download.value.path())
        assert len(saved) == len(orders) and set(saved["region"]) == {"South"}
        assert sorted(saved["order_id"]) == sorted(orders["order_id"])

        page.set_viewport_size({"width": 390, "height": 844})
        page.locator(".plotly-chart svg.main-svg").first.wait_for()
        # Nothing wider than the phone once the chart has followed the window (plotly resizes on its own).
        for _ in range(200):
            if page.evaluate("document.documentElement.scrollWidth") <= 390:
                break
            page.wait_for_timeout(100)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        console.shot("08-report-phone")

        # Another user: the same address is simply not found.
        bob = make_user("bob", use=False)
        another_console.sign_in(bob.token)
        another_console.open(f"#/flows/{flow}")
        another_console.page.locator(".state-error").wait_for()
        assert "not found" in another_console.page.locator(".state-error").inner_text()
        assert "Review sales" not in another_console.page.content()
        another_console.shot("09-another-users-flow")

        # Sign out: the token leaves the tab.
        page.click("text=Sign out")
        page.wait_for_selector("#token")
        assert page.evaluate("sessionStorage.length") == 0
        assert alice.token not in page.url
    assert not runner.errors
