"""S3 buckets, built from the resource spec, plus the bucket their access logs go to."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constants import name
from infra.nag import acknowledge
from stepstore_functions.resources import (
    BUCKET_CORS_ALLOWED_HEADERS,
    BUCKET_CORS_EXPOSED_HEADERS,
    BUCKET_CORS_MAX_AGE_SECONDS,
    BUCKET_CORS_METHODS,
    BUCKETS,
    BucketSpec,
)


class Buckets(Construct):
    """Every bucket of the spec: public access blocked, TLS enforced, S3-managed encryption,
    versioning where the spec asks (assets), objects still tagged as staging expiring after the
    spec's days, incomplete multipart uploads aborted, and server access logs kept."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        account: str,
        region: str,
        allowed_origins: tuple[str, ...],
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self._allowed_origins = allowed_origins
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            bucket_name=name(stage, f"access-logs-{account}-{region}"),
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(id="expire-access-logs", expiration=Duration.days(90))],
            removal_policy=removal_policy,
        )
        acknowledge(
            self.access_logs,
            "AwsSolutions-S1",
            "This is the access-log bucket of the other buckets; logging it into itself would loop.",
        )
        self.by_name: dict[str, s3.Bucket] = {
            spec.logical_name: self._bucket(spec, stage, account, region, removal_policy) for spec in BUCKETS
        }

    def _bucket(
        self, spec: BucketSpec, stage: str, account: str, region: str, removal_policy: RemovalPolicy
    ) -> s3.Bucket:
        rules = [
            s3.LifecycleRule(
                id="abort-incomplete-multipart-uploads",
                abort_incomplete_multipart_upload_after=Duration.days(spec.abort_multipart_days),
            )
        ]
        if spec.staging_tag:
            # Objects are uploaded tagged as staging and retagged once their metadata commits;
            # whatever an interrupted upload left behind expires.
            rules.append(
                s3.LifecycleRule(
                    id="expire-uncommitted-staging-objects",
                    tag_filters={spec.staging_tag[0]: spec.staging_tag[1]},
                    expiration=Duration.days(spec.staging_days),
                )
            )
        if spec.versioned:
            rules.append(
                s3.LifecycleRule(
                    id="expire-noncurrent-versions",
                    noncurrent_version_expiration=Duration.days(30),
                )
            )
        cors = (
            [
                # Browsers (the console) PUT and GET presigned URLs from the stage's origins only.
                # The presigned signature is the credential, so no cookies: nothing needs '*'.
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods(m) for m in BUCKET_CORS_METHODS],
                    allowed_origins=list(self._allowed_origins),
                    allowed_headers=list(BUCKET_CORS_ALLOWED_HEADERS),
                    exposed_headers=list(BUCKET_CORS_EXPOSED_HEADERS),
                    max_age=BUCKET_CORS_MAX_AGE_SECONDS,
                )
            ]
            if spec.cors and self._allowed_origins
            else None
        )
        return s3.Bucket(
            self,
            spec.logical_name.capitalize(),
            bucket_name=spec.physical_name(stage, account, region),
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=spec.versioned,
            lifecycle_rules=rules,
            cors=cors,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{spec.logical_name}/",
            removal_policy=removal_policy,
        )

    @property
    def all(self) -> list[s3.Bucket]:
        return list(self.by_name.values())
