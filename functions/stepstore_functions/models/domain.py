"""Domain entities the logic works on, independent of how DynamoDB stores them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from stepstore_functions.models.errors import InvalidInputError


class Role(StrEnum):
    USER = "user"
    # Service and admin tokens may act for another user (a scheduler, an event-driven flow).
    SERVICE = "service"
    ADMIN = "admin"


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class OutputKind(StrEnum):
    DATAFRAME = "dataframe"
    SERIES = "series"
    DICT = "dict"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    STR = "str"
    BYTES = "bytes"


class DataFormat(StrEnum):
    PARQUET = "parquet"
    JSON = "json"
    RAW = "raw"


# Names appear in keys, URLs and S3 keys: no '#', '/', '%' or control characters.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.:@+()\-]{0,127}$")
_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@\-]{0,63}$")


def is_valid_name(value: str) -> bool:
    return isinstance(value, str) and bool(_NAME.match(value)) and value == value.strip()


def valid_name(field: str, value: str) -> str:
    """Return `value` if it is a valid flow, step or output name, else raise naming `field`."""
    if not isinstance(value, str) or not _NAME.match(value) or value != value.strip():
        raise InvalidInputError(
            f"{field} {value!r} is not a valid name: use 1-128 letters, digits, spaces and "
            "_ . : @ + ( ) -, starting with a letter or digit",
            field=field,
        )
    return value


def valid_user_name(field: str, value: str) -> str:
    if not isinstance(value, str) or not _USER.match(value):
        raise InvalidInputError(
            f"{field} {value!r} is not a valid user name: use 1-64 letters, digits and _ . @ -",
            field=field,
        )
    return value


@dataclass(frozen=True)
class Actor:
    """Who a request acts for: the token's principal, or the user it acts for when allowed."""

    principal: str
    role: Role
    user: str

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    created_at: datetime


@dataclass(frozen=True)
class TokenInfo:
    """A token as it may be shown: its id and dates, never the token or its hash."""

    token_id: str
    user: str
    role: Role
    created_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True)
class Step:
    name: str
    position: int
    status: StepStatus
    progress: float
    message: str
    created_at: datetime
    updated_at: datetime
    page_version: int = 0
    previous: str | None = None


@dataclass(frozen=True)
class FlowSummary:
    """A flow as the owner's index lists it; `sort_key` places it in that list (for page cursors)."""

    flow_id: str
    created_at: datetime
    sort_key: str
    current_step: str | None
    step_count: int


@dataclass(frozen=True)
class Flow:
    owner: str
    flow_id: str
    current_step: str | None
    steps: tuple[Step, ...]
    created_at: datetime

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)


@dataclass(frozen=True)
class OutputPointer:
    """Where one saved output lives: inline JSON, or an object in the data bucket."""

    flow_id: str
    name: str
    producer_step: str
    position: int
    kind: OutputKind
    data_format: DataFormat
    size: int
    etag: str
    created_at: datetime
    key: str | None = None
    inline: str | None = None


@dataclass(frozen=True)
class PendingUpload:
    upload_id: str
    owner: str
    flow_id: str
    step_name: str
    name: str
    position: int
    key: str
    kind: OutputKind
    data_format: DataFormat
    size: int | None  # None until the commit declares it (a streamed upload)
    etag: str | None
    part_count: int  # 0 when not known in advance
    multipart_id: str | None
