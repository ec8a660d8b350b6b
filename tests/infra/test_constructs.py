"""CDK assertions on each construct: functions, API, connections scope, events, monitoring."""

from __future__ import annotations

import json

from aws_cdk.assertions import Match

from infra.constants import (
    AUTHORIZER_CACHE_SECONDS,
    Functions,
    Outputs,
)
from stepstore_functions.events.schema import event_bus_name
from stepstore_functions.handlers.api import PUBLIC_ROUTES
from stepstore_functions.triggers import fixture_flow
from tests.infra.conftest import ACCOUNT, REGION, STAGE


def _statements(synthesized, role_logical_id: str) -> list[dict]:
    statements = []
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def _actions(statements: list[dict]) -> set[str]:
    found = set()
    for statement in statements:
        actions = statement["Action"]
        found.update([actions] if isinstance(actions, str) else actions)
    return found


def test_each_function_runs_arm64_traced_with_the_powertools_layer_its_own_role_and_log_group(synthesized):
    functions = {
        f["Properties"]["FunctionName"]: f["Properties"]
        for f in synthesized.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("FunctionName", "").startswith("stepstore-")
    }
    assert set(functions) == {f"stepstore-{STAGE}-{key}" for key in Functions.HANDLERS}
    roles = set()
    for key, handler in Functions.HANDLERS.items():
        function = functions[f"stepstore-{STAGE}-{key}"]
        assert function["Handler"] == handler
        assert function["Architectures"] == ["arm64"]
        assert function["Runtime"].startswith("python3.")
        assert function["TracingConfig"] == {"Mode": "Active"}
        assert "AWSLambdaPowertoolsPythonV3-python3" in json.dumps(function["Layers"])
        assert "-arm64:" in json.dumps(function["Layers"])
        roles.add(function["Role"]["Fn::GetAtt"][0])
        log_group = function["LoggingConfig"]["LogGroup"]["Ref"]
        assert synthesized.raw["Resources"][log_group]["Properties"]["RetentionInDays"] == 30
    assert len(roles) == len(Functions.HANDLERS)  # one role per function


def test_the_authorizer_may_only_read_the_metadata_table(synthesized):
    stack = synthesized.stack
    role = synthesized.logical_id(stack.functions.authorizer.role)
    statements = _statements(synthesized, role)
    dynamodb = [s for s in statements if any(a.startswith("dynamodb:") for a in _actions([s]))]
    assert _actions(dynamodb) == {"dynamodb:DescribeTable", "dynamodb:GetItem"}
    metadata = synthesized.logical_id(stack.tables.by_name["metadata"])
    assert dynamodb[0]["Resource"] == {"Fn::GetAtt": [metadata, "Arn"]}
    assert not any(a.startswith(("s3:", "secretsmanager:", "events:")) for a in _actions(statements))


def test_only_the_api_manages_connection_secrets_and_only_under_the_stage_prefix(synthesized):
    stack = synthesized.stack
    for function in stack.functions.all:
        actions = _actions(_statements(synthesized, synthesized.logical_id(function.role)))
        secret_writes = {
            a
            for a in actions
            if a.startswith("secretsmanager:")
            and a not in ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret")
        }
        if function is stack.functions.api:
            assert "secretsmanager:CreateSecret" in secret_writes
        else:
            assert not secret_writes
    api_statements = _statements(synthesized, synthesized.logical_id(stack.functions.api.role))
    (secrets,) = [s for s in api_statements if "secretsmanager:CreateSecret" in _actions([s])]
    assert (
        secrets["Resource"]
        == f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:stepstore/{STAGE}/connections/*"
    )


def test_no_function_is_granted_a_wildcard_action(synthesized):
    for function in synthesized.stack.functions.all:
        for action in _actions(_statements(synthesized, synthesized.logical_id(function.role))):
            assert action != "*" and not action.endswith(":*"), action


def test_the_api_may_delete_every_version_of_an_asset_object(synthesized):
    # delete_asset lists the versions of a versioned object and deletes each (moto enforces no IAM).
    api_role = synthesized.logical_id(synthesized.stack.functions.api.role)
    actions = _actions(_statements(synthesized, api_role))
    assert {"s3:ListBucketVersions", "s3:DeleteObjectVersion", "s3:PutObjectTagging"} <= actions


def test_the_trigger_reads_only_fixtures_and_its_token(synthesized):
    stack = synthesized.stack
    statements = _statements(synthesized, synthesized.logical_id(stack.functions.fixture_trigger.role))
    s3 = [s for s in statements if any(a.startswith("s3:") for a in _actions([s]))]
    assert _actions(s3) == {"s3:GetObject", "s3:GetObjectVersion"}
    assert json.dumps(s3[0]["Resource"]).endswith('/fixture/*"]]}')
    assert "dynamodb:PutItem" not in _actions(statements)
    env = synthesized.raw["Resources"][synthesized.logical_id(stack.functions.fixture_trigger)]["Properties"][
        "Environment"
    ]["Variables"]
    assert env["STEPSTORE_TOKEN_SECRET_ARN"] == {
        "Ref": synthesized.logical_id(stack.connections.trigger_token)
    }
    assert "STEPSTORE_API_URL" in env and "STEPSTORE_TOKEN" not in env


def test_api_has_the_token_authorizer_on_every_route_but_the_public_ones(synthesized):
    template = synthesized.template
    template.has_resource_properties(
        "AWS::ApiGateway::Authorizer",
        {
            "Type": "TOKEN",
            "IdentitySource": "method.request.header.Authorization",
            "AuthorizerResultTtlInSeconds": AUTHORIZER_CACHE_SECONDS,
        },
    )
    resources = synthesized.resources("AWS::ApiGateway::Resource")
    paths = {k: r["Properties"]["PathPart"] for k, r in resources.items()}
    methods = synthesized.resources("AWS::ApiGateway::Method").values()
    public = {(m, p.strip("/")) for m, p in PUBLIC_ROUTES}
    seen_public = set()
    for method in methods:
        props = method["Properties"]
        resource = props["ResourceId"]
        path = paths.get(resource.get("Ref"), "") if isinstance(resource, dict) else ""
        if (props["HttpMethod"], path) in public:
            assert props["AuthorizationType"] == "NONE"
            seen_public.add((props["HttpMethod"], path))
        elif props["HttpMethod"] == "OPTIONS":  # CORS preflight, answered by API Gateway itself
            assert props["AuthorizationType"] == "NONE"
            assert props["Integration"]["Type"] == "MOCK"
        else:
            assert props["AuthorizationType"] == "CUSTOM"
            assert "AuthorizerId" in props
    assert seen_public == public
    assert any(p == "{proxy+}" for p in paths.values())


def test_api_stage_throttles_and_writes_json_access_logs(synthesized):
    (stage,) = synthesized.resources("AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == STAGE
    assert props["TracingEnabled"] is True
    (settings,) = props["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == synthesized.stack.settings.throttle_rate_limit
    assert settings["ThrottlingBurstLimit"] == synthesized.stack.settings.throttle_burst_limit
    assert settings["DataTraceEnabled"] is False
    access_format = json.loads(props["AccessLogSetting"]["Format"])
    for field in ("requestId", "httpMethod", "path", "status", "responseLatency", "principal"):
        assert field in access_format
    synthesized.template.has_resource_properties(
        "AWS::ApiGateway::RestApi", {"Name": f"stepstore-{STAGE}-api"}
    )


def test_gateway_errors_answer_in_the_apis_json_shape(synthesized):
    responses = {
        r["Properties"]["ResponseType"]: json.loads(r["Properties"]["ResponseTemplates"]["application/json"])
        for r in synthesized.resources("AWS::ApiGateway::GatewayResponse").values()
    }
    assert responses["UNAUTHORIZED"] == {"error": "unauthorized", "message": "Unauthorized", "field": None}
    assert set(responses) == {
        "UNAUTHORIZED",
        "ACCESS_DENIED",
        "THROTTLED",
        "REQUEST_TOO_LARGE",
        "DEFAULT_4XX",
        "DEFAULT_5XX",
    }
    assert all(set(body) == {"error", "message", "field"} for body in responses.values())


def test_streams_and_fixture_notifications_feed_the_publishers(synthesized):
    stack = synthesized.stack
    publisher = synthesized.logical_id(stack.functions.stream_publisher)
    mappings = synthesized.resources("AWS::Lambda::EventSourceMapping").values()
    assert len(mappings) == 2
    for mapping in mappings:
        props = mapping["Properties"]
        assert props["FunctionName"] == {"Ref": publisher}
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["BisectBatchOnFunctionError"] is True
        assert "OnFailure" in props["DestinationConfig"]
        assert props["FilterCriteria"]["Filters"]
    synthesized.template.has_resource_properties(
        "Custom::S3BucketNotifications",
        {
            "NotificationConfiguration": {
                "LambdaFunctionConfigurations": [
                    Match.object_like(
                        {
                            "Events": ["s3:ObjectCreated:*"],
                            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "fixture/"}]}},
                        }
                    )
                ]
            }
        },
    )
    for function in (stack.functions.stream_publisher, stack.functions.s3_publisher):
        env = synthesized.raw["Resources"][synthesized.logical_id(function)]["Properties"]["Environment"]
        assert env["Variables"]["EVENT_BUS_NAME"] == {"Ref": synthesized.logical_id(stack.events.bus)}


def test_the_trigger_rule_uses_the_same_pattern_as_the_local_stack(synthesized):
    synthesized.template.has_resource_properties("AWS::Events::EventBus", {"Name": event_bus_name(STAGE)})
    (rule,) = synthesized.resources("AWS::Events::Rule").values()
    props = rule["Properties"]
    assert props["EventPattern"] == fixture_flow.RULE_PATTERN
    (target,) = props["Targets"]
    assert target["Arn"] == {
        "Fn::GetAtt": [synthesized.logical_id(synthesized.stack.functions.fixture_trigger), "Arn"]
    }
    assert "DeadLetterConfig" in target


def test_monitoring_alarms_go_to_an_encrypted_topic(synthesized):
    topic = synthesized.logical_id(synthesized.stack.monitoring.topic)
    alarms = [a["Properties"] for a in synthesized.resources("AWS::CloudWatch::Alarm").values()]
    names = {a["AlarmName"] for a in alarms}
    for expected in ("api5xx-rate", "api-p99-latency", "stream-iterator-age", "event-dead-letters"):
        assert f"stepstore-{STAGE}-{expected}" in names
    for key in Functions.HANDLERS:
        short = "".join(part.capitalize() for part in key.split("-"))
        assert any(n.endswith("-errors") and short.lower() in n.replace("-", "") for n in names), key
        assert any(n.endswith("-throttles") and short.lower() in n.replace("-", "") for n in names), key
    assert {
        f"stepstore-{STAGE}-metadata-table-throttles",
        f"stepstore-{STAGE}-links-table-throttles",
    } <= names
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": topic}]
    synthesized.template.has_resource_properties(
        "AWS::SNS::Topic", {"TopicName": f"stepstore-{STAGE}-alarms", "KmsMasterKeyId": Match.any_value()}
    )
    synthesized.template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    (dashboard,) = synthesized.resources("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == f"stepstore-{STAGE}-operations"
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in ("5XXError", "Latency", "Duration", "Throttles", "ThrottleEvents", "BucketSizeBytes"):
        assert metric in body


NAME_PROPERTIES = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::ApiGateway::RestApi": "Name",
    "AWS::ApiGateway::Authorizer": "Name",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::KMS::Alias": "AliasName",
}


def test_every_named_resource_carries_the_stage(synthesized):
    checked = 0
    for logical_id, resource in synthesized.raw["Resources"].items():
        key = NAME_PROPERTIES.get(resource["Type"])
        if key is None or logical_id.startswith(
            ("BucketNotificationsHandler", "ApiRestApiCloudWatchRole", "CustomCDKBucketDeployment")
        ):
            continue  # CDK's own deploy-time handlers and the account-wide API Gateway logging role
        value = resource["Properties"].get(key)
        assert isinstance(value, str), f"{logical_id} ({resource['Type']}) has no fixed {key}"
        assert STAGE in value.split("-") or f"/{STAGE}/" in value or f"-{STAGE}-" in value, (
            logical_id,
            value,
        )
        checked += 1
    assert checked >= 40


def test_outputs_give_everything_the_sdk_and_operators_need(synthesized):
    from stepstore.cli_cloud import OUTPUT_ENVIRONMENT

    keys = {v for k, v in vars(Outputs).items() if k.isupper()}
    assert set(synthesized.raw["Outputs"]) >= keys
    assert set(OUTPUT_ENVIRONMENT) == keys  # `stepstore cloud env` knows every output
    assert OUTPUT_ENVIRONMENT[Outputs.API_URL] == "STEPSTORE_API_URL"
