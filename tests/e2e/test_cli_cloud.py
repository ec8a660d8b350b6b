"""`stepstore cloud env` and `stepstore cloud create-user` against a stack's outputs, with moto's
CloudFormation standing in for the deployed stack and the local stack's tables as its tables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import boto3
import requests

STEPSTORE = [sys.executable, "-m", "stepstore.cli"]


def _deploy_outputs(stack, name: str) -> None:
    """A CloudFormation stack in moto whose outputs name the local stack's resources."""
    from stepstore.local.stack import STAGE
    from stepstore_functions.resources import Deployment

    env = Deployment(stage=STAGE).environment()
    outputs = {
        "ApiUrl": stack.api_url + "/",
        "Stage": STAGE,
        "Region": "us-east-1",
        "MetadataTable": env["METADATA_TABLE"],
        "LinksTable": env["LINKS_TABLE"],
        "DataBucket": env["DATA_BUCKET"],
        "AssetsBucket": env["ASSETS_BUCKET"],
        "FixturesBucket": env["FIXTURES_BUCKET"],
        "SecretsPrefix": env["SECRETS_PREFIX"],
    }
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    cloudformation = boto3.client(
        "cloudformation", endpoint_url=stack.aws_endpoint_url, region_name="us-east-1"
    )
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))


def _cli_env(stack) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STEPSTORE_", "METADATA_", "LINKS_"))
    }
    env.update(
        AWS_ENDPOINT_URL=stack.aws_endpoint_url,
        # The local stack enforces IAM: the CLI acts as its operator, as a deployer would with their own keys.
        AWS_ACCESS_KEY_ID=stack.principals.operator.access_key,
        AWS_SECRET_ACCESS_KEY=stack.principals.operator.secret_key,
        AWS_SESSION_TOKEN=stack.principals.operator.token,
        AWS_DEFAULT_REGION="us-east-1",
        POWERTOOLS_TRACE_DISABLED="true",
    )
    return env


def test_env_prints_the_api_url_and_create_user_bootstraps_an_admin_whose_token_works(stack):
    # Given a deployed stack (its outputs) and no admin token in hand
    _deploy_outputs(stack, "StepStore-e2e")
    env = _cli_env(stack)

    # When the operator reads the environment and creates the first admin
    printed = subprocess.run(
        [*STEPSTORE, "cloud", "env", "--stack", "StepStore-e2e"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    created = subprocess.run(
        [*STEPSTORE, "cloud", "create-user", f"ops-{uuid.uuid4().hex[:8]}", "--stack", "StepStore-e2e"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )

    # Then the export lines name the API, and the printed token is an admin's on that API
    assert printed.returncode == 0, printed.stderr
    assert f"export STEPSTORE_API_URL={stack.api_url}" in printed.stdout.splitlines()
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("sst_")
    response = requests.post(
        f"{stack.api_url}/users",
        json={"name": f"by-bootstrap-{uuid.uuid4().hex[:8]}", "role": "user"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def test_an_unknown_stack_is_a_clear_error(stack):
    result = subprocess.run(
        [*STEPSTORE, "cloud", "env", "--stack", "NoSuchStack"],
        capture_output=True,
        text=True,
        env=_cli_env(stack),
        timeout=120,
    )
    assert result.returncode == 1
    assert "NoSuchStack" in result.stderr and "does not exist" in result.stderr
