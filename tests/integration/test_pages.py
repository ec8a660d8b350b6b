"""Pages over the local stack: a step builds its page, its user answers through the API, the next reads."""

from __future__ import annotations

import hashlib
import io
from typing import Any
from urllib.parse import quote

import pandas as pd
import pytest
import requests

from stepstore import StoreInterface
from stepstore.cli import main as cli_main
from stepstore.errors import InvalidInputError, NotFoundError
from stepstore.pages import (
    Card,
    DataSource,
    DateTimeRange,
    Dropdown,
    NumericRange,
    Page,
    RichText,
    Section,
    Table,
    TextInput,
)

pytestmark = pytest.mark.integration

SALES_CSV = b"region,amount,when\nnorth,10.5,2024-01-01\nsouth,7.25,2024-01-02\nnorth,3,2024-01-03\n"


class User:
    """A step's user talking to the API as a front end would: plain HTTP with a bearer token."""

    def __init__(self, stack: Any, token: str, flow_id: str) -> None:
        self.base = f"{stack.api_url}/flows/{quote(flow_id, safe='')}/steps"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def url(self, step: str, rest: str = "") -> str:
        return f"{self.base}/{quote(step, safe='')}{rest}"

    def page(self, step: str) -> dict[str, Any]:
        response = self.session.get(self.url(step, "/page"), timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def set(self, step: str, element: str, value: Any) -> requests.Response:
        return self.session.put(
            self.url(step, f"/elements/{quote(element, safe='')}/value"), json={"value": value}, timeout=30
        )

    def upload(self, step: str, element: str, file_name: str, data: bytes) -> dict[str, Any]:
        prefix = self.url(
            step, f"/elements/{quote(element, safe='')}/files/{quote(file_name, safe='')}/uploads"
        )
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        ticket = self.session.post(prefix, json={"size": len(data), "etag": etag}, timeout=30)
        assert ticket.status_code == 200, ticket.text
        ticket = ticket.json()
        put = requests.put(ticket["urls"][0], data=data, headers=ticket["headers"], timeout=30)
        assert put.status_code == 200, put.text
        commit = self.session.post(f"{prefix}/{ticket['upload_id']}/commit", json={"parts": []}, timeout=30)
        assert commit.status_code == 200, commit.text
        return commit.json()

    def action(self, step: str) -> requests.Response:
        return self.session.post(self.url(step, "/action"), timeout=30)


def values_by_title(body: dict[str, Any]) -> dict[str, Any]:
    found = {}
    for section in body["page"]["sections"]:
        for card in section["cards"]:
            for element in card["content"]:
                found[element["title"]] = element.get("value")
    return found


def input_page() -> Page:
    return Page(
        "Choose your data",
        [
            Section(
                "Inputs",
                [
                    Card(
                        "Data",
                        [
                            DataSource(
                                "Sales file", ["csv", "xlsx", "json", "parquet"], reference_id="sales"
                            ),
                            Dropdown(
                                ["north", "south"], selected=["north"], title="Region", reference_id="region"
                            ),
                            Dropdown(["a", "b", "c"], multiselect=True, title="Tags", max_selections=2),
                            NumericRange(0, 100, title="Threshold", reference_id="threshold"),
                            DateTimeRange(
                                "2024-01-01T00:00:00+00:00", "2024-12-31T00:00:00+00:00", title="Window"
                            ),
                            TextInput(title="Note"),
                        ],
                    )
                ],
            )
        ],
    )


def test_a_two_step_flow_walked_as_a_user(stack, alice, flow_id):
    # Given a step that shows inputs
    choose = StoreInterface(flow_id, step_name="choose")
    choose.update_page(input_page())
    user = User(stack, alice.token, flow_id)
    shown = user.page("choose")
    assert shown["version"] == 1 and shown["stored"] == "inline"
    assert values_by_title(shown)["Region"] == ["north"]

    # When the user answers through the API
    assert user.set("choose", "region", "south").status_code == 200
    assert user.set("choose", "Tags", ["a", "c"]).status_code == 200
    assert user.set("choose", "threshold", [10, 50]).status_code == 200
    window = ["2024-02-01T00:00:00+00:00", "2024-03-01T00:00:00+00:00"]
    assert user.set("choose", "Window", window).status_code == 200
    assert user.set("choose", "Note", "first run").status_code == 200
    committed = user.upload("choose", "sales", "sales.csv", SALES_CSV)
    assert committed["upload"]["format"] == "csv" and committed["upload"]["size"] == len(SALES_CSV)
    # the raw bytes are there before the action
    assert choose.get_current_step_user_input("Sales file").getvalue() == SALES_CSV
    action = user.action("choose")
    assert action.status_code == 200, action.text
    assert action.json()["data_sources"][0]["output_name"] == "sales"

    # Then the next step reads the DataFrame and the values
    report = StoreInterface(flow_id, step_name="report")
    frame = report.get_element_value("choose", "Sales file")
    pd.testing.assert_frame_equal(frame, pd.read_csv(io.BytesIO(SALES_CSV)))
    pd.testing.assert_frame_equal(report.get_input("sales"), frame)  # on the next step's in-link
    assert report.get_element_value("choose", "Region") == "south"
    assert report.get_element_value("choose", "Tags") == ["a", "c"]
    assert report.get_element_value("choose", "threshold") == [10, 50]
    assert report.get_element_value("choose", "Note") == "first run"
    assert [m.isoformat() for m in report.get_element_value("choose", "Window")] == window
    assert report.get_raw_data_source_data("choose", element_title="Sales file").getvalue() == SALES_CSV

    # and updates its page with a Table and progress
    summary = frame.groupby("region", as_index=False)["amount"].sum()
    page = report.get_page()
    assert page.version == 0 and page.sections == []
    page.add_section(Section("Results", []))
    page.add_content_to_section(Table(summary, title="By region", reference_id="summary"), "Results")
    report.update_page(page)
    assert report.get_page_version() == 1
    assert report.update_progress(100, "summarised", page_update=True)
    assert report.get_page_version() == 2
    again = report.get_page()
    assert again.version == 2
    pd.testing.assert_frame_equal(again.get_element_by_reference_id("summary").content, summary)
    pd.testing.assert_frame_equal(report.get_element_value("report", "By region"), summary)
    # the first step's page still shows what the user set
    assert values_by_title(user.page("choose"))["Region"] == ["south"]


def test_values_an_element_cannot_take_are_refused_naming_the_allowed_ones(stack, alice, flow_id):
    step = StoreInterface(flow_id, step_name="choose")
    step.update_page(input_page())
    user = User(stack, alice.token, flow_id)
    refused = user.set("choose", "region", "east")
    assert refused.status_code == 422
    assert "'region'" in refused.json()["message"] and '["north", "south"]' in refused.json()["message"]
    out_of_bounds = user.set("choose", "threshold", [10, 200])
    assert out_of_bounds.status_code == 422 and "from 0 to 100" in out_of_bounds.json()["message"]
    assert user.set("choose", "Tags", ["a", "b", "c"]).status_code == 422  # max_selections=2
    assert user.set("choose", "Region", ["north", "south"]).status_code == 422  # single select
    assert (
        user.set("choose", "Window", ["2023-01-01T00:00:00+00:00", "2024-02-01T00:00:00+00:00"]).status_code
        == 422
    )
    assert user.set("choose", "Note", 5).status_code == 422
    assert user.set("choose", "sales", "a file").status_code == 422
    assert user.set("choose", "nope", 1).status_code == 404
    with pytest.raises(InvalidInputError, match="allowed values"):
        step.set_element_value("choose", "region", "west")
    # nothing refused was stored
    assert values_by_title(user.page("choose"))["Region"] == ["north"]


def test_the_action_refuses_bad_files_and_keeps_their_bytes(stack, alice, flow_id):
    step = StoreInterface(flow_id, step_name="load")
    page = Page(
        "Upload",
        [
            Section(
                "s",
                [
                    Card(
                        "c",
                        [
                            DataSource("Only CSV", ["csv"], reference_id="csv"),
                            DataSource("Parquet", ["parquet"], reference_id="pq"),
                            DataSource("Needed", ["csv"], reference_id="needed"),
                        ],
                    )
                ],
            )
        ],
    )
    step.update_page(page)
    user = User(stack, alice.token, flow_id)
    user.upload("load", "csv", "notes.txt", b"hello")
    user.upload("load", "pq", "data.parquet", b"not parquet at all")
    refused = user.action("load")
    assert refused.status_code == 422
    message = refused.json()["message"]
    assert "'Only CSV' takes csv; 'notes.txt' is txt" in message
    assert "'data.parquet' is not a Parquet file" in message
    assert "'Needed' needs a file" in message
    assert step.get_raw_data_source_data(element_title="Only CSV").getvalue() == b"hello"

    user.upload("load", "csv", "ragged.csv", b"a,b\n1,2\n3,4,5\n")
    step.upload_data_source("load", "pq", "frame.parquet", _parquet(pd.DataFrame({"x": [1, 2]})))
    step.upload_data_source("load", "needed", "ok.csv", b"a\n1\n")
    refused = user.action("load")
    assert refused.status_code == 422 and "row 3 has 3 fields, the header has 2" in refused.json()["message"]
    user.upload("load", "csv", "fine.csv", b"a,b\n1,2\n")
    converted = step.run_action()
    assert sorted(converted) == ["csv", "needed", "pq"]
    pd.testing.assert_frame_equal(converted["pq"], pd.DataFrame({"x": [1, 2]}))
    # the earlier file's bytes were replaced by the later upload, not lost along the way
    assert step.get_current_step_user_input("Only CSV").getvalue() == b"a,b\n1,2\n"


def _parquet(frame: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    frame.to_parquet(sink)
    return sink.getvalue()


def test_excel_and_json_uploads_become_dataframes(stack, alice, flow_id):
    step = StoreInterface(flow_id, step_name="load")
    sources = [DataSource("Book", ["xlsx"], reference_id="book"), DataSource("Records", ["json"])]
    step.update_page(Page("p", [Section("s", [Card("c", sources)])]))
    frame = pd.DataFrame({"name": ["a", "b"], "n": [1, 2]})
    book = io.BytesIO()
    frame.to_excel(book, index=False)
    step.upload_data_source("load", "book", "book.xlsx", book.getvalue())
    step.upload_data_source("load", "Records", "records.json", frame.to_json(orient="records").encode())
    step.run_action()
    reader = StoreInterface(flow_id, step_name="next")
    pd.testing.assert_frame_equal(reader.get_input("book"), frame)
    pd.testing.assert_frame_equal(reader.get_element_value("load", "Records"), frame)


def test_duplicate_reference_ids_are_refused_at_update_page(stack, alice, flow_id):
    step = StoreInterface(flow_id, step_name="s")
    page = Page("p", [Section("s", [Card("c", [TextInput(title="a", reference_id="x")])])])
    page.add_content_to_section(TextInput(title="b", reference_id="x"), "s")
    with pytest.raises(InvalidInputError, match="reference_id 'x' is used by two elements"):
        step.update_page(page)
    user = User(stack, alice.token, flow_id)
    response = user.session.put(user.url("s", "/page"), json={"page": page.to_dict()}, timeout=30)
    assert response.status_code == 422 and "reference_id 'x'" in response.json()["message"]
    assert user.page("s")["stored"] == "none"


def test_unknown_elements_are_named_or_none_when_quiet(stack, alice, flow_id):
    step = StoreInterface(flow_id, step_name="s")
    step.update_page(input_page())
    with pytest.raises(ValueError, match=r"'Missing'.*step 's'"):
        step.get_element("s", "Missing")
    with pytest.raises(ValueError, match=r"'Missing'.*step 's'"):
        step.get_element_value("s", "Missing")
    assert step.get_element("s", "Missing", quiet=True) is None
    assert step.get_element_value("s", "Missing", quiet=True) is None
    region = step.get_element("s", "region")
    assert step.get_element_by_id("s", region.id).title == "Region"
    assert step.get_element("s", elem_reference_id="region").id == region.id
    with pytest.raises(NotFoundError):
        step.get_element_by_id("s", "no-such-id")


def test_a_future_element_appears_on_its_step_page(stack, alice, flow_id):
    first = StoreInterface(flow_id, step_name="first")
    future = Dropdown(["rows", "columns"], selected=["rows"], title="Layout", reference_id="layout")
    first.create_future_element(future, "later")
    later = StoreInterface(flow_id, step_name="later")
    page = later.get_page()
    assert page.get_element_by_reference_id("layout").id == future.id
    user = User(stack, alice.token, flow_id)
    assert user.set("later", "layout", "columns").status_code == 200
    assert later.get_element_value("later", "layout") == "columns"
    # once the step stores a page holding it, it is not added twice
    page = later.get_page()
    page.sections[0].title = "Options"
    later.update_page(page)
    again = later.get_page()
    assert [e.id for e in again.elements].count(future.id) == 1
    assert again.get_element_by_id(future.id).get_value() == "columns"


def test_update_page_in_a_loop_loses_no_value_a_user_sets(stack, alice, flow_id):
    import threading

    step = StoreInterface(flow_id, step_name="live")
    step.update_page(input_page())
    user = User(stack, alice.token, flow_id)
    rounds = 12
    errors: list[BaseException] = []

    def refresh_page() -> None:
        try:
            for i in range(rounds):
                page = step.get_page()
                page.get_section_by_title("Inputs")
                if page.get_section_by_title("Live", quiet=True) is None:
                    page.add_section(Section("Live", []))
                page.replace_content_in_section(RichText(f"tick {i}"), "Live", "Ticker")
                step.update_page(page)
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)

    worker = threading.Thread(target=refresh_page)
    worker.start()
    last: dict[str, Any] = {}
    for i in range(rounds):
        for element, value in (
            ("region", ["north", "south"][i % 2]),
            ("threshold", [i, 50 + i]),
            ("Note", f"note {i}"),
        ):
            assert user.set("live", element, value).status_code == 200
            last[element] = value
    worker.join()
    assert not errors, errors
    page = step.get_page()
    assert page.version == rounds + 1
    assert page.get_element_by_reference_id("region").get_value() == last["region"]
    assert page.get_element_by_reference_id("threshold").get_value() == last["threshold"]
    assert page.get_element_by_title("Note").get_value() == last["Note"]
    assert page.get_card_by_title("Ticker").content[0].content == f"tick {rounds - 1}"


def test_a_page_with_a_100000_row_table_round_trips(stack, alice, flow_id):
    rows = 100_000
    frame = pd.DataFrame(
        {
            "id": range(rows),
            "value": [i * 0.5 for i in range(rows)],
            "label": [f"row-{i}" for i in range(rows)],
        }
    )
    step = StoreInterface(flow_id, step_name="big")
    page = Page(
        "Big", [Section("Data", [Card("Table", [Table(frame, title="All rows"), TextInput(title="Q")])])]
    )
    step.update_page(page)
    user = User(stack, alice.token, flow_id)
    body = user.page("big")
    assert body["stored"] == "s3" and body["url"] and body["size"] > 1_000_000
    assert user.set("big", "Q", "still an input").status_code == 200
    again = step.get_page()
    pd.testing.assert_frame_equal(again.get_element_by_title("All rows").content, frame)
    assert again.get_element_by_title("Q").get_value() == "still an input"
    assert again == Page.from_json(again.to_json())
    # replaced by a small page, it is inline again
    step.update_page(Page("Small", [Section("s", [Card("c", [RichText("done")])])]))
    assert user.page("big")["stored"] == "inline"


def test_the_cli_shows_sets_uploads_and_runs_the_action(stack, alice, flow_id, tmp_path, capsys):
    step = StoreInterface(flow_id, step_name="choose")
    step.update_page(input_page())
    assert cli_main(["elements", "set", flow_id, "choose", "region", '"south"']) == 0
    assert cli_main(["elements", "set", flow_id, "choose", "Note", "plain words"]) == 0
    assert cli_main(["elements", "set", flow_id, "choose", "region", '"east"']) == 1
    assert "allowed values" in capsys.readouterr().err
    sales = tmp_path / "sales.csv"
    sales.write_bytes(SALES_CSV)
    assert cli_main(["upload", flow_id, "choose", "sales", str(sales)]) == 0
    assert cli_main(["action", flow_id, "choose"]) == 0
    out = capsys.readouterr().out
    assert "sales: 3 rows x 3 columns" in out
    assert cli_main(["pages", "show", flow_id, "choose"]) == 0
    shown = capsys.readouterr().out
    assert "'Region' [region]" in shown and '= ["south"]' in shown and '= "plain words"' in shown
    reader = StoreInterface(flow_id, step_name="next")
    assert len(reader.get_input("sales")) == 3


def test_another_user_sees_none_of_it(stack, make_user, flow_id):
    owner = make_user("owner")
    StoreInterface(flow_id, step_name="s").update_page(input_page())
    stranger = make_user("stranger")
    user = User(stack, stranger.token, flow_id)
    assert user.session.get(user.url("s", "/page"), timeout=30).status_code == 404
    assert user.set("s", "region", "south").status_code == 404
    assert user.action("s").status_code == 404
    make_user.act_as(owner)
    assert StoreInterface(flow_id, step_name="s").get_element_value("s", "region") == "north"


def test_concurrent_page_updates_each_get_a_version_and_leave_one_live_object(stack, alice, flow_id):
    import threading

    import boto3

    from stepstore_functions.settings import get_settings

    step = StoreInterface(flow_id, step_name="busy")
    writers, rounds = 2, 4
    filler = "x" * (250 * 1024)  # over the inline limit: every version goes to S3

    def write(writer: int) -> None:
        for i in range(rounds):
            step.update_page(Page(f"{writer}-{i}", [Section("s", [Card("c", [RichText(filler)])])]))
            step.update_progress(50, f"{writer}-{i}", page_update=True)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    page = step.get_page()
    assert page.version == 2 * writers * rounds  # every update_page and every page_update counted
    assert page.title in {f"{w}-{rounds - 1}" for w in range(writers)}
    s3 = boto3.client("s3", endpoint_url=stack.aws_endpoint_url, region_name="us-east-1")
    bucket = get_settings().data_bucket
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"pages/{alice.name}/")
    states = [
        s3.get_object_tagging(Bucket=bucket, Key=o["Key"])["TagSet"][0]["Value"] for o in listed["Contents"]
    ]
    # one committed layout; every replaced one is back to staging, which the lifecycle rule expires
    assert states.count("committed") == 1 and set(states) <= {"committed", "staging"}


def test_raw_and_any_format_uploads_stay_bytes_after_the_action(stack, alice, flow_id):
    step = StoreInterface(flow_id, step_name="docs")
    sources = [DataSource("Any file", ["*"]), DataSource("Raw CSV", ["csv"], raw_upload=True)]
    step.update_page(Page("p", [Section("s", [Card("c", sources)])]))
    step.upload_data_source("docs", "Any file", "report.pdf", b"%PDF-1.7 ...")
    step.upload_data_source("docs", "Raw CSV", "kept.csv", b"a,b\n1,2\n")
    assert step.get_element_value("docs", "Any file") == "report.pdf"  # before the action: its name
    assert step.run_action() == {}  # nothing to parse
    reader = StoreInterface(flow_id, step_name="after")
    assert reader.get_element_value("docs", "Any file").getvalue() == b"%PDF-1.7 ..."
    assert reader.get_element_value("docs", "Raw CSV").getvalue() == b"a,b\n1,2\n"
    assert not reader.has_input("Raw CSV")


def test_after_a_front_end_action_the_upload_is_on_the_next_steps_in_link(stack, alice, flow_id):
    # Given a user who uploaded a CSV and ran the action through the API alone
    choose = StoreInterface(flow_id, step_name="choose")
    choose.update_page(input_page())
    user = User(stack, alice.token, flow_id)
    user.upload("choose", "sales", "sales.csv", SALES_CSV)
    assert user.action("choose").status_code == 200
    # When the next step asks its in-link first, before anything read the DataSource
    report = StoreInterface(flow_id, step_name="report")
    assert report.has_input("sales")
    assert not report.has_input("Region")  # a dropdown's value is not an input
    # Then the file comes back as a DataFrame, parsed once and kept as an output
    pd.testing.assert_frame_equal(report.get_input("sales"), pd.read_csv(io.BytesIO(SALES_CSV)))
    assert [o["name"] for o in choose.list_outputs()] == ["sales"]
    with pytest.raises(NotFoundError):
        report.get_input("never-uploaded")


def test_a_pending_upload_is_the_latest_producer_and_a_new_action_replaces_its_parse(stack, alice, flow_id):
    # Given an older step that saved an output of the same name as the DataSource
    StoreInterface(flow_id, step_name="older").save_output({"x": 0}, "sales")
    choose = StoreInterface(flow_id, step_name="choose")
    choose.update_page(input_page())
    user = User(stack, alice.token, flow_id)
    user.upload("choose", "sales", "sales.csv", SALES_CSV)
    assert user.action("choose").status_code == 200
    # Then the next step gets the DataSource's file, not the older step's dict
    report = StoreInterface(flow_id, step_name="report")
    first = report.get_input("sales")
    pd.testing.assert_frame_equal(first, pd.read_csv(io.BytesIO(SALES_CSV)))
    # When the user uploads another file and runs the action again
    second_csv = b"region,amount\nwest,7\n"
    user.upload("choose", "sales", "sales.csv", second_csv)
    assert user.action("choose").status_code == 200
    # Then the next read parses the new file
    pd.testing.assert_frame_equal(report.get_input("sales"), pd.read_csv(io.BytesIO(second_csv)))
    assert report.get_input("sales", step_name="older") == {"x": 0}
