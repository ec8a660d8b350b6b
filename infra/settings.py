"""Stage settings: one typed file per stage, ``infra/stages/<stage>.json``, validated by `StageSettings`.

``cdk synth -c stage=prod`` reads ``infra/stages/prod.json``; a stage without a file of its own (a
developer's ``-c stage=alice``) takes ``dev.json``'s values. ``-c retain_data=false`` still overrides
the file's ``retain_data`` for a throwaway stage. An unknown key or a value out of range fails
synthesis with pydantic's message naming the key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

STAGES_DIR = Path(__file__).resolve().parent / "stages"
DEFAULT_SETTINGS_STAGE = "dev"

# The retention periods CloudWatch Logs accepts.
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


class FunctionMemory(BaseModel):
    """Memory (MB) per function; Lambda gives CPU in proportion."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api: int = Field(1024, ge=128, le=10240)
    authorizer: int = Field(512, ge=128, le=10240)
    stream_events: int = Field(512, ge=128, le=10240)
    s3_events: int = Field(256, ge=128, le=10240)
    fixture_trigger: int = Field(1024, ge=128, le=10240)

    def for_function(self, key: str) -> int:
        return int(getattr(self, key.replace("-", "_")))


class AlarmThresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    api_5xx_rate_percent: float = Field(1.0, gt=0, le=100)
    # Below this many requests in a period the 5xx rate is noise (one failure in three requests).
    api_5xx_min_requests: int = Field(50, ge=1)
    api_4xx_per_5_minutes: int = Field(500, ge=1)
    rejected_tokens_per_5_minutes: int = Field(100, ge=1)
    api_p99_latency_ms: int = Field(3000, ge=100, le=29000)
    stream_iterator_age_ms: int = Field(60_000, ge=1000)
    dead_letter_oldest_message_seconds: int = Field(3600, ge=60)
    # Concurrent executions of the account's Lambda functions, as a share of the account limit.
    concurrency_percent_of_limit: float = Field(80.0, gt=0, le=100)
    account_concurrency_limit: int = Field(1000, ge=10)


class StageSettings(BaseModel):
    """Everything that differs between stages. Every field has the dev default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # API Gateway stage throttling (all callers together), requests per second and burst.
    throttle_rate_limit: float = Field(100, gt=0)
    throttle_burst_limit: int = Field(200, ge=1)
    memory: FunctionMemory = FunctionMemory()
    log_retention_days: int = 30
    alarms: AlarmThresholds = AlarmThresholds()
    # Browser origins allowed to call the API and to PUT/GET presigned URLs on the data and assets
    # buckets (scheme://host[:port], no path). Empty: no browser access.
    allowed_origins: tuple[str, ...] = ()
    # Buckets outside the stack that `get_s3_asset` may read (the API role is granted reads there).
    readable_buckets: tuple[str, ...] = ()
    # Keep tables, buckets and log groups when the stack is deleted.
    retain_data: bool = True
    # Where operators read the README; every alarm's description links its runbook section under it.
    runbook_url: str = "https://github.com/stepstore/stepstore/blob/main/README.md"

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"CloudWatch Logs keeps logs for one of {LOG_RETENTION_DAYS} days, not {value}")
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if origin == "*" or "*" in origin:
                raise ValueError("allowed_origins lists origins exactly; '*' is never allowed (credentials)")
            scheme, sep, rest = origin.partition("://")
            if scheme not in ("https", "http") or not sep or not rest or "/" in rest:
                raise ValueError(f"{origin!r} is not an origin (scheme://host[:port], no path)")
            if scheme == "http" and not rest.startswith(("localhost", "127.0.0.1")):
                raise ValueError(f"{origin!r}: plain http is allowed for localhost only")
        return value

    def log_retention(self) -> Any:
        """The CDK RetentionDays member for `log_retention_days`."""
        from aws_cdk import aws_logs as logs

        members = [m for m in logs.RetentionDays if m.name != "INFINITE"]
        return dict(zip(LOG_RETENTION_DAYS, members, strict=True))[self.log_retention_days]

    @field_validator("readable_buckets")
    @classmethod
    def _buckets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for bucket in value:
            if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
                raise ValueError(f"{bucket!r} is not an S3 bucket name")
        return value

    @model_validator(mode="after")
    def _burst(self) -> StageSettings:
        if self.throttle_burst_limit < self.throttle_rate_limit:
            raise ValueError("throttle_burst_limit must be at least throttle_rate_limit")
        return self


def settings_file(stage: str) -> Path:
    own = STAGES_DIR / f"{stage}.json"
    return own if own.exists() else STAGES_DIR / f"{DEFAULT_SETTINGS_STAGE}.json"


def load_settings(stage: str) -> StageSettings:
    """The stage's settings (its own file, else dev's)."""
    return StageSettings.model_validate_json(settings_file(stage).read_text())
