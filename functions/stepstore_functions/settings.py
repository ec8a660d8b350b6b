"""Typed configuration, read once from the environment that CDK (or the local stack) sets."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, Field


class Settings(BaseModel):
    stage: str = Field(alias="STEPSTORE_STAGE")
    metadata_table: str = Field(alias="METADATA_TABLE")
    links_table: str = Field(alias="LINKS_TABLE")
    data_bucket: str = Field(alias="DATA_BUCKET")
    assets_bucket: str = Field(alias="ASSETS_BUCKET")
    fixtures_bucket: str = Field(alias="FIXTURES_BUCKET")
    secrets_prefix: str = Field(alias="SECRETS_PREFIX")
    region: str = Field(default="us-east-1", alias="AWS_REGION")
    presign_seconds: int = Field(default=900, alias="PRESIGN_SECONDS", ge=60, le=43200)
    # Uploads that are not committed within this time are forgotten (their objects expire too).
    upload_ttl_seconds: int = Field(default=86400, alias="UPLOAD_TTL_SECONDS", ge=60)
    # Buckets besides the fixtures bucket that `get_s3_asset` may presign reads from, comma-separated.
    readable_buckets: str = Field(default="", alias="STEPSTORE_READABLE_BUCKETS")


ALLOWED_ORIGINS_ENV = "STEPSTORE_ALLOWED_ORIGINS"


def allowed_origins() -> frozenset[str]:
    """Browser origins the API answers with CORS headers (``STEPSTORE_ALLOWED_ORIGINS``, comma-separated;
    the CDK app sets it from the stage settings). Read per call: it is one environment lookup."""
    return frozenset(o.strip() for o in os.environ.get(ALLOWED_ORIGINS_ENV, "").split(",") if o.strip())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    env = dict(os.environ)
    env.setdefault("AWS_REGION", env.get("AWS_DEFAULT_REGION", "us-east-1"))
    return Settings.model_validate(env)
