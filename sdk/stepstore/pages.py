"""Pages and elements: what a step shows its user, and the inputs the user gives back.

A :class:`Page` holds :class:`Section` objects, which hold :class:`Card` objects, which hold elements.
Input elements (:class:`DataSource`, :class:`Dropdown`, :class:`TextInput`, :class:`NumericRange`,
:class:`DateTimeRange`) carry a value that the user sets through the API; output elements
(:class:`Table`, :class:`Image`, :class:`RichText`, :class:`PlotlyPlot`) show what the step made.

Every element gets a generated ``id``; give it a ``reference_id`` (unique on its page) to find it again
by a name that does not change when the page is rebuilt. Pages serialise to JSON and back without
loss (``Page.from_json(page.to_json()) == page``; a Table keeps its DataFrame's dtypes and index).
pandas is imported only when a Table is built or read.
"""

from __future__ import annotations

import base64
import io
import json
import math
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any, ClassVar

PAGE_FORMAT = 1

# File formats a DataSource can take; "*" takes any file (kept as raw bytes).
DATA_SOURCE_FORMATS = ("csv", "xlsx", "xls", "parquet", "json", "*")


def new_element_id() -> str:
    """A fresh element, card or section id."""
    return uuid.uuid4().hex


def _options(given: dict[str, Any], what: str) -> dict[str, Any]:
    """Keyword options kept as JSON: callbacks and None dropped, enums by value, anything else refused."""
    kept: dict[str, Any] = {}
    for key, value in given.items():
        if value is None or callable(value):
            continue
        if isinstance(value, Enum):
            value = value.value
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{what}: option {key}={value!r} cannot be stored as JSON") from error
        kept[key] = value
    return kept


# Elements


class Element:
    """Base of every page element: a generated id, a title, an optional reference_id unique on the page.

    Keyword options this SDK does not model are kept as given (under "extra" in JSON); callbacks
    (page_update, on_click, ...) are accepted and ignored, since StepStore runs no page callbacks.

    Args:
        title: shown above the element; `get_element` finds elements by title or reference_id.
        description: shown under the title.
        reference_id: a name of your choosing, unique on the page.
        show_title, show_description: whether a viewer renders them.
        label, placeholder: hints an input shows.
        _id: the element id; generated when omitted (pass it only to rebuild a stored element).
    """

    type: ClassVar[str] = "element"
    is_input: ClassVar[bool] = False
    _registry: ClassVar[dict[str, Any]] = {}  # element type name -> its class

    def __init__(
        self,
        title: str = "",
        description: str = "",
        *,
        reference_id: str | None = None,
        show_title: bool = True,
        show_description: bool = True,
        label: str = "",
        placeholder: str = "",
        _id: str | None = None,
        **extra: Any,
    ) -> None:
        self.id = _id or new_element_id()
        self.title = "" if title is None else str(title)
        self.description = description or ""
        self.reference_id = reference_id or None
        self.show_title = show_title
        self.show_description = show_description
        self.label = label or ""
        self.placeholder = placeholder or ""
        # Callbacks (page_update, on_upload_completion, ...) are accepted so that flows port
        # unchanged, but not kept: StepStore runs no page callbacks. Other options are kept as given.
        self.extra = _options(extra, f"{type(self).__name__} {self.title!r}")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "type" in cls.__dict__:
            Element._registry[cls.type] = cls

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(title={self.title!r}, id={self.id!r}, reference_id={self.reference_id!r})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Element) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def matches(self, key: str) -> bool:
        """True when `key` is this element's id, reference_id or title."""
        return key in (self.id, self.reference_id, self.title)

    # What subclasses describe.

    def _params(self) -> dict[str, Any]:
        return {}

    def _content(self) -> Any:
        return None

    def _value(self) -> Any:
        return None

    def to_dict(self) -> dict[str, Any]:
        """This element as JSON-ready data (what `Element.from_dict` reads back)."""
        data: dict[str, Any] = {
            "type": self.type,
            "id": self.id,
            "title": self.title,
            "reference_id": self.reference_id,
            "description": self.description,
            "show_title": self.show_title,
            "show_description": self.show_description,
            "label": self.label,
            "placeholder": self.placeholder,
            "input": self.is_input,
            "params": self._params(),
            "value": self._value(),
        }
        if self.extra:
            data["extra"] = self.extra
        content = self._content()
        if content is not None:
            data["content"] = content
        return data

    @staticmethod
    def _common(data: dict[str, Any]) -> dict[str, Any]:
        return {
            "title": data.get("title", ""),
            "description": data.get("description", ""),
            "reference_id": data.get("reference_id"),
            "show_title": data.get("show_title", True),
            "show_description": data.get("show_description", True),
            "label": data.get("label", ""),
            "placeholder": data.get("placeholder", ""),
            "_id": data.get("id"),
            **(data.get("extra") or {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Element:
        """Rebuild an element from `to_dict` output. Unknown types come back as `OpaqueElement`, unchanged."""
        kind = Element._registry.get(data.get("type", ""))
        if kind is None:
            return OpaqueElement(data)
        return kind._from_dict(data)

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> Element:
        raise NotImplementedError

    def get_value(self) -> Any:
        """The element's value (inputs only; None for output elements)."""
        return None


class OpaqueElement(Element):
    """An element of a type this SDK does not know (written by a newer one); kept as it came."""

    def __init__(self, data: dict[str, Any]) -> None:
        common = Element._common(data)
        super().__init__(
            common["title"],
            common["description"],
            reference_id=common["reference_id"],
            show_title=common["show_title"],
            show_description=common["show_description"],
            label=common["label"],
            placeholder=common["placeholder"],
            _id=common["_id"],
        )
        self.extra = {}
        self.raw = dict(data)
        self.type = data.get("type", "element")  # type: ignore[misc]
        self.is_input = bool(data.get("input"))  # type: ignore[misc]

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.raw)
        data.update(
            id=self.id, title=self.title, reference_id=self.reference_id, description=self.description
        )
        return data

    def get_value(self) -> Any:
        return self.raw.get("value")


class InputElement(Element):
    """An element whose value the user sets (through the API, validated against the element)."""

    is_input: ClassVar[bool] = True

    def __init__(
        self, title: str = "", description: str = "", *, required: bool = False, **common: Any
    ) -> None:
        super().__init__(title, description, **common)
        self.required = required


class DataSource(InputElement):
    """A file upload. After the step's action runs, `get_element_value` returns the file as a DataFrame.

    Args:
        title: the element's title.
        options: accepted file formats: "csv", "xlsx", "xls", "parquet", "json", or "*" for any file.
            Defaults to ["csv"]. Excel needs the `excel` extra (openpyxl).
        raw_upload: keep the file as raw bytes: the action does not parse it, and `get_element_value`
            returns a BytesIO.
        required: the step's action refuses to run until a file is uploaded.
        value: what was uploaded (file name, format, size); set by the API, not by you.
        max_bytes: the most bytes the file may decode to (declared by its Parquet footer, xlsx zip
            directory or gzip trailer, or its own size for CSV and JSON); past it the parse is refused.
            Default: STEPSTORE_UPLOAD_MAX_BYTES, else 512 MiB.
        max_rows: the most rows the file may hold. Default: STEPSTORE_UPLOAD_MAX_ROWS, else 20 million.
    """

    type: ClassVar[str] = "data_source"

    def __init__(
        self,
        title: str = "",
        options: Sequence[str] | None = None,
        value: dict[str, Any] | None = None,
        description: str = "",
        *,
        required: bool = True,
        raw_upload: bool = False,
        downloadable: bool = False,
        max_bytes: int | None = None,
        max_rows: int | None = None,
        **common: Any,
    ) -> None:
        super().__init__(title, description, required=required, **common)
        for limit_name, limit in (("max_bytes", max_bytes), ("max_rows", max_rows)):
            if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0):
                raise ValueError(f"DataSource {title!r}: {limit_name} must be a positive int, got {limit!r}")
        self.max_bytes = max_bytes
        self.max_rows = max_rows
        formats = [str(o).lower().lstrip(".") for o in (options or ["csv"])]
        unknown = [f for f in formats if f not in DATA_SOURCE_FORMATS]
        if unknown:
            raise ValueError(
                f"DataSource {title!r}: unknown format {unknown[0]!r}; use {', '.join(DATA_SOURCE_FORMATS)}"
            )
        self.options = formats
        self.raw_upload = raw_upload
        self.downloadable = downloadable
        self.value = value or None

    def _params(self) -> dict[str, Any]:
        return {
            "options": self.options,
            "required": self.required,
            "raw_upload": self.raw_upload,
            "downloadable": self.downloadable,
            **{k: v for k, v in (("max_bytes", self.max_bytes), ("max_rows", self.max_rows)) if v},
        }

    def _value(self) -> Any:
        return self.value

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> DataSource:
        params = data.get("params") or {}
        return cls(
            options=params.get("options"),
            value=data.get("value"),
            required=params.get("required", True),
            raw_upload=params.get("raw_upload", False),
            downloadable=params.get("downloadable", False),
            max_bytes=params.get("max_bytes"),
            max_rows=params.get("max_rows"),
            **Element._common(data),
        )

    def get_value(self) -> Any:
        """The uploaded file's name, or None before an upload (`get_element_value` gives the DataFrame)."""
        return (self.value or {}).get("file_name")


class Dropdown(InputElement):
    """A choice among options, single (`multiselect=False`) or multiple.

    Args:
        options: the values to pick from (str, int or float), or a dict of value -> label to show.
        selected: the values picked by default.
        multiselect: allow more than one value.
        max_selections: at most this many values (multiselect only).

    `get_value()` is the picked value (or None) for a single select, the list of them for a multiselect.
    """

    type: ClassVar[str] = "dropdown"

    def __init__(
        self,
        options: Sequence[str | int | float] | dict[Any, str],
        selected: Sequence[str | int | float] | str | int | float | None = None,
        include_nulls_visible: bool = True,
        include_nulls_value: bool = False,
        multiselect: bool = False,
        title: str = "",
        description: str = "",
        *,
        required: bool = True,
        max_selections: int | None = None,
        **common: Any,
    ) -> None:
        super().__init__(title, description, required=required, **common)
        self.include_nulls_visible = include_nulls_visible
        self.include_nulls_value = include_nulls_value
        if isinstance(options, dict):
            self.options = list(options.keys())
            self.labels: list[str] | None = [str(v) for v in options.values()]
        else:
            self.options = list(options)
            self.labels = None
        bad = [o for o in self.options if isinstance(o, bool) or not isinstance(o, str | int | float)]
        if bad:
            raise ValueError(f"Dropdown {title!r}: options must be str, int or float, got {bad[0]!r}")
        self.multiselect = multiselect
        self.max_selections = max_selections
        if selected is None:
            self.selected: list[Any] = []
        elif isinstance(selected, str | int | float):
            self.selected = [selected]
        else:
            self.selected = list(selected)

    def _params(self) -> dict[str, Any]:
        return {
            "options": self.options,
            "labels": self.labels,
            "multiselect": self.multiselect,
            "max_selections": self.max_selections,
            "required": self.required,
            "include_nulls_visible": self.include_nulls_visible,
            "include_nulls_value": self.include_nulls_value,
        }

    def _value(self) -> Any:
        return self.selected

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> Dropdown:
        params = data.get("params") or {}
        options: Any = params.get("options") or []
        if params.get("labels") is not None:
            options = dict(zip(options, params["labels"], strict=True))
        return cls(
            options,
            selected=data.get("value"),
            include_nulls_visible=params.get("include_nulls_visible", True),
            include_nulls_value=params.get("include_nulls_value", False),
            multiselect=params.get("multiselect", False),
            required=params.get("required", True),
            max_selections=params.get("max_selections"),
            **Element._common(data),
        )

    def get_value(self) -> Any:
        if self.multiselect:
            return list(self.selected)
        return self.selected[0] if self.selected else None


class TextInput(InputElement):
    """Free text the user types. `get_value()` is the text."""

    type: ClassVar[str] = "text_input"

    def __init__(
        self,
        value: str = "",
        description: str = "",
        title: str = "",
        *,
        required: bool = False,
        **common: Any,
    ) -> None:
        super().__init__(title, description, required=required, **common)
        self.value = value or ""

    def _params(self) -> dict[str, Any]:
        return {"required": self.required}

    def _value(self) -> Any:
        return self.value

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> TextInput:
        params = data.get("params") or {}
        return cls(data.get("value") or "", required=params.get("required", False), **Element._common(data))

    def get_value(self) -> str:
        return self.value


def _number(name: str, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return value


class NumericRange(InputElement):
    """A number (`single=True`) or a range of numbers within [min_range, max_range].

    `get_value()` is the number for a single selection, else ``[low, high]``.
    """

    type: ClassVar[str] = "numeric_range"

    def __init__(
        self,
        min_range: float,
        max_range: float,
        min_selection: float | None = None,
        max_selection: float | None = None,
        include_nulls_visible: bool = True,
        include_nulls_value: bool = False,
        title: str = "",
        description: str = "",
        single: bool = False,
        *,
        step_size: float | None = None,
        required: bool = False,
        **common: Any,
    ) -> None:
        super().__init__(title, description, required=required, **common)
        self.include_nulls_visible = include_nulls_visible
        self.include_nulls_value = include_nulls_value
        self.min_range = _number("min_range", min_range)
        self.max_range = _number("max_range", max_range)
        if self.min_range > self.max_range:
            raise ValueError(f"NumericRange {title!r}: min_range {min_range} is above max_range {max_range}")
        self.single = single
        self.step_size = step_size
        self.min_selection = (
            self.min_range if min_selection is None else _number("min_selection", min_selection)
        )
        self.max_selection = (
            self.max_range if max_selection is None else _number("max_selection", max_selection)
        )

    def _params(self) -> dict[str, Any]:
        return {
            "min_range": self.min_range,
            "max_range": self.max_range,
            "single": self.single,
            "step_size": self.step_size,
            "required": self.required,
            "include_nulls_visible": self.include_nulls_visible,
            "include_nulls_value": self.include_nulls_value,
        }

    def _value(self) -> Any:
        return self.min_selection if self.single else [self.min_selection, self.max_selection]

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> NumericRange:
        params = data.get("params") or {}
        value = data.get("value")
        low, high = (value, value) if params.get("single") else (value or [None, None])
        return cls(
            params["min_range"],
            params["max_range"],
            low,
            high,
            include_nulls_visible=params.get("include_nulls_visible", True),
            include_nulls_value=params.get("include_nulls_value", False),
            single=params.get("single", False),
            step_size=params.get("step_size"),
            required=params.get("required", False),
            **Element._common(data),
        )

    def get_value(self) -> Any:
        return self.min_selection if self.single else [self.min_selection, self.max_selection]


def _as_datetime(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class DateTimeRange(InputElement):
    """A moment (`is_range=False`) or a span of time within [min_range, max_range].

    Naive datetimes are taken as UTC. `get_value()` is ``[start, end]`` (datetimes), or one datetime.
    """

    type: ClassVar[str] = "date_time_range"

    def __init__(
        self,
        min_range: datetime | str,
        max_range: datetime | str,
        min_selection: datetime | str | None = None,
        max_selection: datetime | str | None = None,
        include_nulls_visible: bool = True,
        include_nulls_value: bool = False,
        show_date: bool = True,
        show_time: bool = True,
        show_timezone: bool = True,
        is_range: bool = True,
        title: str = "",
        description: str = "",
        *,
        timezone: str = "UTC",
        required: bool = False,
        **common: Any,
    ) -> None:
        super().__init__(title, description, required=required, **common)
        self.include_nulls_visible = include_nulls_visible
        self.include_nulls_value = include_nulls_value
        self.show_date, self.show_time, self.show_timezone = show_date, show_time, show_timezone
        self.min_range = _as_datetime(min_range)
        self.max_range = _as_datetime(max_range)
        if self.min_range > self.max_range:
            raise ValueError(f"DateTimeRange {title!r}: min_range is after max_range")
        self.is_range = is_range
        self.timezone = timezone
        self.min_selection = self.min_range if min_selection is None else _as_datetime(min_selection)
        self.max_selection = self.max_range if max_selection is None else _as_datetime(max_selection)

    def _params(self) -> dict[str, Any]:
        return {
            "min_range": self.min_range.isoformat(),
            "max_range": self.max_range.isoformat(),
            "is_range": self.is_range,
            "timezone": self.timezone,
            "required": self.required,
            "include_nulls_visible": self.include_nulls_visible,
            "include_nulls_value": self.include_nulls_value,
            "show_date": self.show_date,
            "show_time": self.show_time,
            "show_timezone": self.show_timezone,
        }

    def _value(self) -> Any:
        if not self.is_range:
            return self.min_selection.isoformat()
        return [self.min_selection.isoformat(), self.max_selection.isoformat()]

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> DateTimeRange:
        params = data.get("params") or {}
        value = data.get("value")
        low, high = (value, value) if not params.get("is_range", True) else (value or [None, None])
        return cls(
            params["min_range"],
            params["max_range"],
            low,
            high,
            include_nulls_visible=params.get("include_nulls_visible", True),
            include_nulls_value=params.get("include_nulls_value", False),
            show_date=params.get("show_date", True),
            show_time=params.get("show_time", True),
            show_timezone=params.get("show_timezone", True),
            is_range=params.get("is_range", True),
            timezone=params.get("timezone", "UTC"),
            required=params.get("required", False),
            **Element._common(data),
        )

    def get_value(self) -> Any:
        return [self.min_selection, self.max_selection] if self.is_range else self.min_selection


class Table(Element):
    """A DataFrame shown as a table. It comes back from JSON with the same dtypes, index and values.

    Args:
        content: the DataFrame (column names str, int or float).
        downloadable: offer the viewer a download.
        searchable: offer the viewer a search box.
    """

    type: ClassVar[str] = "table"

    def __init__(
        self,
        content: Any,
        downloadable: bool = False,
        filters_active: bool = False,
        title: str = "",
        description: str = "",
        *,
        searchable: bool = True,
        **common: Any,
    ) -> None:
        super().__init__(title, description, **common)
        self.filters_active = filters_active
        import pandas as pd

        if not isinstance(content, pd.DataFrame):
            raise ValueError(f"Table {title!r} needs a pandas DataFrame, got {type(content).__name__}")
        self.content = content
        self.downloadable = downloadable
        self.searchable = searchable

    @property
    def df(self) -> Any:
        """The table's DataFrame."""
        return self.content

    def _params(self) -> dict[str, Any]:
        return {
            "downloadable": self.downloadable,
            "filters_active": self.filters_active,
            "searchable": self.searchable,
            "rows": len(self.content),
            "columns": len(self.content.columns),
        }

    def _content(self) -> Any:
        return frame_to_json(self.content)

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> Table:
        params = data.get("params") or {}
        return cls(
            frame_from_json(data["content"]),
            downloadable=params.get("downloadable", False),
            filters_active=params.get("filters_active", False),
            searchable=params.get("searchable", True),
            **Element._common(data),
        )


class Image(Element):
    """An image: PNG, JPEG, GIF, SVG or WebP bytes (or a PIL image, saved as `extension`)."""

    type: ClassVar[str] = "image"

    def __init__(
        self,
        content: Any,
        size: str = "medium",
        title: str = "",
        description: str = "",
        *,
        extension: str = "png",
        **common: Any,
    ) -> None:
        super().__init__(title, description, **common)
        if isinstance(content, io.BytesIO):
            data = content.getvalue()
        elif isinstance(content, bytes | bytearray):
            data = bytes(content)
        elif hasattr(content, "save"):  # a PIL image
            sink = io.BytesIO()
            content.save(sink, format="JPEG" if extension.lower() in ("jpg", "jpeg") else extension.upper())
            data = sink.getvalue()
        else:
            raise ValueError(
                f"Image {title!r} needs bytes, BytesIO or a PIL image, got {type(content).__name__}"
            )
        self.data = data
        self.extension = extension.lower().lstrip(".")
        self.size = size

    def _params(self) -> dict[str, Any]:
        return {"extension": self.extension, "size": self.size}

    def _content(self) -> Any:
        return base64.b64encode(self.data).decode()

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> Image:
        params = data.get("params") or {}
        return cls(
            base64.b64decode(data.get("content") or ""),
            extension=params.get("extension", "png"),
            size=params.get("size", "medium"),
            **Element._common(data),
        )


class RichText(Element):
    """Markdown text."""

    type: ClassVar[str] = "rich_text"

    def __init__(
        self, content: str, border: bool = False, title: str = "", description: str = "", **common: Any
    ) -> None:
        super().__init__(title, description, **common)
        self.content = str(content)
        self.border = border

    def _params(self) -> dict[str, Any]:
        return {"border": self.border}

    def _content(self) -> Any:
        return self.content

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> RichText:
        params = data.get("params") or {}
        return cls(data.get("content") or "", border=params.get("border", False), **Element._common(data))


class PlotlyPlot(Element):
    """A plotly figure, kept as its JSON (plotly itself is optional: a figure dict works too).

    `figure` is the figure as a dict; `to_figure()` builds a plotly Figure from it (needs plotly).
    """

    type: ClassVar[str] = "plotly_plot"

    def __init__(
        self,
        fig: Any,
        title: str | None = "",
        show_title: bool = True,
        description: str = "",
        *,
        height: int | None = None,
        **common: Any,
    ) -> None:
        super().__init__(title or "", description, show_title=show_title, **common)
        if isinstance(fig, dict):
            figure = json.loads(json.dumps(fig))
        elif hasattr(fig, "to_json"):
            figure = json.loads(fig.to_json())
        else:
            raise ValueError(
                f"PlotlyPlot {title!r} needs a plotly Figure or its dict, got {type(fig).__name__}"
            )
        self.figure: dict[str, Any] = figure
        self.height = height

    def _params(self) -> dict[str, Any]:
        return {"height": self.height}

    def _content(self) -> Any:
        return self.figure

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> PlotlyPlot:
        params = data.get("params") or {}
        common = Element._common(data)
        return cls(
            data.get("content") or {},
            common.pop("title"),
            common.pop("show_title"),
            height=params.get("height"),
            **common,
        )

    def to_figure(self) -> Any:
        """The figure as a plotly ``graph_objects.Figure`` (needs plotly installed)."""
        try:
            import plotly.graph_objects as go
        except ImportError as error:
            raise ImportError("PlotlyPlot.to_figure needs plotly: pip install plotly") from error
        return go.Figure(self.figure)


# Layout


def _find(items: Sequence[Any], what: str, key: str, quiet: bool, where: str) -> Any:
    for item in items:
        if item.title == key:
            return item
    if quiet:
        return None
    raise ValueError(f"no {what} titled {key!r} on {where}")


class Card:
    """A box on a page holding elements.

    Args:
        title: the card's title (cards are found and replaced by title).
        content: its elements, in order.
    """

    def __init__(
        self,
        title: str,
        content: Sequence[Element] | None = None,
        subtitle: str = "",
        description: str = "",
        _id: str | None = None,
        show_title: bool = True,
        show_description: bool = True,
        **options: Any,
    ) -> None:
        self.id = _id or new_element_id()
        self.title = title or ""
        self.content: list[Element] = list(content or [])
        # page_update, filter_update and other callbacks are accepted and ignored; the rest is kept.
        self.extra = _options(options, f"card {title!r}")
        self.subtitle = subtitle or ""
        self.description = description or ""
        self.show_title = show_title
        self.show_description = show_description

    def __repr__(self) -> str:
        return f"Card(title={self.title!r}, elements={len(self.content)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Card) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def add_element(self, element: Element, index: int | None = None) -> None:
        """Add `element` at the end (or at `index`)."""
        self.content.insert(len(self.content) if index is None else index, element)

    def replace_element(self, element: Element, key: str | None = None) -> Element:
        """Put `element` where the element with id, reference_id or title `key` is (default: the
        element's own reference_id, else its id); returns the replaced one. Missing: ValueError."""
        key = key or element.reference_id or element.id
        for index, existing in enumerate(self.content):
            if existing.matches(key):
                self.content[index] = element
                return existing
        raise ValueError(f"no element {key!r} on card {self.title!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "subtitle": self.subtitle,
            "description": self.description,
            "show_title": self.show_title,
            "show_description": self.show_description,
            "content": [e.to_dict() for e in self.content],
            **({"extra": self.extra} if self.extra else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Card:
        return cls(
            data.get("title", ""),
            [Element.from_dict(e) for e in data.get("content") or []],
            subtitle=data.get("subtitle", ""),
            description=data.get("description", ""),
            _id=data.get("id"),
            show_title=data.get("show_title", True),
            show_description=data.get("show_description", True),
            **(data.get("extra") or {}),
        )


class Section:
    """A titled part of a page holding cards."""

    def __init__(
        self,
        title: str,
        cards: Sequence[Card] | None = None,
        subtitle: str = "",
        description: str = "",
        _id: str | None = None,
        show_title: bool = True,
        show_description: bool = True,
        *,
        content: Sequence[Card] | None = None,
    ) -> None:
        self.id = _id or new_element_id()
        self.title = title or ""
        self.cards: list[Card] = list(cards if cards is not None else content or [])
        self.subtitle = subtitle or ""
        self.description = description or ""
        self.show_title = show_title
        self.show_description = show_description

    @property
    def content(self) -> list[Card]:
        """The section's cards (an alias of `cards`)."""
        return self.cards

    def __repr__(self) -> str:
        return f"Section(title={self.title!r}, cards={len(self.cards)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Section) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "subtitle": self.subtitle,
            "description": self.description,
            "show_title": self.show_title,
            "show_description": self.show_description,
            "cards": [c.to_dict() for c in self.cards],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Section:
        return cls(
            data.get("title", ""),
            [Card.from_dict(c) for c in data.get("cards") or []],
            subtitle=data.get("subtitle", ""),
            description=data.get("description", ""),
            _id=data.get("id"),
            show_title=data.get("show_title", True),
            show_description=data.get("show_description", True),
        )


class Page:
    """A step's page: a title and sections of cards of elements.

    `version` is the step's page version when the page was read (0 for a page built here); the store
    advances it on `update_page` and on `update_progress(..., page_update=True)`.
    """

    def __init__(
        self, title: str, sections: Sequence[Section] | None = None, on_auto_refresh: Any = None
    ) -> None:
        # on_auto_refresh is accepted so that flows port unchanged; StepStore runs no page callbacks.
        self.title = title or ""
        self.sections: list[Section] = list(sections or [])
        self.version = 0

    def __repr__(self) -> str:
        return f"Page(title={self.title!r}, sections={len(self.sections)}, version={self.version})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Page) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    # Walking

    @property
    def cards(self) -> Iterator[Card]:
        """Every card, section by section."""
        for section in self.sections:
            yield from section.cards

    @property
    def elements(self) -> Iterator[Element]:
        """Every element, in page order."""
        for card in self.cards:
            yield from card.content

    # Finding

    def get_section_by_title(self, section_title: str, quiet: bool = False) -> Section:
        """The first section titled `section_title`; missing: ValueError (None when `quiet`)."""
        return _find(self.sections, "section", section_title, quiet, f"page {self.title!r}")

    def get_card_by_title(self, card_title: str, quiet: bool = False) -> Card:
        """The first card titled `card_title`; missing: ValueError (None when `quiet`)."""
        return _find(list(self.cards), "card", card_title, quiet, f"page {self.title!r}")

    def get_card_by_id(self, card_id: str, quiet: bool = False) -> Card:
        """The card with id `card_id`; missing: ValueError (None when `quiet`)."""
        found = next((c for c in self.cards if c.id == card_id), None)
        if found is None and not quiet:
            raise ValueError(f"no card with id {card_id!r} on page {self.title!r}")
        return found  # type: ignore[return-value]

    def _element(self, test: Any, what: str, quiet: bool) -> Element:
        found = next((e for e in self.elements if test(e)), None)
        if found is None and not quiet:
            raise ValueError(f"no element {what} on page {self.title!r}")
        return found  # type: ignore[return-value]

    def get_element_by_id(self, elem_id: str, quiet: bool = False) -> Element:
        """The element with that generated id; missing: ValueError (None when `quiet`)."""
        return self._element(lambda e: e.id == elem_id, f"with id {elem_id!r}", quiet)

    def get_element_by_reference_id(self, elem_reference_id: str, quiet: bool = False) -> Element:
        """The element with that reference_id; missing: ValueError (None when `quiet`)."""
        return self._element(lambda e: e.reference_id == elem_reference_id, f"{elem_reference_id!r}", quiet)

    def get_element_by_title(self, elem_title: str, quiet: bool = False) -> Element:
        """The first element with that title; missing: ValueError (None when `quiet`)."""
        return self._element(lambda e: e.title == elem_title, f"titled {elem_title!r}", quiet)

    def find_element(self, key: str, quiet: bool = False) -> Element:
        """The element whose id, reference_id or title (in that order of preference) is `key`."""
        for test in (lambda e: e.id == key, lambda e: e.reference_id == key, lambda e: e.title == key):
            found = self._element(test, "", True)
            if found is not None:
                return found
        if quiet:
            return None  # type: ignore[return-value]
        raise ValueError(f"no element with id, reference_id or title {key!r} on page {self.title!r}")

    # Changing

    def add_section(self, section: Section) -> None:
        """Append a section."""
        self.sections.append(section)

    def add_card_to_section(self, card: Card, section_title: str) -> None:
        """Append `card` to the section titled `section_title` (ValueError if there is none)."""
        self.get_section_by_title(section_title).cards.append(card)

    def add_content_to_section(
        self,
        elems: Element | Sequence[Element],
        section_title: str,
        card_title: str = "",
        card_subtitle: str = "",
        card_description: str = "",
        card_id: str | None = None,
        index: int | None = None,
    ) -> Card:
        """Put `elems` in a new card in the section titled `section_title`, at `index` or at the end."""
        elements = [elems] if isinstance(elems, Element) else list(elems)
        card = Card(card_title, elements, subtitle=card_subtitle, description=card_description, _id=card_id)
        cards = self.get_section_by_title(section_title).cards
        cards.insert(len(cards) if index is None else index, card)
        return card

    def replace_content_in_section(
        self,
        elems: Element | Sequence[Element],
        section_title: str,
        card_title: str,
        card_subtitle: str | None = None,
        card_description: str | None = None,
    ) -> Card:
        """Replace the elements of the card titled `card_title` in that section, or add the card if it
        is not there: however often it runs, the section shows one such card."""
        elements = [elems] if isinstance(elems, Element) else list(elems)
        section = self.get_section_by_title(section_title)
        card = _find(section.cards, "card", card_title, True, "")
        if card is None:
            return self.add_content_to_section(
                elements, section_title, card_title, card_subtitle or "", card_description or ""
            )
        card.content = elements
        if card_subtitle is not None:
            card.subtitle = card_subtitle
        if card_description is not None:
            card.description = card_description
        return card

    def remove_card(self, section_title: str, card_title: str) -> None:
        """Remove the cards titled `card_title` from that section (none there: nothing changes)."""
        section = self.get_section_by_title(section_title)
        section.cards = [c for c in section.cards if c.title != card_title]

    def replace_element(self, element: Element, key: str | None = None) -> Element:
        """Put `element` where the element with id, reference_id or title `key` is (default: the
        element's reference_id, else its id); returns the replaced one. Missing: ValueError."""
        key = key or element.reference_id or element.id
        for card in self.cards:
            for index, existing in enumerate(card.content):
                if existing.matches(key):
                    card.content[index] = element
                    return existing
        raise ValueError(f"no element {key!r} on page {self.title!r}")

    def check_unique_reference_ids(self) -> None:
        """ValueError naming a reference_id (or id) that two elements on this page share."""
        seen_refs: set[str] = set()
        seen_ids: set[str] = set()
        for element in self.elements:
            if element.id in seen_ids:
                raise ValueError(f"page {self.title!r}: two elements have id {element.id!r}")
            seen_ids.add(element.id)
            if element.reference_id:
                if element.reference_id in seen_refs:
                    raise ValueError(
                        f"page {self.title!r}: reference_id {element.reference_id!r} is used by two elements"
                    )
                seen_refs.add(element.reference_id)

    # JSON

    def to_dict(self) -> dict[str, Any]:
        """The page as JSON-ready data."""
        return {"format": PAGE_FORMAT, "title": self.title, "sections": [s.to_dict() for s in self.sections]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Page:
        """The page `to_dict` described."""
        return cls(data.get("title", ""), [Section.from_dict(s) for s in data.get("sections") or []])

    def to_json(self) -> str:
        """The page as JSON text (standard JSON: no NaN or Infinity literals)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> Page:
        """The page `to_json` wrote."""
        return cls.from_dict(json.loads(text))


# DataFrames as JSON, without loss of dtypes, index or values


def _column_to_json(series: Any) -> tuple[dict[str, Any], list[Any]]:
    import pandas as pd

    dtype = series.dtype
    meta: dict[str, Any] = {"dtype": str(dtype)}
    if isinstance(dtype, pd.CategoricalDtype):
        cat_meta, categories = _column_to_json(pd.Series(dtype.categories))
        meta.update(categories=categories, categories_dtype=cat_meta, ordered=bool(dtype.ordered))
        codes = series.cat.codes.tolist()
        return meta, codes
    kind = getattr(dtype, "kind", "O")
    if kind == "M":
        return meta, [None if pd.isna(v) else v.isoformat() for v in series]
    if kind == "m":
        return meta, [None if pd.isna(v) else int(v.value) for v in series]
    if kind == "f":
        return meta, [_float_json(v) for v in series.tolist()]
    if kind in "iub" and not isinstance(dtype, pd.api.extensions.ExtensionDtype):
        return meta, series.tolist()
    values = series.astype(object).tolist()
    return meta, [_scalar_json(v) for v in values]


def _float_json(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _scalar_json(value: Any) -> Any:
    import pandas as pd

    if value is None or value is pd.NA:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return {"nan": True}
        return _float_json(value)
    if isinstance(value, bool | int | str):
        return value
    if hasattr(value, "item"):  # numpy scalar
        return _scalar_json(value.item())
    if isinstance(value, pd.Timestamp | datetime):
        return {"ts": value.isoformat()}
    return str(value)


def _scalar_from_json(value: Any) -> Any:
    import pandas as pd

    if isinstance(value, dict):
        if value.get("nan"):
            return float("nan")
        if "ts" in value:
            return pd.Timestamp(value["ts"])
    if value in ("inf", "-inf"):
        return float(value)
    return value


def _column_from_json(meta: dict[str, Any], values: list[Any], name: Any) -> Any:
    import numpy as np
    import pandas as pd

    dtype_name = meta["dtype"]
    if "categories" in meta:
        categories = _column_from_json(meta["categories_dtype"], meta["categories"], None)
        cat = pd.Categorical.from_codes(values, categories=pd.Index(categories), ordered=meta["ordered"])
        return pd.Series(cat, name=name)
    dtype = pd.api.types.pandas_dtype(dtype_name)
    kind = getattr(dtype, "kind", "O")
    if kind == "M":
        parsed = pd.to_datetime(
            pd.Series(values, dtype=object), format="ISO8601", utc=getattr(dtype, "tz", None) is not None
        )
        if getattr(dtype, "tz", None) is not None:
            parsed = parsed.dt.tz_convert(dtype.tz)
        return parsed.astype(dtype).rename(name)
    if kind == "m":
        return pd.Series(
            [pd.NaT if v is None else pd.Timedelta(v, unit="ns") for v in values], name=name
        ).astype(dtype)
    if kind == "f" and not isinstance(dtype, pd.api.extensions.ExtensionDtype):
        floats = np.array([np.nan if v is None else float(v) for v in values], dtype=dtype)
        return pd.Series(floats, name=name)
    if dtype_name == "object":
        return pd.Series([_scalar_from_json(v) for v in values], dtype=object, name=name)
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):
        restored = [_scalar_from_json(v) for v in values]
        return pd.Series(pd.array(restored, dtype=dtype), name=name)
    return pd.Series(values, name=name).astype(dtype)


def frame_to_json(frame: Any) -> dict[str, Any]:
    """A DataFrame as JSON-ready data: column names, dtypes, index and column-major values."""
    import pandas as pd

    columns = []
    for position, name in enumerate(frame.columns):
        meta, values = _column_to_json(frame.iloc[:, position])
        columns.append({"name": _scalar_json(name), **meta, "values": values})
    index = frame.index
    if isinstance(index, pd.RangeIndex) and index.name is None:
        index_json: dict[str, Any] = {"range": [index.start, index.stop, index.step]}
    else:
        meta, values = _column_to_json(pd.Series(index))
        index_json = {"name": _scalar_json(index.name), **meta, "values": values}
    return {"columns": columns, "index": index_json, "rows": len(frame)}


def frame_from_json(data: dict[str, Any]) -> Any:
    """The DataFrame `frame_to_json` described."""
    import pandas as pd

    index_json = data["index"]
    if "range" in index_json:
        index = pd.RangeIndex(*index_json["range"])
    else:
        index = pd.Index(
            _column_from_json(index_json, index_json["values"], None),
            name=_scalar_from_json(index_json["name"]),
        )
    columns = {}
    names = []
    for position, column in enumerate(data["columns"]):
        series = _column_from_json(column, column["values"], None)
        series.index = index
        columns[position] = series
        names.append(_scalar_from_json(column["name"]))
    frame = pd.DataFrame(columns, index=index)
    frame.columns = pd.Index(names) if names else frame.columns
    return frame
