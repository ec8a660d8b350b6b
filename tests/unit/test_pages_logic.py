"""Page rules without AWS: element heads, value validation, the action's file checks, upload parsing."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from stepstore.errors import InvalidInputError as SdkInvalidInputError
from stepstore.pages import (
    Card,
    DataSource,
    DateTimeRange,
    Dropdown,
    NumericRange,
    Page,
    Section,
    Table,
    TextInput,
)
from stepstore.store_pages import _assemble, parse_upload
from stepstore_functions.logic.pages import (
    file_format,
    find_head,
    manifest_of,
    output_name,
    sniff_csv,
    sniff_json,
    validate_value,
)
from stepstore_functions.models.errors import ConflictError, InvalidInputError, NotFoundError


def head(element) -> dict:
    return {k: v for k, v in element.to_dict().items() if k != "content"}


def test_the_manifest_holds_every_element_without_its_content():
    table = Table(pd.DataFrame({"a": [1]}), title="T")
    page = Page("p", [Section("s", [Card("c", [table, TextInput(title="Q", reference_id="q")])])])
    manifest = manifest_of(page.to_dict())
    assert [h["title"] for h in manifest] == ["T", "Q"]
    assert "content" not in manifest[0] and manifest[0]["params"]["rows"] == 1


def test_the_manifest_refuses_duplicate_reference_ids_and_ids():
    page = Page("p", [Section("s", [Card("c", [TextInput(title="a", reference_id="x")])])])
    page.add_content_to_section(TextInput(title="b", reference_id="x"), "s")
    with pytest.raises(InvalidInputError, match="reference_id 'x' is used by two elements"):
        manifest_of(page.to_dict())
    twin = TextInput(title="a")
    page = Page("p", [Section("s", [Card("c", [twin, TextInput(title="b", _id=twin.id)])])])
    with pytest.raises(InvalidInputError, match="two elements on the page have id"):
        manifest_of(page.to_dict())
    with pytest.raises(InvalidInputError, match="needs a list of cards"):
        manifest_of({"sections": [{"title": "no cards"}]})


def test_dropdown_values_must_be_among_the_options():
    single = head(Dropdown(["a", "b", 1], title="Pick", reference_id="pick"))
    assert validate_value(single, "a") == ["a"]
    assert validate_value(single, 1) == [1]
    assert validate_value(single, None) == []
    with pytest.raises(
        InvalidInputError, match=r"dropdown 'pick' cannot take \"c\": allowed values are \[\"a\", \"b\", 1\]"
    ):
        validate_value(single, "c")
    with pytest.raises(InvalidInputError, match="cannot take true"):
        validate_value(single, True)  # True == 1 in Python, not here
    with pytest.raises(InvalidInputError, match="takes one value, got 2"):
        validate_value(single, ["a", "b"])
    many = head(Dropdown(list("abcd"), multiselect=True, max_selections=2, title="Many"))
    assert validate_value(many, ["a", "d"]) == ["a", "d"]
    with pytest.raises(InvalidInputError, match="at most 2 values"):
        validate_value(many, ["a", "b", "c"])
    with pytest.raises(InvalidInputError, match="picked once"):
        validate_value(many, ["a", "a"])


def test_a_long_option_list_is_shortened_in_the_message():
    options = [f"o{i}" for i in range(100)]
    with pytest.raises(InvalidInputError, match="and 80 more"):
        validate_value(head(Dropdown(options, title="Long")), "zzz")


def test_numeric_ranges_stay_in_bounds():
    pair = head(NumericRange(0, 10, title="R"))
    assert validate_value(pair, [1, 9.5]) == [1, 9.5]
    for bad in ([5, 1], [-1, 5], [1, 11], [1], "3", [True, 2], [float("nan"), 1]):
        with pytest.raises(InvalidInputError, match="'R'"):
            validate_value(pair, bad)
    single = head(NumericRange(0, 10, title="S", single=True))
    assert validate_value(single, 10) == 10
    with pytest.raises(InvalidInputError, match="allowed values are numbers from 0 to 10"):
        validate_value(single, 10.5)


@pytest.mark.parametrize(
    ("kind", "params"),
    [("numeric_range", {}), ("numeric_range", {"min_range": "0", "max_range": 1}), ("date_time_range", {})],
)
def test_a_range_element_without_bounds_is_a_422_naming_it_not_a_crash(kind, params):
    # the API takes page JSON from any client, so a range may arrive without its bounds
    broken = {"id": "e1", "title": "Broken", "type": kind, "input": True, "params": params}
    with pytest.raises(InvalidInputError, match=r"'Broken' has no .*min_range and max_range"):
        validate_value(broken, [1, 2])


def test_date_time_ranges_stay_in_bounds_and_naive_times_are_utc():
    span = head(DateTimeRange("2024-01-01T00:00:00", "2024-12-31T00:00:00", title="W"))
    assert validate_value(span, ["2024-02-01T00:00:00", "2024-03-01T00:00:00+00:00"]) == [
        "2024-02-01T00:00:00+00:00",
        "2024-03-01T00:00:00+00:00",
    ]
    for bad in (
        ["2023-02-01T00:00:00", "2024-03-01T00:00:00"],
        ["2024-03-01", "2024-02-01"],
        ["x", "y"],
        "2024-02",
    ):
        with pytest.raises(InvalidInputError, match="'W'"):
            validate_value(span, bad)
    moment = head(DateTimeRange("2024-01-01", "2024-12-31", title="M", is_range=False))
    assert validate_value(moment, "2024-06-01T12:00:00+02:00") == "2024-06-01T12:00:00+02:00"


def test_text_and_output_elements():
    assert validate_value(head(TextInput(title="T")), "hi") == "hi"
    with pytest.raises(InvalidInputError, match="takes text"):
        validate_value(head(TextInput(title="T")), ["hi"])
    with pytest.raises(InvalidInputError, match="not an input element"):
        validate_value(head(Table(pd.DataFrame(), title="T")), 1)


def test_elements_are_found_by_id_then_reference_id_then_title():
    heads = [head(TextInput(title="Same")), head(TextInput(title="Same", reference_id="r"))]
    assert find_head(heads, heads[0]["id"], "s") is heads[0]
    assert find_head(heads, "r", "s") is heads[1]
    with pytest.raises(ConflictError, match="2 elements on the page of step 's' are titled 'Same'"):
        find_head(heads, "Same", "s")
    with pytest.raises(NotFoundError, match="element 'nope' not found on the page of step 's'"):
        find_head(heads, "nope", "s")


def test_output_names_and_file_formats():
    assert output_name(head(DataSource("Sales file", reference_id="sales"))) == "sales"
    assert output_name(head(DataSource("Sales file"))) == "Sales file"
    odd = DataSource("a/b#c")
    assert output_name(head(odd)) == f"data-source-{odd.id}"
    assert file_format("Book.XLSX", "") == "xlsx"
    assert file_format("data.pq", "") == "parquet"
    assert file_format("noext", "csv") == "csv"
    assert file_format("notes.txt", "") == "txt"


def test_the_csv_and_json_checks():
    assert sniff_csv(b"a,b\n1,2\n", True) is None
    assert sniff_csv(b"a,b\n1,2,3\n", True) == "is not CSV: row 2 has 3 fields, the header has 2"
    assert sniff_csv(b"\xff\xfe\x00a", True).startswith("is not UTF-8 text")
    assert sniff_csv(b"", True) == "has no header row"
    # a head cut mid-row (or mid-character) is judged on its whole rows only
    assert sniff_csv(b"a,b\n1,2\n3,\xc3", False) is None
    assert sniff_json(b'[{"a": 1}]', True) is None
    assert sniff_json(b"hello", True).startswith("is not JSON")
    assert sniff_json(b'{"a": ', True).startswith("is not JSON:")
    assert sniff_json(b'[{"a": 1}, {"a"', False) is None


def test_parse_upload_reads_each_format_and_names_a_bad_file():
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    parquet, excel = io.BytesIO(), io.BytesIO()
    frame.to_parquet(parquet)
    frame.to_excel(excel, index=False)
    pd.testing.assert_frame_equal(parse_upload(b"a,b\n1,x\n2,y\n", "csv", "f"), frame)
    pd.testing.assert_frame_equal(parse_upload(parquet.getvalue(), "parquet", "f"), frame)
    pd.testing.assert_frame_equal(parse_upload(excel.getvalue(), "xlsx", "f"), frame)
    pd.testing.assert_frame_equal(parse_upload(frame.to_json(orient="records").encode(), "json", "f"), frame)
    with pytest.raises(
        SdkInvalidInputError, match=r"'bad\.parquet' does not parse as parquet.*raw bytes are kept"
    ):
        parse_upload(b"PAR1 nonsense PAR1", "parquet", "'bad.parquet'")


def test_the_sdk_assembles_a_page_with_future_elements_and_its_version():
    page = Page("p", [Section("s", [Card("c", [TextInput(title="Q")])])])
    future = Dropdown(["x"], title="Later")
    body = {
        "stored": "inline",
        "page": page.to_dict(),
        "version": 7,
        "future_elements": [future.to_dict()],
        "values": {},
    }
    assembled = _assemble(body)
    assert assembled.version == 7
    assert [e.title for e in assembled.elements] == ["Q", "Later"]
    empty = _assemble({"stored": "none", "title": "", "version": 0, "future_elements": []})
    assert empty.sections == [] and empty.version == 0


def test_a_page_from_another_client_needs_no_input_flag():
    raw = {"type": "dropdown", "id": "d1", "title": "Pick", "params": {"options": ["a", "b"]}, "value": []}
    (found,) = manifest_of({"title": "p", "sections": [{"cards": [{"content": [raw]}]}]})
    assert found["input"] is True
    assert validate_value(found, "b") == ["b"]
