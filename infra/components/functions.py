"""The Lambda functions: one code asset, the Powertools layer, one least-privilege role each.

Every function gets the stage's resource names (Deployment(stage).environment(), read once by
stepstore_functions.settings), arm64, active tracing, and a log group of its own with a
retention, which its role may write to and nothing else of the kind.
"""

from __future__ import annotations

from aws_cdk import Aws, CfnCondition, Duration, Fn, RemovalPolicy, Stack, Token
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.components.code import function_code
from infra.components.connections import Connections
from infra.constants import (
    POWERTOOLS_LAYER_ACCOUNT,
    POWERTOOLS_LAYER_ACCOUNTS,
    PYTHON_VERSION,
    name,
)
from infra.constants import (
    Functions as Names,
)
from infra.nag import acknowledge, finding_resource
from infra.settings import StageSettings
from stepstore_functions.resources import FIXTURE_PREFIX, Deployment

RUNTIME = lambda_.Runtime(f"python{PYTHON_VERSION}", lambda_.RuntimeFamily.PYTHON)

# pynamodb reads the table description; transactions need the per-item actions, not an action of their own.
TABLE_READ_ACTIONS = ("dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")
TABLE_WRITE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)
# Presigned uploads (single and multipart, tagged as staging), commit tagging, reads, deletes.
OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectTagging",
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:DeleteObject",
    # The assets bucket is versioned: deleting an asset removes every version of its object.
    "s3:DeleteObjectVersion",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)


def powertools_layer_account(region: str) -> str:
    """The account that publishes the Powertools layer in `region`."""
    return POWERTOOLS_LAYER_ACCOUNTS.get(region, POWERTOOLS_LAYER_ACCOUNT)


def powertools_layer_arn(version: int, *, region: str, partition: str, account: str | None = None) -> str:
    """The public Powertools for AWS Lambda (Python) v3 layer (this runtime, arm64) in `region`."""
    runtime = f"python{PYTHON_VERSION.replace('.', '')}"
    account = account or powertools_layer_account(region)
    layer = f"AWSLambdaPowertoolsPythonV3-{runtime}-arm64"
    return f"arn:{partition}:lambda:{region}:{account}:layer:{layer}:{version}"


def _layer_account_for_any_region(scope: Construct) -> str:
    """For an environment-agnostic stack: the publishing account chosen at deploy time by region."""
    account: str = POWERTOOLS_LAYER_ACCOUNT
    for index, (region, publisher) in enumerate(sorted(POWERTOOLS_LAYER_ACCOUNTS.items())):
        condition = CfnCondition(
            scope, f"PowertoolsLayerIn{index}", expression=Fn.condition_equals(Aws.REGION, region)
        )
        account = Fn.condition_if(condition.logical_id, publisher, account).to_string()
    return account


class Functions(Construct):
    """api, authorizer, stream publisher, S3-notification publisher and the example fixture trigger."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        account: str,
        tables: dict[str, dynamodb.Table],
        buckets: dict[str, s3.Bucket],
        connections: Connections,
        powertools_layer_version: int,
        settings: StageSettings,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        self.settings = settings
        self._removal_policy = removal_policy
        self._code = function_code()
        stack = Stack.of(self)
        concrete = not Token.is_unresolved(stack.region)
        self._layer = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "PowertoolsLayer",
            powertools_layer_arn(
                powertools_layer_version,
                region=stack.region,
                partition=stack.partition,
                account=None if concrete else _layer_account_for_any_region(self),
            ),
        )
        self._environment = {
            **Deployment(stage=stage, account=account, region=Stack.of(self).region).environment(),
            "POWERTOOLS_METRICS_NAMESPACE": "StepStore",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            # The API answers browsers from these origins only (CORS); none set: no browser access.
            "STEPSTORE_ALLOWED_ORIGINS": ",".join(settings.allowed_origins),
            # Buckets beyond the fixtures bucket that get_s3_asset may read (granted below).
            "STEPSTORE_READABLE_BUCKETS": ",".join(settings.readable_buckets),
        }
        metadata, links = tables["metadata"], tables["links"]
        data, assets, fixtures = buckets["data"], buckets["assets"], buckets["fixtures"]

        self.api = self._function(
            Names.API,
            "StepStore API: every route behind API Gateway",
            timeout=Duration.seconds(29),
        )
        for table in (metadata, links):
            self._grant_table(self.api, table, write=True)
        for bucket in (data, assets, fixtures):
            self._grant_objects(self.api, bucket)
        connections.grant_connection_secrets(self.api.role)
        for index, bucket_name in enumerate(settings.readable_buckets):
            readable = s3.Bucket.from_bucket_name(self, f"ReadableBucket{index}", bucket_name)
            self.api.add_to_role_policy(
                iam.PolicyStatement(actions=["s3:GetObject"], resources=[readable.arn_for_objects("*")])
            )
            self.api.add_to_role_policy(
                iam.PolicyStatement(actions=["s3:ListBucket"], resources=[readable.bucket_arn])
            )
            acknowledge(
                self.api.role,
                f"AwsSolutions-IAM5[Resource::{finding_resource(self, readable.arn_for_objects('*'))}]",
                f"get_s3_asset reads objects of {bucket_name}, which the stage settings list as readable.",
            )

        self.authorizer = self._function(
            Names.AUTHORIZER, "StepStore TOKEN authorizer", timeout=Duration.seconds(10)
        )
        self.authorizer.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:DescribeTable", "dynamodb:GetItem"], resources=[metadata.table_arn]
            )
        )

        self.stream_publisher = self._function(
            Names.STREAM_PUBLISHER,
            "StepStore events from the tables' streams to the bus",
            timeout=Duration.seconds(60),
        )
        self.s3_publisher = self._function(
            Names.S3_PUBLISHER,
            "StepStore FixtureUploaded events from S3 notifications to the bus",
            timeout=Duration.seconds(30),
        )

        self.fixture_trigger = self._function(
            Names.FIXTURE_TRIGGER,
            "Example event-driven flow: ingest and summarise each uploaded fixture",
            timeout=Duration.minutes(5),
        )
        fixture_objects = fixtures.arn_for_objects(f"{FIXTURE_PREFIX}*")
        self.fixture_trigger.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[fixture_objects],
            )
        )
        acknowledge(
            self.fixture_trigger.role,
            f"AwsSolutions-IAM5[Resource::{finding_resource(self, fixture_objects)}]",
            "The trigger reads whichever fixture was uploaded: objects under the fixture area of the "
            "fixtures bucket only.",
        )
        connections.trigger_token.grant_read(self.fixture_trigger)
        self.fixture_trigger.add_environment(
            "STEPSTORE_TOKEN_SECRET_ARN", connections.trigger_token.secret_arn
        )

        self.all = [self.api, self.authorizer, self.stream_publisher, self.s3_publisher, self.fixture_trigger]
        for function in self.all:
            # X-Ray's PutTraceSegments/PutTelemetryRecords have no resource-level permissions.
            acknowledge(
                function.role,
                "AwsSolutions-IAM5[Resource::*]",
                "Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which AWS only "
                "grants on Resource '*' (X-Ray has no resource-level permissions).",
            )

    def _function(self, key: str, description: str, *, timeout: Duration) -> lambda_.Function:
        function_name = name(self.stage, key)
        construct_id = "".join(part.capitalize() for part in key.split("-"))
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=self.settings.log_retention(),
            removal_policy=self._removal_policy,
        )
        role = iam.Role(
            self,
            f"{construct_id}Role",
            role_name=f"{function_name}-role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{function_name}: least privilege for this function only",
        )
        function = lambda_.Function(
            self,
            construct_id,
            function_name=function_name,
            description=description,
            code=self._code,
            handler=Names.HANDLERS[key],
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            memory_size=self.settings.memory.for_function(key),
            timeout=timeout,
            role=role,
            layers=[self._layer],
            environment=dict(self._environment),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
        )
        # A custom role has no AWSLambdaBasicExecutionRole: without this the function writes no logs and
        # no EMF metrics. logs:CreateLogStream and logs:PutLogEvents on its own log group, nothing more.
        log_group.grant_write(role)
        return function

    @staticmethod
    def _grant_table(function: lambda_.Function, table: dynamodb.Table, *, write: bool) -> None:
        actions = TABLE_READ_ACTIONS + (TABLE_WRITE_ACTIONS if write else ())
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=list(actions), resources=[table.table_arn, f"{table.table_arn}/index/*"]
            )
        )
        acknowledge(
            function.role,
            f"AwsSolutions-IAM5[Resource::{finding_resource(table, f'{table.table_arn}/index/*')}]",
            "Queries by the table's own global secondary indexes (gsi1, gsi2): any index of this table only.",
        )

    @staticmethod
    def _grant_objects(function: lambda_.Function, bucket: s3.Bucket) -> None:
        function.add_to_role_policy(
            iam.PolicyStatement(actions=list(OBJECT_ACTIONS), resources=[bucket.arn_for_objects("*")])
        )
        # Listing (fixtures), listing an asset's object versions to delete them, and telling a missing
        # object (404) from a forbidden one (403).
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket", "s3:ListBucketVersions"], resources=[bucket.bucket_arn]
            )
        )
        acknowledge(
            function.role,
            f"AwsSolutions-IAM5[Resource::{finding_resource(bucket, bucket.arn_for_objects('*'))}]",
            "Keys are made per flow, step, asset and upload at run time: any object of this one bucket.",
        )
