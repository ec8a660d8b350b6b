"""CLI: commands for a deployed (CDK) stack.

``stepstore cloud env --stack StepStore-prod`` reads the stack's outputs and prints the
environment that the SDK, the CLI and operators use with that deployment, as shell exports::

    eval "$(stepstore cloud env --stack StepStore-prod)"
    export STEPSTORE_TOKEN=sst_...   # your token: never in stack outputs

``stepstore cloud create-user --stack StepStore-prod ops-admin`` creates the first admin (or a
service user for the event-driven flows) straight in the deployment's tables, with the caller's
AWS credentials, and prints its token once: the bootstrap step, when no admin token exists yet.

They need AWS credentials (cloudformation:DescribeStacks; DynamoDB writes on the metadata table
for create-user) and the ``api`` extra (boto3, pynamodb).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

# Stack output key (infra/constants.py Outputs) -> the environment variable it becomes.
# STEPSTORE_API_URL is what the SDK reads; the others are for operators and scripts.
OUTPUT_ENVIRONMENT = {
    "ApiUrl": "STEPSTORE_API_URL",
    "Stage": "STEPSTORE_STAGE",
    "Region": "AWS_REGION",
    "MetadataTable": "METADATA_TABLE",
    "LinksTable": "LINKS_TABLE",
    "DataBucket": "DATA_BUCKET",
    "AssetsBucket": "ASSETS_BUCKET",
    "FixturesBucket": "FIXTURES_BUCKET",
    "SecretsPrefix": "SECRETS_PREFIX",
    "EventBusName": "EVENT_BUS_NAME",
    "TriggerTokenSecretArn": "STEPSTORE_TRIGGER_TOKEN_SECRET_ARN",
    "AlarmTopicArn": "STEPSTORE_ALARM_TOPIC_ARN",
    "DashboardName": "STEPSTORE_DASHBOARD",
    "ConsoleUrl": "STEPSTORE_CONSOLE_URL",
}


class StackNotFoundError(LookupError):
    """The stack does not exist in that account and region, or has no StepStore outputs."""


def environment_from_outputs(outputs: dict[str, str]) -> dict[str, str]:
    """The environment a deployment's stack outputs describe (unknown outputs are left out)."""
    env = {OUTPUT_ENVIRONMENT[key]: value for key, value in outputs.items() if key in OUTPUT_ENVIRONMENT}
    if "STEPSTORE_API_URL" in env:
        env["STEPSTORE_API_URL"] = env["STEPSTORE_API_URL"].rstrip("/")
    return env


def stack_outputs(stack_name: str, cloudformation: Any) -> dict[str, str]:
    """The outputs of `stack_name`, as {OutputKey: OutputValue}."""
    from botocore.exceptions import ClientError

    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        raise StackNotFoundError(
            f"stack {stack_name!r}: {error.response['Error'].get('Message', error)}"
        ) from error
    outputs = {o["OutputKey"]: o["OutputValue"] for o in (stacks[0].get("Outputs") or [])} if stacks else {}
    if "ApiUrl" not in outputs:
        raise StackNotFoundError(
            f"stack {stack_name!r} has no ApiUrl output: is it a StepStore stack, deployed?"
        )
    return outputs


def _deployment_environment(args: argparse.Namespace) -> dict[str, str] | None:
    try:
        import boto3
    except ImportError:
        print("stepstore: this command needs boto3: pip install 'stepstore[api]'", file=sys.stderr)
        return None
    session = boto3.session.Session(profile_name=args.profile, region_name=args.region)
    try:
        outputs = stack_outputs(args.stack, session.client("cloudformation"))
    except StackNotFoundError as error:
        print(f"stepstore: {error}", file=sys.stderr)
        return None
    return environment_from_outputs(outputs)


def _env(args: argparse.Namespace) -> int:
    env = _deployment_environment(args)
    if env is None:
        return 1
    for key, value in env.items():
        print(f"export {key}={shlex.quote(value)}")
    print("# and your token: export STEPSTORE_TOKEN=sst_... (never a stack output)")
    return 0


def _create_user(args: argparse.Namespace) -> int:
    import os

    env = _deployment_environment(args)
    if env is None:
        return 1
    # The stack outputs name the tables exactly as the functions' environment does.
    os.environ.update(
        {k: v for k, v in env.items() if not k.startswith("STEPSTORE_") or k == "STEPSTORE_STAGE"}
    )
    from stepstore_functions.dal import clients
    from stepstore_functions.logic.users import create_user
    from stepstore_functions.models.domain import Role
    from stepstore_functions.models.errors import DomainError

    clients.reset()
    try:
        _, token = create_user(None, args.name, Role(args.role))
    except DomainError as error:
        print(f"stepstore: {error}", file=sys.stderr)
        return 1
    print(token)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the `stepstore` parser."""
    cloud = commands.add_parser("cloud", help="a deployed stack").add_subparsers(dest="action", required=True)
    env = cloud.add_parser("env", help="print the SDK's environment for a deployed stack, as export lines")
    env.add_argument("--stack", required=True, help="the CloudFormation stack, e.g. StepStore-prod")
    env.add_argument("--region", help="the stack's region (default: your AWS configuration's)")
    env.add_argument("--profile", help="the AWS profile to use")
    env.set_defaults(run=_env)

    create = cloud.add_parser(
        "create-user",
        help="create a user directly in a deployed stack's tables (bootstrap); prints its token",
    )
    create.add_argument("name")
    create.add_argument("--stack", required=True, help="the CloudFormation stack, e.g. StepStore-prod")
    create.add_argument("--role", choices=["admin", "service", "user"], default="admin")
    create.add_argument("--region", help="the stack's region (default: your AWS configuration's)")
    create.add_argument("--profile", help="the AWS profile to use")
    create.set_defaults(run=_create_user)
