"""Fixtures and readable objects: API bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from stepstore_functions.models.api import MAX_PARTS, MIN_PART_BYTES, NEXT_DESCRIPTION, ApiModel, UploadTicket


class FixtureOut(ApiModel):
    key: str = Field(description="The full key in the fixtures bucket, 'fixture/...'.")
    size: int
    etag: str
    last_modified: datetime


class FixtureList(ApiModel):
    prefix: str
    fixtures: list[FixtureOut]
    truncated: bool = Field(description="True when more keys matched than this page holds.")
    next: str | None = Field(default=None, description=NEXT_DESCRIPTION)


class ObjectDownload(ApiModel):
    bucket: str
    key: str
    size: int
    etag: str
    url: str = Field(description="Presigned GET URL.")
    expires_in: int


class FixtureUploadRequest(ApiModel):
    # Tolerant of fields the SDK's transfer module may add for output uploads (streaming hints).
    model_config = ConfigDict(extra="ignore")

    # The SDK's transfer module sends kind and format for every upload; fixtures are raw bytes.
    kind: str = Field(default="bytes", pattern="^bytes$")
    format: str = Field(default="raw", pattern="^raw$")
    size: int = Field(ge=0, le=5 * 1024**4)
    etag: str = Field(pattern=r"^[0-9a-f]{32}(-[0-9]{1,5})?$")
    part_size: int | None = Field(default=None, ge=MIN_PART_BYTES)


class FixtureUploadTicket(UploadTicket):
    key: str


class FixturePart(ApiModel):
    part_number: int = Field(ge=1, le=MAX_PARTS)
    etag: str = Field(min_length=1, max_length=80)


class FixtureCommit(ApiModel):
    model_config = ConfigDict(extra="ignore")

    parts: list[FixturePart] = Field(default_factory=list)
