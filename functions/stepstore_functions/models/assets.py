"""Assets: domain records and the HTTP API's request and response bodies for them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from stepstore_functions.models.api import (
    ETAG_DESCRIPTION,
    ETAG_PATTERN,
    MAX_PARTS,
    MIN_PART_BYTES,
    NEXT_DESCRIPTION,
    UploadedPart,
)
from stepstore_functions.models.errors import InvalidInputError

# The asset's own metadata, its class attributes and its links travel as JSON in one item.
MAX_METADATA_BYTES = 64 * 1024
MAX_LINKS = 100


class AssetType(StrEnum):
    MODEL = "model"
    DATASET = "dataset"
    SCHEMA = "schema"
    EXPLAINER = "explainer"
    NLPROCESSOR = "nlprocessor"
    KNOWLEDGE_GRAPH = "knowledge_graph"
    DATASTORE = "datastore"
    OTHER = "other"


class AssetFormat(StrEnum):
    """How the object's bytes are stored; the reader needs it to load them."""

    PARQUET = "parquet"
    JSON = "json"
    RAW = "raw"
    PICKLE = "pickle"


# Labels and names: free text for people, but kept out of keys' separators and control characters.
_LABEL = re.compile(r"^[^\x00-\x1f\x7f#]{1,256}$")
_ASSET_ID = re.compile(r"^[0-9a-f]{32}$")
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def valid_label(field_name: str, value: str) -> str:
    if not isinstance(value, str) or not _LABEL.match(value) or value != value.strip():
        raise InvalidInputError(
            f"{field_name} {value!r} is not valid: use 1-256 printable characters without '#' "
            "and without leading or trailing spaces",
            field=field_name,
        )
    return value


def valid_asset_id(value: str) -> str:
    if not isinstance(value, str) or not _ASSET_ID.match(value):
        raise InvalidInputError(f"asset_id {value!r} is not an asset id (32 hex digits)", field="asset_id")
    return value


@dataclass(frozen=True)
class AssetDraft:
    """What a save declares about the asset, before its bytes are in."""

    asset_type: AssetType
    label: str
    name: str | None
    description: str | None
    kind: str
    data_format: AssetFormat
    metadata: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AssetVersion:
    """One stored version of an asset: its object in the assets bucket and what describes it."""

    asset_id: str
    owner: str
    version: int
    draft: AssetDraft
    size: int
    etag: str
    key: str
    created_at: datetime
    # The S3 version committed (the assets bucket is versioned): reads fetch exactly it.
    object_version: str | None = None


@dataclass(frozen=True)
class PendingAssetUpload:
    upload_id: str
    owner: str
    draft: AssetDraft
    key: str
    size: int | None
    etag: str | None
    part_count: int
    multipart_id: str | None
    overwrite: bool
    target_asset_id: str | None


@dataclass(frozen=True)
class AssetShare:
    asset_id: str
    owner: str
    grantee: str
    created_at: datetime


# API bodies


class _ApiModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssetUploadRequest(_ApiModel):
    type: AssetType
    label: str = Field(min_length=1, max_length=256)
    name: str | None = Field(default=None, min_length=1, max_length=256)
    description: str | None = Field(default=None, max_length=4096)
    kind: str = Field(
        pattern=_KIND.pattern, description="What the object was in the SDK (dataframe, bytes, ...)."
    )
    format: AssetFormat
    metadata: dict[str, Any] = Field(default_factory=dict)
    attributes: dict[str, Any] = Field(
        default_factory=dict,
        description="The asset class's own settings (e.g. a Dataset's categorical_cols).",
    )
    links: dict[str, str] = Field(default_factory=dict, description="Link label -> linked asset id.")
    overwrite: bool = False
    asset_id: str | None = Field(default=None, description="With overwrite: the asset to add a version to.")
    size: int | None = Field(
        default=None, ge=0, le=5 * 1024**4, description="Omit when streaming; then part_size is required."
    )
    etag: str | None = Field(default=None, pattern=ETAG_PATTERN, description=ETAG_DESCRIPTION)
    part_size: int | None = Field(default=None, ge=MIN_PART_BYTES)
    part_count: int | None = Field(
        default=None, ge=1, le=MAX_PARTS, description="Part URLs to presign now when the size is not known."
    )


class AssetCommit(_ApiModel):
    parts: list[UploadedPart] = Field(default_factory=list)
    size: int | None = Field(default=None, ge=0, description="Required here if not declared at the start.")
    etag: str | None = Field(default=None, pattern=ETAG_PATTERN, description=ETAG_DESCRIPTION)


class AssetOut(_ApiModel):
    asset_id: str
    owner: str
    type: AssetType
    label: str
    name: str | None
    description: str | None
    version: int
    kind: str
    format: AssetFormat
    metadata: dict[str, Any]
    attributes: dict[str, Any]
    links: dict[str, str]
    size: int
    etag: str
    created_at: datetime
    url: str | None = Field(default=None, description="Presigned GET URL of the object.")


class AssetList(_ApiModel):
    assets: list[AssetOut]
    next: str | None = Field(default=None, description=NEXT_DESCRIPTION)


class AssetDeleted(_ApiModel):
    asset_id: str
    versions: int


class ShareOut(_ApiModel):
    asset_id: str
    owner: str
    grantee: str
    created_at: datetime


class ShareList(_ApiModel):
    shares: list[ShareOut]
    next: str | None = Field(default=None, description=NEXT_DESCRIPTION)
