"""`stepstore cloud env`: a deployed stack's outputs become the SDK's environment."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from stepstore import cli
from stepstore.cli_cloud import StackNotFoundError, environment_from_outputs, stack_outputs

OUTPUTS = {
    "ApiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/prod/",
    "Stage": "prod",
    "Region": "eu-west-1",
    "MetadataTable": "stepstore-prod-metadata",
    "FixturesBucket": "stepstore-prod-fixtures-123456789012",
    "SomethingElse": "ignored",
}


def _cloudformation(outputs=None, error=None):
    client = boto3.client(
        "cloudformation", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    if error:
        stubber.add_client_error(
            "describe_stacks", service_error_code="ValidationError", service_message=error
        )
    else:
        stack = {
            "StackName": "StepStore-prod",
            "CreationTime": "2026-01-01T00:00:00Z",
            "StackStatus": "CREATE_COMPLETE",
            "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in (outputs or {}).items()],
        }
        stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "StepStore-prod"})
    stubber.activate()
    return client


def test_outputs_become_the_environment_the_sdk_reads():
    env = environment_from_outputs(stack_outputs("StepStore-prod", _cloudformation(OUTPUTS)))
    assert env["STEPSTORE_API_URL"] == "https://abc.execute-api.eu-west-1.amazonaws.com/prod"
    assert env["METADATA_TABLE"] == "stepstore-prod-metadata"
    assert env["AWS_REGION"] == "eu-west-1"
    assert "SomethingElse" not in env.values() and "ignored" not in env.values()


def test_a_missing_stack_or_a_stack_without_an_api_is_a_clear_error():
    with pytest.raises(StackNotFoundError, match="does not exist"):
        stack_outputs("StepStore-prod", _cloudformation(error="Stack with id StepStore-prod does not exist"))
    with pytest.raises(StackNotFoundError, match="no ApiUrl output"):
        stack_outputs("StepStore-prod", _cloudformation({"Stage": "prod"}))


def test_the_command_prints_quoted_export_lines(monkeypatch, capsys):
    monkeypatch.setattr(
        "stepstore.cli_cloud.stack_outputs", lambda name, client: {**OUTPUTS, "Stage": "it's"}
    )
    assert cli.main(["cloud", "env", "--stack", "StepStore-prod", "--region", "eu-west-1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "export STEPSTORE_API_URL=https://abc.execute-api.eu-west-1.amazonaws.com/prod" in lines
    assert "export STEPSTORE_STAGE='it'\"'\"'s'" in lines
    assert not any(line.startswith("export STEPSTORE_TOKEN") for line in lines)
