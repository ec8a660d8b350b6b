"""StoreInterface's pages and elements: get_page, update_page, get_element, get_element_value, ...

A DataSource's file becomes a DataFrame here, in the SDK (the API never imports pandas): the step's
action checks and records the uploads, and the first read after it (`run_action` right away, or
`get_element_value`) parses the file with pandas and saves the result as Parquet under the
DataSource's output name on its step's out-link, which is the next step's in-link. Later reads, and
`get_input(name)` on the next step, reuse that output.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stepstore import transfer, upload_limits
from stepstore.client import segment
from stepstore.errors import IntegrityError, InvalidInputError, NotFoundError, ServiceError
from stepstore.pages import Card, Element, Image, Page, PlotlyPlot, RichText, Section, Table
from stepstore.upload_limits import UploadLimits

if TYPE_CHECKING:
    from stepstore.client import ApiClient

# Pages up to this size (JSON) are sent inline; larger ones go to S3 through presigned URLs.
MAX_INLINE_PAGE_BYTES = 192 * 1024
# Uploads in these formats become DataFrames; others (on a "*" DataSource) stay bytes.
TABULAR_FORMATS = frozenset({"csv", "xlsx", "xls", "parquet", "json"})
_READ_ATTEMPTS = 3


def page_path(flow_id: str, step_name: str) -> str:
    return f"/flows/{segment(flow_id)}/steps/{segment(step_name)}"


# What the StoreInterface methods and the CLI share.


def read_page(api: ApiClient, step_path: str) -> Page:
    """The step's page with the user's values and the future elements registered for it."""
    for attempt in range(1, _READ_ATTEMPTS + 1):
        body = api.get(f"{step_path}/page")
        try:
            return _assemble(body)
        except (ServiceError, IntegrityError):
            # The page was replaced (and its old object deleted) between the read and the download.
            if attempt == _READ_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _assemble(body: dict[str, Any]) -> Page:
    if body["stored"] == "s3":
        layout = json.loads(transfer.download(body["url"], body["size"], body["etag"]))
        values = body.get("values") or {}
        for section in layout.get("sections") or []:
            for card in section.get("cards") or []:
                for element in card.get("content") or []:
                    if element.get("id") in values:
                        element["value"] = values[element["id"]]
    elif body["stored"] == "inline":
        layout = body["page"]
    else:
        layout = {"title": body.get("title") or "", "sections": []}
    page = Page.from_dict(layout)
    futures = [Element.from_dict(e) for e in body.get("future_elements") or []]
    if futures:
        page.add_section(Section("", [Card("", futures)]))
    page.version = int(body.get("version") or 0)
    return page


def write_page(api: ApiClient, step_path: str, page: Page) -> dict[str, Any]:
    """Store `page` as the step's page: inline when small, else through S3. Returns what the API stored."""
    if not isinstance(page, Page):
        raise InvalidInputError(f"update_page needs a Page, got {type(page).__name__}", field="page")
    try:
        page.check_unique_reference_ids()
    except ValueError as error:
        raise InvalidInputError(str(error), field="page") from error
    data = page.to_dict()
    try:
        text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(
            f"page {page.title!r} cannot be stored as JSON: {error}", field="page"
        ) from error
    if len(text.encode()) <= MAX_INLINE_PAGE_BYTES:
        stored = api.put(f"{step_path}/page", {"page": data})
    else:
        blob = transfer.upload(api, f"{step_path}/page", "page", "json", text.encode())
        manifest = [
            {k: v for k, v in element.items() if k != "content"}
            for section in data["sections"]
            for card in section["cards"]
            for element in card["content"]
        ]
        stored = api.put(
            f"{step_path}/page", {"blob_id": blob["blob_id"], "title": page.title, "elements": manifest}
        )
    page.version = stored["version"]
    return stored


def json_value(value: Any) -> Any:
    """A value as the API takes it: datetimes as ISO text, tuples as lists, numpy scalars as Python ones."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return value.item()
    return value


def upload_file(api: ApiClient, step_path: str, element: str, file_name: str, data: bytes) -> dict[str, Any]:
    """Upload `data` as the file `file_name` of a DataSource; returns the element with its upload."""
    prefix = f"{step_path}/elements/{segment(element)}/files/{segment(file_name)}"
    return transfer.upload(api, prefix, "bytes", "", data)


def read_upload(body: dict[str, Any], step_name: str) -> io.BytesIO:
    """The raw bytes of the upload in an element body, or NotFoundError."""
    head = body["element"]
    if head.get("type") != "data_source":
        raise InvalidInputError(f"element {head.get('title')!r} on step {step_name!r} is not a DataSource")
    upload = body.get("upload")
    if upload is None:
        raise NotFoundError(
            f"no file has been uploaded to DataSource {head.get('title')!r} on step {step_name!r}"
        )
    return io.BytesIO(transfer.download(upload["url"], upload["size"], upload["etag"]))


def parse_upload(data: bytes, fmt: str, what: str, limits: UploadLimits | None = None) -> Any:
    """A DataFrame from an uploaded CSV, Excel, Parquet or JSON file; InvalidInputError if it won't parse.

    Nothing is decoded before the file's declared size is checked against `limits` (see
    upload_limits): a file past them raises UploadLimitError naming the file and the limit.
    CSV and JSON may come gzip-compressed.
    """
    import pandas as pd

    limits = limits or UploadLimits.resolve()
    try:
        if fmt in ("csv", "json") and data.startswith(upload_limits.GZIP_MAGIC):
            data = upload_limits.gunzip(data, limits, what)
        if fmt == "csv":
            upload_limits.check_size(data, limits, what)
            frame = pd.read_csv(io.BytesIO(data), nrows=limits.max_rows + 1)
            upload_limits.check_rows(len(frame), limits, what)
            return frame
        if fmt in ("xlsx", "xls"):
            if fmt == "xlsx":
                upload_limits.check_zip(data, limits, what)
            else:
                upload_limits.check_size(data, limits, what)
            try:
                frame = pd.read_excel(io.BytesIO(data))
            except ImportError as error:
                needs = (
                    "openpyxl: pip install 'stepstore[excel]'" if fmt == "xlsx" else "xlrd: pip install xlrd"
                )
                raise InvalidInputError(
                    f"{what} is an Excel ({fmt}) file; reading it needs {needs} ({error})"
                ) from error
            upload_limits.check_rows(len(frame), limits, what)
            return frame
        if fmt == "parquet":
            return upload_limits.read_parquet(data, limits, what)
        if fmt == "json":
            upload_limits.check_size(data, limits, what)
            upload_limits.check_json_depth(data, limits, what)
            try:
                frame = pd.read_json(io.BytesIO(data))
            except ValueError:
                frame = pd.json_normalize(json.loads(data))
            upload_limits.check_rows(len(frame), limits, what)
            return frame
    except InvalidInputError:
        raise
    except Exception as error:
        raise InvalidInputError(
            f"{what} does not parse as {fmt}: {type(error).__name__}: {error}; the raw bytes are kept "
            "(get_raw_data_source_data returns them)"
        ) from error
    raise InvalidInputError(f"{what} is {fmt}, which cannot become a DataFrame; its raw bytes are kept")


def data_source_value(
    api: ApiClient, flow_id: str, step_name: str, body: dict[str, Any], user: str | None = None
) -> Any:
    """A DataSource's value: before the step's action, the uploaded file's name (or None); after it,
    the file as a DataFrame (BytesIO for a raw_upload DataSource or a file that is not tabular), parsed
    once and kept as an output of the DataSource's step (so it is on the next step's in-link)."""
    head, upload, action = body["element"], body.get("upload"), body.get("action")
    if upload is None:
        return None
    entry = None
    if action is not None and datetime.fromisoformat(upload["uploaded_at"]) <= datetime.fromisoformat(
        action["ran_at"]
    ):
        entry = next((d for d in action["data_sources"] if d["element_id"] == head["id"]), None)
    if entry is None or action is None:
        return upload["file_name"]  # the action has not run on this file yet
    if entry["raw_upload"] or upload["format"] not in TABULAR_FORMATS:
        return read_upload(body, step_name)  # kept as bytes (a "*" DataSource took a PDF, say)
    from stepstore.store import StoreInterface

    # Saved and read as any output of the DataSource's own step is, so it travels as outputs do.
    owner = StoreInterface(flow_id, user=user, step_name=step_name)
    name = entry["output_name"]
    try:
        pointer = api.get(f"{page_path(flow_id, step_name)}/outputs/{segment(name)}")
    except NotFoundError:
        pointer = None
    if pointer is not None and datetime.fromisoformat(pointer["created_at"]) >= datetime.fromisoformat(
        action["ran_at"]
    ):
        return owner.get_input(name, step_name=step_name)
    raw = read_upload(body, step_name).getvalue()
    what = f"{upload['file_name']!r} uploaded to DataSource {head.get('title')!r} on step {step_name!r}"
    frame = parse_upload(raw, upload["format"], what, UploadLimits.resolve(head.get("params")))
    owner.save_output(frame, name)
    return frame


def convert_data_sources(
    api: ApiClient, flow_id: str, step_name: str, action: dict[str, Any], user: str | None = None
) -> dict[str, Any]:
    """Parse every DataSource file that the action recorded; returns output name -> DataFrame."""
    converted = {}
    for entry in action["data_sources"]:
        if entry["file_name"] is None or entry["raw_upload"] or entry["format"] not in TABULAR_FORMATS:
            continue
        body = api.get(f"{page_path(flow_id, step_name)}/elements/{segment(entry['element_id'])}")
        converted[entry["output_name"]] = data_source_value(api, flow_id, step_name, body, user)
    return converted


def _output_value(element: Element) -> Any:
    if isinstance(element, Table):
        return element.content
    if isinstance(element, RichText):
        return element.content
    if isinstance(element, PlotlyPlot):
        return element.figure
    if isinstance(element, Image):
        return io.BytesIO(element.data)
    return element.get_value()


class PageMethods:
    """Mixed into StoreInterface; uses its `_api`, `flow_id` and `step_name`."""

    _api: ApiClient
    flow_id: str
    step_name: str
    user: str | None

    def _path_of(self, step_name: str | None) -> str:
        return page_path(self.flow_id, step_name or self.step_name)

    def get_page(self, _out_link: Any = None) -> Page:
        """The newest Page of this step, with the values its user set (and elements earlier steps
        registered for it with `create_future_element`). `page.version` says which version it is.

        A step that has stored no page yet gets an empty one."""
        return read_page(self._api, self._path_of(None))

    def get_page_version(self, step_name: str | None = None) -> int:
        """The page version of this step (or `step_name`): one small request, for viewers that poll."""
        return int(self._api.get(f"{self._path_of(step_name)}/page/version")["version"])

    def update_page(self, page: Page) -> None:
        """Store `page` as this step's page and advance its version.

        Values the user set through the API are kept: they are stored apart from the layout. Two
        elements sharing a reference_id are refused (InvalidInputError, a ValueError). Large pages
        (a Table of many rows) go to S3 through presigned URLs, transparently.
        """
        write_page(self._api, self._path_of(None), page)

    def _find(self, step_name: str, key: str, quiet: bool) -> Element | None:
        try:
            page = read_page(self._api, self._path_of(step_name))
        except NotFoundError:
            if quiet:
                return None
            raise
        found = page.find_element(key, quiet=True)
        if found is None and not quiet:
            raise NotFoundError(
                f"element {key!r} not found on the page of step {step_name!r} of flow {self.flow_id!r}"
            )
        return found

    def get_element(
        self, step_name: str, elem_title: str = "", quiet: bool = False, **kwargs: Any
    ) -> Element:
        """The element with that title or reference_id (or id) on that step's page.

        Missing: NotFoundError (a ValueError) naming the step and the title; None when `quiet`.
        ``elem_reference_id=`` is accepted in place of `elem_title`.
        """
        key = elem_title or kwargs.get("elem_reference_id") or ""
        return self._find(step_name, key, quiet)  # type: ignore[return-value]

    def get_element_by_id(self, step_name: str, elem_id: str) -> Element:
        """The element with that generated id on that step's page; missing: NotFoundError (a ValueError)."""
        page = read_page(self._api, self._path_of(step_name))
        found = page.get_element_by_id(elem_id, quiet=True)
        if found is None:
            raise NotFoundError(f"no element with id {elem_id!r} on the page of step {step_name!r}")
        return found

    def get_element_value(
        self, step_name: str, elem_title: str = "", quiet: bool = False, **kwargs: Any
    ) -> Any:
        """The value a user gave that input element on that step's page.

        Dropdown: the option (a list for a multiselect); TextInput: the text; NumericRange: the number or
        [low, high]; DateTimeRange: [start, end] datetimes. DataSource: once the step's action ran, the
        uploaded file as a DataFrame (also put on the next step's in-link under the DataSource's
        reference_id or title); before that, the file's name. Output elements give their content.
        Missing element: NotFoundError (a ValueError), or None when `quiet`.
        """
        key = elem_title or kwargs.get("elem_reference_id") or ""
        path = self._path_of(step_name)
        try:
            body = self._api.get(f"{path}/elements/{segment(key)}")
        except NotFoundError:
            if quiet:
                return None
            raise
        head = body["element"]
        if head.get("type") == "data_source":
            return data_source_value(self._api, self.flow_id, step_name, body, self.user)
        if head.get("input"):
            return Element.from_dict(head).get_value()
        element = self._find(step_name, head["id"], quiet)
        return None if element is None else _output_value(element)

    def create_future_element(self, elem: Element, future_step_name: str) -> None:
        """Register `elem` for a later step's page: that step's `get_page` includes it (in a last
        section) until the step stores a page that holds it."""
        if not isinstance(elem, Element):
            raise InvalidInputError(f"create_future_element needs an Element, got {type(elem).__name__}")
        path = self._path_of(future_step_name)
        self._api.put(f"{path}/future-elements/{segment(elem.id)}", {"element": elem.to_dict()})

    def get_current_step_user_input(self, data_source_title: str = "", **kwargs: Any) -> io.BytesIO:
        """The raw bytes uploaded to this step's DataSource (by title or reference_id), before or after
        the step's action. ``data_source_reference_id=`` is accepted in place of the title."""
        key = data_source_title or kwargs.get("data_source_reference_id") or ""
        body = self._api.get(f"{self._path_of(None)}/elements/{segment(key)}")
        return read_upload(body, self.step_name)

    def get_raw_data_source_data(
        self,
        step_name: str | None = None,
        element_id: str | None = None,
        element_title: str | None = None,
        **kwargs: Any,
    ) -> io.BytesIO:
        """Raw bytes of a DataSource upload on any step (default: this one), found by id or title
        (``elem_reference_id=`` also works)."""
        key = element_id or element_title or kwargs.get("elem_reference_id")
        if not key:
            raise InvalidInputError("get_raw_data_source_data needs element_id or element_title")
        step = step_name or self.step_name
        body = self._api.get(f"{self._path_of(step)}/elements/{segment(key)}")
        return read_upload(body, step)

    # The user's side, for scripts, tests and the CLI (a front end calls the same routes).

    def set_element_value(self, step_name: str, element: str, value: Any) -> Any:
        """Set an input element's value as its user would; returns the value as stored.

        The element (id, reference_id or title) checks it: a value it cannot take is an
        InvalidInputError naming the element and the allowed values.
        """
        body = self._api.put(
            f"{self._path_of(step_name)}/elements/{segment(element)}/value", {"value": json_value(value)}
        )
        return body["element"].get("value")

    def upload_data_source(
        self, step_name: str, element: str, file_name: str, data: bytes | io.BytesIO
    ) -> None:
        """Upload a file to a DataSource as its user would (bytes straight to S3)."""
        payload = data.getvalue() if isinstance(data, io.BytesIO) else bytes(data)
        upload_file(self._api, self._path_of(step_name), element, file_name, payload)

    def _pending_data_source(self, name: str) -> dict[str, Any] | None:
        """The previous step's DataSource whose file becomes `name` on this step's in-link, when a
        front end ran that step's action and nothing has parsed the file yet; else None."""
        previous = self.get_previous_step_name()  # type: ignore[attr-defined]
        if previous is None:
            return None
        key = name.removeprefix("data-source-")
        try:
            body = self._api.get(f"{page_path(self.flow_id, previous)}/elements/{segment(key)}")
        except (NotFoundError, InvalidInputError):
            return None
        action = body.get("action") or {}
        element_id = body["element"].get("id")
        # Only tabular files become in-link data; raw uploads stay bytes on their DataSource.
        recorded = any(
            d["element_id"] == element_id
            and d["output_name"] == name
            and not d["raw_upload"]
            and d["format"] in TABULAR_FORMATS
            for d in action.get("data_sources", [])
        )
        return body if recorded and body.get("upload") else None

    def _parse_pending_data_source(self, name: str) -> bool:
        """Parse a pending DataSource file into `name` on this step's in-link; True when it did."""
        body = self._pending_data_source(name)
        if body is None:
            return False
        data_source_value(self._api, self.flow_id, self.get_previous_step_name(), body, self.user)  # type: ignore[attr-defined]
        return True

    def run_action(self, step_name: str | None = None) -> dict[str, Any]:
        """Run the step's action (default: this step): every DataSource's file is checked, then parsed
        into a DataFrame that the next step finds on its in-link. Returns output name -> DataFrame.

        A file in a format its DataSource does not take, or one that does not parse: InvalidInputError
        naming it; the uploaded bytes are kept."""
        step = step_name or self.step_name
        path = self._path_of(step)
        action = self._api.post(f"{path}/action")
        return convert_data_sources(self._api, self.flow_id, step, action, self.user)
