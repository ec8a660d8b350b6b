"""The web console on AWS: its built files in a private S3 bucket, served by CloudFront through
origin access control, with a strict Content-Security-Policy; the console calls the API cross-origin.

The files come from ``sdk/stepstore/console_dist`` (``make console``); ``config.json`` beside them
tells the console where the API is. Without a build the bucket and distribution are still made and
synthesis warns, so infrastructure work never needs Node.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Annotations, Aws, DefaultStackSynthesizer, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra.constants import name
from infra.nag import acknowledge, finding_resource

CONSOLE_DIST = Path(__file__).resolve().parents[2] / "sdk" / "stepstore" / "console_dist"


def console_policy(api_origin: str, storage_origins: list[str]) -> str:
    """The same policy the local stack sends: no inline script, no eval; data from the API and the
    buckets' presigned URLs only."""
    storage = " ".join(storage_origins)
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: blob: {storage}",
            f"connect-src 'self' {api_origin} {storage}",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


class Console(Construct):
    """The console's bucket (private, encrypted, TLS only, access-logged), its CloudFront
    distribution (OAC, HTTPS only, security headers, access logs) and the deployment of its files.

    Attributes:
        url: the console's address, ``https://<distribution domain>``.
        origin: the same, as the API's CORS allowed origin.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        account: str,
        api_url: str,
        api_id: str,
        storage_buckets: list[s3.IBucket],
        access_logs: s3.IBucket,
        removal_policy: RemovalPolicy,
        dist: Path = CONSOLE_DIST,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Files",
            bucket_name=name(stage, f"console-{account}-{Stack.of(self).region}"),
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="console/",
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-old-builds", noncurrent_version_expiration=Duration.days(30))
            ],
            removal_policy=RemovalPolicy.DESTROY,
            auto_delete_objects=False,
        )
        api_origin = f"https://{api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}"
        storage = [f"https://{b.bucket_regional_domain_name}" for b in storage_buckets] + [
            f"https://{b.bucket_domain_name}" for b in storage_buckets
        ]
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "Headers",
            response_headers_policy_name=name(stage, "console-headers"),
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=console_policy(api_origin, storage), override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365), include_subdomains=True, override=True
                ),
            ),
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"StepStore console ({stage})",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                compress=True,
            ),
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=access_logs,
            log_file_prefix="cloudfront-console/",
        )
        self.url = f"https://{self.distribution.distribution_domain_name}"
        self.origin = self.url
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "The console is static files for signed-in users; who may use it is decided by the API's "
            "tokens, not by the visitor's country.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR2",
            "WAF is not part of this stack (as for the API, see the README): attach a web ACL where needed. "
            "The distribution serves only static files; every data request goes to the API.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "The distribution uses CloudFront's default certificate, on which CloudFront negotiates "
            "TLSv1 for old clients; a custom domain with an ACM certificate applies TLSv1.2_2021 "
            "as set here.",
        )
        self._deploy(dist, api_url)

    def _deploy(self, dist: Path, api_url: str) -> None:
        if not (dist / "index.html").is_file():
            Annotations.of(self).add_warning_v2(
                "stepstore:console-not-built",
                f"The web console is not built ({dist} has no index.html): run `make console` before "
                "deploying, or the distribution serves nothing.",
            )
            return
        deployment = s3deploy.BucketDeployment(
            self,
            "Deploy",
            sources=[
                s3deploy.Source.asset(str(dist), exclude=["config.json"]),
                s3deploy.Source.json_data("config.json", {"apiUrl": api_url}),
            ],
            destination_bucket=self.bucket,
            distribution=self.distribution,
            distribution_paths=["/index.html", "/config.json", "/favicon.svg"],
            prune=True,
            memory_limit=512,
        )
        stack = Stack.of(self)
        handlers = [c for c in stack.node.children if c.node.id.startswith("Custom::CDKBucketDeployment")]
        assets_bucket = (
            DefaultStackSynthesizer.DEFAULT_FILE_ASSETS_BUCKET_NAME.replace(
                "${Qualifier}", DefaultStackSynthesizer.DEFAULT_QUALIFIER
            )
            .replace("${AWS::AccountId}", stack.account)
            .replace("${AWS::Region}", stack.region)
        )
        copies = {
            "Action::s3:GetBucket*": "reads the CDK asset bucket that holds the build",
            "Action::s3:GetObject*": "reads the build's files from the CDK asset bucket",
            "Action::s3:List*": "lists the console bucket to prune files of older builds",
            "Action::s3:Abort*": "writes the build's files into the console bucket",
            "Action::s3:DeleteObject*": "prunes files of older builds from the console bucket",
            f"Resource::{finding_resource(self, f'arn:{stack.partition}:s3:::{assets_bucket}/*')}": (
                "reads the build from the CDK asset bucket"
            ),
            f"Resource::{finding_resource(self, f'{self.bucket.bucket_arn}/*')}": (
                "writes every file of the build into the console bucket"
            ),
            "Resource::*": "invalidates the distribution's cache (CloudFront has no finer resource for it)",
        }
        for handler in handlers:
            acknowledge(
                handler,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole]",
                "CDK's BucketDeployment handler runs with AWSLambdaBasicExecutionRole (its own logs only).",
            )
            acknowledge(
                handler,
                "AwsSolutions-L1",
                "The BucketDeployment handler's runtime is chosen by the CDK release, not by this app.",
            )
            for finding, why in copies.items():
                acknowledge(
                    handler, f"AwsSolutions-IAM5[{finding}]", f"CDK's BucketDeployment handler {why}."
                )
        self.deployment = deployment
