"""Pages, element values, DataSource uploads and step actions: API bodies and domain records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from stepstore_functions.models.api import MIN_PART_BYTES, ApiModel

# A page layout up to this size is kept inline in DynamoDB (items are capped at 400 KB); larger ones
# go to the data bucket behind a pointer.
MAX_INLINE_PAGE_BYTES = 200 * 1024
# The element heads (every element without its content) stay in DynamoDB to validate values against.
MAX_MANIFEST_BYTES = 180 * 1024
MAX_VALUE_BYTES = 64 * 1024
MAX_FILE_NAME = 255

# File formats a DataSource takes, by file extension.
FILE_FORMATS = {
    "csv": "csv",
    "xlsx": "xlsx",
    "xlsm": "xlsx",
    "xls": "xls",
    "parquet": "parquet",
    "parq": "parquet",
    "pq": "parquet",
    "json": "json",
}


# DataSource files in these formats become DataFrames on the next step's in-link once the action ran.
PARSED_FORMATS = frozenset({"csv", "xlsx", "xls", "parquet", "json"})


def parsed_output_names(data_sources: list[dict]) -> set[str]:
    """The in-link names an action's DataSources put on the next step (files that become DataFrames)."""
    return {
        d["output_name"]
        for d in data_sources
        if d.get("file_name") and not d.get("raw_upload") and d.get("format") in PARSED_FORMATS
    }


class PageUpdate(ApiModel):
    """A step's new page: inline as `page`, or an uploaded blob (`blob_id`) with its element heads."""

    page: dict[str, Any] | None = Field(
        default=None, description="The page as JSON (sections, cards, elements)."
    )
    blob_id: str | None = Field(
        default=None, description="A page uploaded through /page/uploads and committed."
    )
    title: str | None = Field(default=None, max_length=1024, description="The page title (with blob_id).")
    elements: list[dict[str, Any]] | None = Field(
        default=None, description="With blob_id: every element of the page without its content."
    )


class BlobUploadRequest(ApiModel):
    kind: Literal["page"] = "page"
    format: Literal["json"] = "json"
    size: int = Field(ge=1, le=5 * 1024**4)
    etag: str = Field(pattern=r"^[0-9a-f]{32}(-[0-9]{1,5})?$")
    part_size: int | None = Field(default=None, ge=MIN_PART_BYTES)


class FileUploadRequest(ApiModel):
    kind: Literal["bytes"] = "bytes"
    format: str = Field(
        default="", max_length=16, description="The file's format when its name has no extension."
    )
    size: int = Field(ge=0, le=5 * 1024**4)
    etag: str = Field(pattern=r"^[0-9a-f]{32}(-[0-9]{1,5})?$")
    part_size: int | None = Field(default=None, ge=MIN_PART_BYTES)


class BlobCommitted(ApiModel):
    blob_id: str
    size: int
    etag: str


class PageStored(ApiModel):
    step_name: str
    version: int = Field(description="The step's page version, advanced by this update.")
    stored: Literal["inline", "s3"]
    size: int
    elements: int


class PageVersionOut(ApiModel):
    step_name: str
    version: int = Field(description="Advanced by update_page and update_progress(page_update=True).")


class PageOut(ApiModel):
    """A step's page. Input values the user set are merged into `page` (inline pages); for a page kept in
    S3, download `url` and put `values[element id]` into each element's `value`. Append `future_elements`
    whose id is not on the page yet."""

    flow_id: str
    step_name: str
    version: int = Field(description="Advanced by update_page and update_progress(page_update=True).")
    title: str
    stored: Literal["none", "inline", "s3"]
    page: dict[str, Any] | None = None
    url: str | None = None
    size: int = 0
    etag: str = ""
    values: dict[str, Any] = Field(default_factory=dict, description="Element id -> the value the user set.")
    future_elements: list[dict[str, Any]] = Field(default_factory=list)
    updated_at: datetime | None = None


class ElementValueIn(ApiModel):
    value: Any = Field(
        description="Dropdown: an option or a list of them; NumericRange: a number or [low, high]; "
        "DateTimeRange: an ISO time or [start, end]; TextInput: text."
    )


class UploadOut(ApiModel):
    file_name: str
    format: str
    size: int
    etag: str
    uploaded_at: datetime
    url: str | None = Field(default=None, description="Presigned GET URL of the raw bytes.")


class ActionDataSource(ApiModel):
    element_id: str
    title: str
    reference_id: str | None
    file_name: str | None
    format: str | None
    raw_upload: bool
    output_name: str = Field(description="The name the parsed DataFrame has on the next step's in-link.")


class ActionOut(ApiModel):
    step_name: str
    ran_at: datetime
    data_sources: list[ActionDataSource]


class ElementOut(ApiModel):
    step_name: str
    element: dict[str, Any] = Field(
        description="The element without its content, the user's value merged in."
    )
    upload: UploadOut | None = None
    action: ActionOut | None = Field(default=None, description="The step's last action, when it ran.")


class FutureElementIn(ApiModel):
    element: dict[str, Any]


class FutureElementOut(ApiModel):
    step_name: str
    element_id: str


# Domain records


@dataclass(frozen=True)
class StoredPage:
    version: int
    title: str
    manifest: list[dict[str, Any]]
    updated_at: datetime
    inline: str | None = None
    key: str | None = None
    size: int = 0
    etag: str = ""


@dataclass(frozen=True)
class StoredValue:
    element_key: str
    element_id: str
    value: Any
    set_at: datetime
    set_by: str
    upload_key: str | None = None


@dataclass(frozen=True)
class PendingBlob:
    """A page blob or a DataSource file handed out for upload, not yet committed."""

    upload_id: str
    purpose: Literal["page", "file"]
    owner: str
    flow_id: str
    step_name: str
    key: str
    size: int
    etag: str
    part_count: int
    multipart_id: str | None
    verified: bool = False
    element_id: str | None = None
    file_name: str | None = None
    file_format: str | None = None


@dataclass(frozen=True)
class ActionRecord:
    ran_at: datetime
    data_sources: list[dict[str, Any]] = field(default_factory=list)
