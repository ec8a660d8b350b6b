"""Stored text never runs: markup in a page's titles, markdown, table cells, options, messages and an
uploaded file's name reaches the screen as text, and the CSP would refuse anything that slipped by."""

from __future__ import annotations

import uuid

import pandas as pd

from stepstore import StoreInterface
from stepstore.pages import Card, DataSource, Dropdown, Page, PlotlyPlot, RichText, Section, Table, TextInput

PAYLOAD = '<img src=x onerror="window.__xss=(window.__xss||0)+1">'
MARKDOWN = f"""# Report {PAYLOAD}

<script>window.__xss = 2</script>

[a link](javascript:window.__xss=3) <a href="javascript:window.__xss=4">another</a>

<svg onload="window.__xss=5"></svg><iframe src="javascript:window.__xss=6"></iframe>
<form action="javascript:window.__xss=7"><button>go</button></form>
![pixel](http://tracker.invalid/p.gif)
"""


def test_markup_stored_anywhere_on_a_page_is_shown_as_text_and_never_runs(console, make_user):
    mallory = make_user("mallory")
    flow = f"xss-{uuid.uuid4().hex[:8]}"
    store = StoreInterface(flow, step_name="evil")
    frame = pd.DataFrame({PAYLOAD: [PAYLOAD, "<script>window.__xss=8</script>"], "n": [1, 2]})
    figure = {
        "data": [{"type": "bar", "x": [PAYLOAD], "y": [1], "name": PAYLOAD}],
        "layout": {"title": {"text": PAYLOAD}},
    }
    store.update_page(
        Page(
            PAYLOAD,
            [
                Section(
                    PAYLOAD,
                    [
                        Card(
                            PAYLOAD,
                            [
                                RichText(MARKDOWN, title=PAYLOAD),
                                Table(frame, title=PAYLOAD, downloadable=True),
                                PlotlyPlot(figure, title=PAYLOAD),
                                DataSource(PAYLOAD, ["*"], reference_id="file", description=PAYLOAD),
                                Dropdown([PAYLOAD, "plain"], title=PAYLOAD, reference_id="pick"),
                                TextInput(PAYLOAD, title=PAYLOAD, reference_id="text"),
                            ],
                        )
                    ],
                    subtitle=PAYLOAD,
                )
            ],
        )
    )
    store.update_progress(10, PAYLOAD)

    console.sign_in(mallory.token)
    page = console.page
    console.open(f"#/flows/{flow}")
    page.locator('[data-reference-id="file"] input[type=file]').set_input_files(
        files=[{"name": f"{PAYLOAD}.csv", "mimeType": "text/csv", "buffer": b"a,b\n1,2\n"}]
    )
    page.locator('[data-reference-id="file"] .uploaded').wait_for()
    page.locator(".plotly-chart svg.main-svg").first.wait_for()
    console.open("#/flows")  # the flow list shows the step's message
    page.locator("tr", has_text=flow).wait_for()
    console.open(f"#/flows/{flow}")  # and back: the page again, with the uploaded file's name
    page.locator('[data-reference-id="file"] .uploaded').wait_for()
    page.locator(".plotly-chart svg.main-svg").first.wait_for()
    console.shot("10-stored-markup-as-text")

    assert page.evaluate("window.__xss") is None
    assert page.evaluate("document.querySelectorAll('[onerror], [onload], [onclick]').length") == 0
    assert page.evaluate("document.querySelectorAll('iframe, form, object, embed').length") == 0
    assert page.evaluate("document.querySelectorAll('a[href^=\"javascript\"]').length") == 0
    assert page.evaluate(
        "[...document.scripts].every(s => s.src && new URL(s.src).pathname.startsWith('/_console/'))"
    )
    assert page.evaluate('document.querySelectorAll(\'img[src="x"], img[src^="http"]\').length') == 0
    # The words are all there, as text.
    assert page.locator("h2#page-title").text_content() == PAYLOAD
    assert page.locator(".section-title").first.text_content() == PAYLOAD
    assert page.locator(".card-title").first.text_content() == PAYLOAD
    assert page.locator(".file-name").text_content() == f"{PAYLOAD}.csv"
    assert PAYLOAD in page.locator(".element-table tbody").text_content()
    assert PAYLOAD in page.locator(".element-table thead").text_content()
    assert PAYLOAD in page.locator(".markdown h1").text_content()
    assert page.locator('[data-reference-id="pick"] option', has_text="window.__xss").count() == 1
    assert PAYLOAD in page.locator(".step-item").first.text_content()
