"""Request and response bodies of the HTTP API; the OpenAPI document is generated from these."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, ConfigDict, Field

from stepstore_functions.models.domain import DataFormat, OutputKind, Role, StepStatus
from stepstore_functions.models.limits import DynamoFloat

# Values up to this size travel inline (JSON text in the pointer item); larger ones go to S3.
MAX_INLINE_BYTES = 64 * 1024
MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PARTS = 10_000


# Every list route reads one page: `limit` items at most (capped), after the opaque `cursor` that the
# previous page returned as `next` (null on the last page). See dal/cursors.py.
DEFAULT_PAGE = 100
MAX_PAGE = 1000
LimitQuery = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Items per page, at most {MAX_PAGE}.")]
CursorQuery = Annotated[
    str | None, Query(max_length=4096, description="The `next` of the previous page; omit for the first.")
]
NEXT_DESCRIPTION = "Pass as `cursor` to get the next page; null when this is the last page."


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Health(ApiModel):
    status: str = "ok"


EXPIRES_DESCRIPTION = (
    "Days until the token stops working (fractions allowed); omit for a token that lives until revoked."
)


class CreateUserRequest(ApiModel):
    name: str = Field(min_length=1, max_length=64)
    role: Role = Role.USER
    expires_in_days: float | None = Field(default=None, gt=0, le=3650, description=EXPIRES_DESCRIPTION)


class UserCreated(ApiModel):
    name: str
    role: Role
    token: str = Field(description="Shown once; only its hash is stored.")
    expires_at: datetime | None = None


class UserOut(ApiModel):
    name: str
    role: Role
    created_at: datetime


class UserList(ApiModel):
    users: list[UserOut]
    next: str | None = Field(default=None, description=NEXT_DESCRIPTION)


class UserRemoved(ApiModel):
    name: str
    tokens_revoked: int


class TokenRequest(ApiModel):
    expires_in_days: float | None = Field(default=None, gt=0, le=3650, description=EXPIRES_DESCRIPTION)


class TokenOut(ApiModel):
    token_id: str = Field(description="Names the token to revoke it; not the token itself.")
    user: str
    role: Role
    created_at: datetime
    expires_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="Shown once; only its hash is stored.")


class TokenList(ApiModel):
    tokens: list[TokenOut]
    next: str | None = Field(default=None, description=NEXT_DESCRIPTION)


class WhoAmI(ApiModel):
    principal: str
    role: Role
    user: str


class StepOut(ApiModel):
    name: str
    position: int
    status: StepStatus
    progress: float
    message: str
    previous_step: str | None
    created_at: datetime
    updated_at: datetime


class FlowOut(ApiModel):
    flow_id: str
    owner: str
    current_step: str | None
    steps: list[StepOut] = Field(description="One page of the flow's steps, in order.")
    created_at: datetime
    next: str | None = Field(default=None, description=NEXT_DESCRIPTION)


class FlowSummary(ApiModel):
    flow_id: str
    created_at: datetime
    current_step: str | None = None
    step_count: int = 0
    status: StepStatus | None = Field(default=None, description="With `with_status`: the flow's status.")
    progress: float | None = Field(
        default=None, description="With `with_status`: the current step's progress (0-100)."
    )
    message: str | None = Field(default=None, description="With `with_status`: the current step's message.")
    updated_at: datetime | None = Field(
        default=None, description="With `with_status`: when a step last changed."
    )


class FlowList(ApiModel):
    flows: list[FlowSummary]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; absent on the last page."
    )


class ProgressUpdate(ApiModel):
    completion: DynamoFloat = Field(ge=0, le=100)
    message: str = Field(default="", max_length=4096)
    page_update: bool = False


class StatusUpdate(ApiModel):
    status: StepStatus
    message: str | None = Field(default=None, max_length=4096)


class InlineOutput(ApiModel):
    kind: OutputKind
    value_json: str = Field(max_length=MAX_INLINE_BYTES, description="The value as JSON text.")


ETAG_PATTERN = r"^[0-9a-f]{32}(-[0-9]{1,5})?$"
ETAG_DESCRIPTION = "The S3 ETag the object must have: MD5 hex, or MD5 of the parts' MD5s '-N' for N parts."


class UploadRequest(ApiModel):
    """Size and ETag may be declared here, or at commit when the bytes are produced as they upload."""

    kind: OutputKind
    format: DataFormat
    size: int | None = Field(
        default=None, ge=0, le=5 * 1024**4, description="Omit to declare it (and the ETag) at commit."
    )
    etag: str | None = Field(default=None, pattern=ETAG_PATTERN, description=ETAG_DESCRIPTION)
    part_size: int | None = Field(
        default=None, ge=MIN_PART_BYTES, description="Multipart upload in parts of this size."
    )
    part_count: int | None = Field(
        default=None, ge=1, le=MAX_PARTS, description="Part URLs to presign now when the size is not known."
    )


class UploadTicket(ApiModel):
    upload_id: str
    urls: list[str]
    part_size: int | None
    headers: dict[str, str] = Field(description="Headers the PUT to each URL must carry.")
    expires_in: int

    @classmethod
    def of(cls, ticket: object) -> Self:
        """From the logic's ticket (any object with these attributes)."""
        return cls.model_validate(ticket, from_attributes=True)


class UploadedPart(ApiModel):
    part_number: int = Field(ge=1, le=MAX_PARTS)
    etag: str = Field(min_length=1, max_length=80)


class CommitUpload(ApiModel):
    parts: list[UploadedPart] = Field(default_factory=list)
    size: int | None = Field(default=None, ge=0, description="Required here if not declared at the start.")
    etag: str | None = Field(default=None, pattern=ETAG_PATTERN, description=ETAG_DESCRIPTION)


class PartUrlsRequest(ApiModel):
    first: int = Field(ge=1, le=MAX_PARTS)
    count: int = Field(ge=1, le=1000)


class PartUrls(ApiModel):
    urls: list[str] = Field(description="Presigned URLs for parts first, first + 1, ...")


class OutputOut(ApiModel):
    name: str
    producer_step: str
    kind: OutputKind
    format: DataFormat
    size: int
    etag: str
    created_at: datetime
    value_json: str | None = None
    url: str | None = Field(default=None, description="Presigned GET URL when the value is in S3.")


class OutputList(ApiModel):
    outputs: list[OutputOut]
    next: str | None = Field(default=None, description=NEXT_DESCRIPTION)


class InputList(ApiModel):
    step_name: str
    inputs: dict[str, str] = Field(description="Output name -> the step that produced it (one page).")
    next: str | None = Field(default=None, description=NEXT_DESCRIPTION)
