"""The one description of StepStore's AWS resources.

The local stack creates its tables and buckets from this module, the CDK app provisions the same
ones from it, and a test checks the synthesized template against it, so the three never drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PROJECT = "stepstore"


@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition_key: str
    sort_key: str


@dataclass(frozen=True)
class TableSpec:
    logical_name: str
    partition_key: str
    sort_key: str
    indexes: tuple[IndexSpec, ...] = ()
    ttl_attribute: str | None = None
    stream: bool = False

    def physical_name(self, stage: str) -> str:
        return f"{PROJECT}-{stage}-{self.logical_name}"


@dataclass(frozen=True)
class BucketSpec:
    logical_name: str
    versioned: bool = False
    # Objects that were uploaded but never committed carry this tag and expire after `staging_days`.
    staging_tag: tuple[str, str] | None = None
    staging_days: int = 1
    abort_multipart_days: int = 1
    cors: bool = True

    def physical_name(self, stage: str, account: str = "000000000000", region: str = "us-east-1") -> str:
        """Bucket names are global: the account and region make a stage deployable to two regions."""
        return f"{PROJECT}-{stage}-{self.logical_name}-{account}-{region}"


# Browsers PUT and GET presigned URLs on buckets with `cors`, from the stage's allowed origins only
# (the CDK app and the local stack both apply this rule; no cookies, so never '*').
BUCKET_CORS_METHODS = ("GET", "PUT", "HEAD")
BUCKET_CORS_ALLOWED_HEADERS = ("Content-Type", "Content-MD5", "If-None-Match", "x-amz-tagging", "x-amz-*")
BUCKET_CORS_EXPOSED_HEADERS = ("ETag",)
BUCKET_CORS_MAX_AGE_SECONDS = 3000

STAGING_TAG = ("stepstore-state", "staging")
COMMITTED_TAG = ("stepstore-state", "committed")

# Every item in the metadata table is keyed by pk/sk; the two overloaded indexes serve the
# "find by owner/type/label, newest first" and "find by name" queries without scans.
METADATA_TABLE = TableSpec(
    logical_name="metadata",
    partition_key="pk",
    sort_key="sk",
    indexes=(
        IndexSpec(name="gsi1", partition_key="gsi1pk", sort_key="gsi1sk"),
        IndexSpec(name="gsi2", partition_key="gsi2pk", sort_key="gsi2sk"),
    ),
    ttl_attribute="expires_at",
    stream=True,
)

# A step's out-links: one item per (flow, output name, producer position).
LINKS_TABLE = TableSpec(
    logical_name="links",
    partition_key="pk",
    sort_key="sk",
    stream=True,
)

TABLES: tuple[TableSpec, ...] = (METADATA_TABLE, LINKS_TABLE)

# Step outputs, page payloads and DataSource uploads.
DATA_BUCKET = BucketSpec(logical_name="data", staging_tag=STAGING_TAG)
ASSETS_BUCKET = BucketSpec(logical_name="assets", versioned=True, staging_tag=STAGING_TAG)
# Fixture uploads are staged (tagged staging) and copied to their key once verified; a staging
# leftover, or a staging URL reused after the commit, expires like any other bucket's.
FIXTURES_BUCKET = BucketSpec(logical_name="fixtures", staging_tag=STAGING_TAG, cors=False)

BUCKETS: tuple[BucketSpec, ...] = (DATA_BUCKET, ASSETS_BUCKET, FIXTURES_BUCKET)

FIXTURE_PREFIX = "fixture/"


def secrets_prefix(stage: str) -> str:
    """Connection credentials live under this Secrets Manager name prefix, one secret each."""
    return f"{PROJECT}/{stage}/connections/"


@dataclass(frozen=True)
class Deployment:
    """The physical names of one stage's resources, as the functions' environment carries them."""

    stage: str
    account: str = "000000000000"
    region: str = "us-east-1"
    extra_env: dict[str, str] = field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        return {
            "STEPSTORE_STAGE": self.stage,
            "METADATA_TABLE": METADATA_TABLE.physical_name(self.stage),
            "LINKS_TABLE": LINKS_TABLE.physical_name(self.stage),
            "DATA_BUCKET": DATA_BUCKET.physical_name(self.stage, self.account, self.region),
            "ASSETS_BUCKET": ASSETS_BUCKET.physical_name(self.stage, self.account, self.region),
            "FIXTURES_BUCKET": FIXTURES_BUCKET.physical_name(self.stage, self.account, self.region),
            "SECRETS_PREFIX": secrets_prefix(self.stage),
            **self.extra_env,
        }
