"""The page model: JSON round trips without loss, helpers that find, add and replace."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from stepstore.pages import (
    Card,
    DataSource,
    DateTimeRange,
    Dropdown,
    Element,
    Image,
    NumericRange,
    OpaqueElement,
    Page,
    PlotlyPlot,
    RichText,
    Section,
    Table,
    TextInput,
    frame_from_json,
    frame_to_json,
)


def every_element() -> list[Element]:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", None]})
    return [
        DataSource("Upload", ["csv", "xlsx"], reference_id="upload"),
        Dropdown(["a", "b", 3, 4.5], selected=["b"], title="Pick", reference_id="pick"),
        Dropdown(
            {"us": "United States", "fr": "France"}, selected=["fr", "us"], multiselect=True, title="Many"
        ),
        TextInput("hello", title="Name"),
        NumericRange(0, 10, 2, 8, title="Range"),
        NumericRange(-1.5, 1.5, 0.25, title="Single", single=True),
        DateTimeRange(datetime(2024, 1, 1), datetime(2025, 1, 1, tzinfo=UTC), title="When"),
        Table(frame, title="Data", reference_id="data"),
        Image(b"\x89PNG\r\n\x1a\nnot-really", title="Picture"),
        RichText("# Heading\n\n*bold*", title="Notes"),
        PlotlyPlot(
            {"data": [{"type": "bar", "x": [1, 2], "y": [3, 4]}], "layout": {"title": "t"}}, title="Plot"
        ),
    ]


def a_page() -> Page:
    elements = every_element()
    return Page(
        "Example",
        [
            Section("Inputs", [Card("Choose", elements[:7], subtitle="sub", description="desc")]),
            Section("Results", [Card("Outputs", elements[7:])], description="what came out"),
        ],
    )


def test_a_page_with_every_element_round_trips_through_json():
    page = a_page()
    text = page.to_json()
    again = Page.from_json(text)
    assert again == page
    assert again.to_json() == text
    assert [type(e) for e in again.elements] == [type(e) for e in page.elements]
    assert [e.id for e in again.elements] == [e.id for e in page.elements]
    assert json.loads(text)["sections"][0]["cards"][0]["content"][1]["reference_id"] == "pick"


def test_element_ids_are_generated_and_distinct():
    ids = [e.id for e in every_element()]
    assert len(set(ids)) == len(ids) and all(len(i) == 32 for i in ids)


def test_input_values_come_back_typed():
    page = Page.from_json(a_page().to_json())
    assert page.get_element_by_reference_id("pick").get_value() == "b"
    assert page.get_element_by_title("Many").get_value() == ["fr", "us"]
    assert page.get_element_by_title("Name").get_value() == "hello"
    assert page.get_element_by_title("Range").get_value() == [2, 8]
    assert page.get_element_by_title("Single").get_value() == 0.25
    when = page.get_element_by_title("When").get_value()
    assert when == [datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)]
    assert page.get_element_by_title("Upload").get_value() is None


def test_unknown_element_types_are_kept_unchanged():
    raw = {
        "type": "gauge",
        "id": "g1",
        "title": "Speed",
        "reference_id": None,
        "description": "",
        "needle": 3,
    }
    page = Page("p", [Section("s", [Card("c", [Element.from_dict(raw)])])])
    again = Page.from_json(page.to_json())
    element = again.get_element_by_id("g1")
    assert isinstance(element, OpaqueElement)
    assert element.to_dict() == raw


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame(
            {"i": [1, 2, 3], "f": [1.5, np.nan, np.inf], "s": ["a", "b", None], "b": [True, False, True]}
        ),
        pd.DataFrame(
            {
                "t": pd.to_datetime(
                    ["2024-01-01 00:00:00.000000001", None, "2024-03-01 00:00:00"], format="ISO8601"
                ),
                "tz": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]).tz_localize("Europe/Paris"),
                "d": pd.to_timedelta([1, 2, None], unit="s"),
            }
        ),
        pd.DataFrame(
            {
                "n": pd.array([1, None, 3], dtype="Int64"),
                "c": pd.Categorical(["lo", "hi", "lo"], categories=["lo", "hi"], ordered=True),
                "u": np.array([1, 2, 3], dtype="uint8"),
                "f32": np.array([0.1, 0.2, 0.3], dtype="float32"),
            }
        ),
        pd.DataFrame({"v": [1, 2]}, index=pd.Index(["x", "y"], name="key")),
        pd.DataFrame({0: [1.0], 1: ["a"]}),
        pd.DataFrame({"o": [1, "two", 3.5, None, float("nan")]}, dtype=object),
        pd.DataFrame({"empty": pd.Series([], dtype="float64")}),
    ],
)
def test_a_table_keeps_dtypes_index_and_values(frame):
    table = Table(frame, title="t")
    again = Element.from_dict(json.loads(json.dumps(table.to_dict(), allow_nan=False)))
    pd.testing.assert_frame_equal(again.content, frame)


def test_frame_json_is_standard_json_for_a_browser():
    frame = pd.DataFrame({"f": [np.nan, np.inf, -np.inf, 1.0]})
    text = json.dumps(frame_to_json(frame), allow_nan=False)
    assert "NaN" not in text and "Infinity" not in text
    pd.testing.assert_frame_equal(frame_from_json(json.loads(text)), frame)


def test_find_add_and_replace_cards_and_elements():
    page = a_page()
    assert page.get_section_by_title("Results").description == "what came out"
    assert page.get_card_by_title("Outputs").title == "Outputs"
    card = page.add_content_to_section(RichText("one"), "Results", card_title="Live")
    assert page.get_card_by_id(card.id) is card
    page.replace_content_in_section([RichText("two")], "Results", "Live")
    page.replace_content_in_section([RichText("three")], "Results", "Live")
    live = [c for c in page.cards if c.title == "Live"]
    assert len(live) == 1 and live[0].content[0].content == "three"
    new_pick = Dropdown(["x", "y"], title="Pick again", reference_id="pick")
    old = page.replace_element(new_pick)
    assert old.title == "Pick" and page.get_element_by_reference_id("pick") is new_pick
    page.add_card_to_section(Card("Extra", [TextInput(title="More")]), "Inputs")
    assert page.find_element("More").title == "More"
    assert page.find_element(new_pick.id) is new_pick
    page.remove_card("Results", "Live")
    assert page.get_card_by_title("Live", quiet=True) is None


def test_missing_things_are_named_or_none_when_quiet():
    page = a_page()
    with pytest.raises(ValueError, match="no section titled 'Nope'"):
        page.add_card_to_section(Card("c"), "Nope")
    with pytest.raises(ValueError, match="'missing'"):
        page.get_element_by_title("missing")
    assert page.get_element_by_id("missing", quiet=True) is None
    assert page.find_element("missing", quiet=True) is None


def test_duplicate_reference_ids_are_found():
    page = a_page()
    page.check_unique_reference_ids()
    page.add_content_to_section(TextInput(title="Twin", reference_id="pick"), "Inputs")
    with pytest.raises(ValueError, match="reference_id 'pick' is used by two elements"):
        page.check_unique_reference_ids()


def test_bad_element_definitions_are_refused():
    with pytest.raises(ValueError, match="unknown format 'docx'"):
        DataSource("d", ["docx"])
    with pytest.raises(ValueError, match="min_range 5 is above max_range 1"):
        NumericRange(5, 1)
    with pytest.raises(ValueError, match="needs a pandas DataFrame"):
        Table([1, 2, 3])
    with pytest.raises(ValueError, match="options must be str, int or float"):
        Dropdown([True, False])


def test_importing_stepstore_pages_does_not_import_pandas():
    import subprocess
    import sys

    code = "import sys, stepstore, stepstore.pages; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_flows_written_for_the_reference_sdk_port_unchanged():
    from enum import Enum

    class Overflow(Enum):
        SCROLL = "scroll"

    def callback(store):  # page callbacks are accepted and not stored
        return store

    pick = Dropdown(["a", "b"], ["b"], True, False, True, "Pick", page_update=callback, label="L")
    assert pick.multiselect and pick.title == "Pick" and pick.get_value() == ["b"]
    span = NumericRange(0, 10, 1, 9, True, False, "Span", "desc", False, step_size=1)
    assert span.title == "Span" and span.get_value() == [1, 9]
    moment = DateTimeRange(
        datetime(2024, 1, 1), datetime(2024, 2, 1), None, None, True, False, True, True, True, False, "At"
    )
    assert moment.title == "At" and not moment.is_range
    table = Table(
        pd.DataFrame({"a": [1]}), True, False, "Rows", cell_colors=None, max_table_rows_to_display=50
    )
    text = RichText("hi", False, "Note", overflow_behavior=Overflow.SCROLL, info_content="more")
    plot = PlotlyPlot({"data": []}, None, False, "d")
    card = Card("c", [pick, span, moment, table, text, plot], page_update=callback, updater_text="Go")
    page = Page("p", [Section("s", [card])], on_auto_refresh=callback)
    again = Page.from_json(page.to_json())
    assert again == page
    assert again.get_element_by_title("Rows").extra == {"max_table_rows_to_display": 50}
    assert again.get_element_by_title("Note").extra == {"overflow_behavior": "scroll", "info_content": "more"}
    assert again.get_card_by_title("c").extra == {"updater_text": "Go"}
    with pytest.raises(ValueError, match=r"option thing=.* cannot be stored as JSON"):
        TextInput(title="t", thing=object())


def test_random_frames_round_trip_through_table_json():
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis.extra.pandas import column, data_frames, range_indexes

    text = st.one_of(st.none(), st.text())
    frames = data_frames(
        [
            column("i", dtype="int64"),
            column("f", dtype="float64"),
            column("b", dtype="bool"),
            column("o", elements=text, dtype=object),
            column("s", elements=text, dtype="str"),
            column("n", elements=st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), dtype="Int64"),
            column("t", dtype="datetime64[ns]"),
            column("u", dtype="uint32"),
        ],
        index=range_indexes(max_size=12),
    )

    @settings(max_examples=25, deadline=None)
    @given(frames)
    def round_trips(frame):
        stored = json.dumps(frame_to_json(frame), allow_nan=False)
        pd.testing.assert_frame_equal(frame_from_json(json.loads(stored)), frame)

    round_trips()
