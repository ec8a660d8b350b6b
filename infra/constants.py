"""Every resource name, output key and tunable of the CDK app, in one place.

Physical names carry the deployment stage, so several stages can live in one account. Table,
bucket and secret names come from functions/stepstore_functions/resources.py, the spec that the
local stack provisions from too.
"""

from __future__ import annotations

from stepstore_functions.events.schema import event_bus_name
from stepstore_functions.resources import PROJECT

STACK_ID_PREFIX = "StepStore"

# CDK feature flags this app is written for; the app sets them itself, so `cdk synth`, `python -m
# infra.app` and the tests synthesize the same template.
FEATURE_FLAGS = {
    "@aws-cdk/core:checkSecretUsage": True,
    "@aws-cdk/core:enablePartitionLiterals": True,
    "@aws-cdk/aws-iam:minimizePolicies": True,
    "@aws-cdk/aws-lambda:recognizeLayerVersion": True,
    "@aws-cdk/aws-apigateway:disableCloudWatchRole": True,
    # Grant log delivery through the bucket policy, not the legacy AccessControl ACL.
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
    "@aws-cdk/aws-sns:enforceSslForTopics": True,
}
DEFAULT_STAGE = "dev"

# Lambda
PYTHON_VERSION = "3.14"
# The public Powertools for AWS Lambda (Python) v3 layer (-c powertools_layer_version=N). Commercial
# regions publish it from one account; GovCloud and China from their own (per region).
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
POWERTOOLS_LAYER_ACCOUNTS = {
    "us-gov-east-1": "165087284144",
    "us-gov-west-1": "165093116878",
    "cn-north-1": "498634801083",
}
POWERTOOLS_LAYER_VERSION = 38
# The Powertools release that layer version carries; the `api` extra pins the same one, so the tests run
# what the layer runs (tests/infra/test_bundle.py). Move the two together.
POWERTOOLS_VERSION_IN_LAYER = "3.37.0"
# What the functions need beyond the runtime and the layer is pinned with hashes in
# functions/requirements.lock (`make lock`), installed by infra/bundle.py.

# API Gateway (throttling, origins, memory, retention and alarm thresholds are stage settings:
# infra/settings.py and infra/stages/<stage>.json)
AUTHORIZER_CACHE_SECONDS = 300  # as the local gateway caches


def name(stage: str, what: str) -> str:
    """The physical name of one of the stage's resources: ``stepstore-<stage>-<what>``."""
    return f"{PROJECT}-{stage}-{what}"


def stack_id(stage: str) -> str:
    return f"{STACK_ID_PREFIX}-{stage}"


class Functions:
    """Logical function names (and their handlers)."""

    API = "api"
    AUTHORIZER = "authorizer"
    STREAM_PUBLISHER = "stream-events"
    S3_PUBLISHER = "s3-events"
    FIXTURE_TRIGGER = "fixture-trigger"

    HANDLERS = {
        API: "stepstore_functions.handlers.api.lambda_handler",
        AUTHORIZER: "stepstore_functions.handlers.authorizer.lambda_handler",
        STREAM_PUBLISHER: "stepstore_functions.events.stream.lambda_handler",
        S3_PUBLISHER: "stepstore_functions.events.s3_notifications.lambda_handler",
        FIXTURE_TRIGGER: "stepstore_functions.triggers.fixture_flow.lambda_handler",
    }


def bus_name(stage: str) -> str:
    return event_bus_name(stage)


class Outputs:
    """Stack output keys; `stepstore cloud env` reads them back."""

    API_URL = "ApiUrl"
    STAGE = "Stage"
    REGION = "Region"
    METADATA_TABLE = "MetadataTable"
    LINKS_TABLE = "LinksTable"
    DATA_BUCKET = "DataBucket"
    ASSETS_BUCKET = "AssetsBucket"
    FIXTURES_BUCKET = "FixturesBucket"
    SECRETS_PREFIX = "SecretsPrefix"
    EVENT_BUS_NAME = "EventBusName"
    TRIGGER_TOKEN_SECRET = "TriggerTokenSecretArn"
    ALARM_TOPIC = "AlarmTopicArn"
    DASHBOARD = "DashboardName"
    CONSOLE_URL = "ConsoleUrl"
