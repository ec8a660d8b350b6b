"""What moto cannot enforce, asserted on the template; and the checked-in role policies kept in step.

The integration suite runs every function under the statements in
sdk/stepstore/local/role_policies.json (moto enforcing IAM). These tests keep that file equal to
what the synthesized template grants, and cover what moto does not check: each function writing
its own log group (CloudWatch Logs is written by the Lambda service under the function's role),
X-Ray, and the dead-letter queue the Lambda service sends failed events to.
"""

from __future__ import annotations

import json

from infra.constants import Functions, name
from infra.role_policies import POLICIES_FILE, document, role_policies
from tests.infra.conftest import ACCOUNT, REGION, STAGE


def _policies(synthesized) -> dict:
    return role_policies(synthesized.raw, stage=STAGE, account=ACCOUNT, region=REGION)


def test_the_checked_in_role_policies_are_what_the_template_grants(synthesized):
    expected = document(synthesized.raw, stage=STAGE, account=ACCOUNT, region=REGION)
    assert json.loads(POLICIES_FILE.read_text()) == json.loads(expected), (
        "sdk/stepstore/local/role_policies.json is stale: run `make role-policies`"
    )


def _log_statements(statements: list[dict]) -> list[dict]:
    return [s for s in statements if any(a.startswith("logs:") for a in s["Action"])]


def test_each_function_may_write_its_own_log_group_and_no_other(synthesized):
    policies = _policies(synthesized)
    for key in Functions.HANDLERS:
        (statement,) = _log_statements(policies[key])
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
        log_group = "/aws/lambda/" + name("${Stage}", key)
        assert statement["Resource"] == [
            f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{log_group}:*"
        ], key


def test_each_log_grant_names_the_log_group_the_function_logs_to(synthesized):
    resources = synthesized.raw["Resources"]
    for function in synthesized.stack.functions.all:
        props = resources[synthesized.logical_id(function)]["Properties"]
        group = props["LoggingConfig"]["LogGroup"]["Ref"]
        role = props["Role"]["Fn::GetAtt"][0]
        granted = [
            statement["Resource"]
            for policy in synthesized.resources("AWS::IAM::Policy").values()
            if {"Ref": role} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if "logs:PutLogEvents" in statement["Action"]
        ]
        assert granted == [{"Fn::GetAtt": [group, "Arn"]}], props["FunctionName"]


def test_tracing_is_granted_only_its_two_actions(synthesized):
    for key, statements in _policies(synthesized).items():
        xray = {a for s in statements for a in s["Action"] if a.startswith("xray:")}
        assert xray == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, key


def test_only_the_event_functions_may_send_to_the_dead_letter_queue(synthesized):
    dlq = "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:" + name("${Stage}", "events-dlq")
    for key, statements in _policies(synthesized).items():
        queues = {
            r for s in statements if any(a.startswith("sqs:") for a in s["Action"]) for r in s["Resource"]
        }
        if key in (Functions.STREAM_PUBLISHER, Functions.S3_PUBLISHER, Functions.FIXTURE_TRIGGER):
            assert queues == {dlq}, key
        else:
            assert not queues, key
