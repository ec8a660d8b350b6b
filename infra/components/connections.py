"""Secrets Manager scope: connection credentials under the stage's prefix, and the trigger's token."""

from __future__ import annotations

from aws_cdk import Arn, ArnComponents, ArnFormat, RemovalPolicy, SecretValue, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.nag import acknowledge, finding_resource
from stepstore_functions.resources import PROJECT, secrets_prefix
from stepstore_functions.triggers.fixture_flow import TOKEN_NOT_SET

# What the API does with connection secrets (dal/secrets.py): create (tagged with the owner),
# read, store a new version, delete.
CONNECTION_SECRET_ACTIONS = (
    "secretsmanager:CreateSecret",
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:DeleteSecret",
    "secretsmanager:TagResource",
)


class Connections(Construct):
    """Connection secrets are created at run time, one per connection, so the API's access is
    scoped to the stage's name prefix rather than to secrets this stack creates. The event-driven
    flows' token is one secret this stack creates with a placeholder; an operator stores a service
    user's token in it after deploying (see README, Deploying to AWS)."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: str) -> None:
        super().__init__(scope, construct_id)
        self.prefix = secrets_prefix(stage)
        # Secret ARNs end in a random 6-character suffix, hence the trailing wildcard.
        self.connection_secrets_arn = Arn.format(
            ArnComponents(
                service="secretsmanager",
                resource="secret",
                resource_name=f"{self.prefix}*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            ),
            Stack.of(self),
        )
        self.trigger_token = secretsmanager.Secret(
            self,
            "TriggerToken",
            secret_name=f"{PROJECT}/{stage}/trigger-token",
            description=(
                f"StepStore {stage}: the API token (a service user's) that event-driven flows use. "
                "Store it after deploying: stepstore users create fixture-trigger --role service"
            ),
            # A marker, not a secret: until a token is stored the trigger skips events (one log line and
            # the TriggerTokenMissing metric) instead of calling the API with a random string that fails
            # every flow into the dead-letter queue.
            secret_string_value=SecretValue.unsafe_plain_text(TOKEN_NOT_SET),
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.trigger_token,
            "AwsSolutions-SMG4",
            "The value is a StepStore API token minted by the StepStore API, which Secrets Manager cannot "
            "rotate; operators rotate it by creating a new token and storing it (README, Operations).",
        )

    def grant_connection_secrets(self, role: iam.IRole) -> None:
        """Manage connection secrets under the stage's prefix, and no others."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(CONNECTION_SECRET_ACTIONS), resources=[self.connection_secrets_arn]
            )
        )
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::{finding_resource(self, self.connection_secrets_arn)}]",
            "Connection secrets are created at run time, one per (owner, connection); the API may touch "
            "secrets under this stage's connection prefix only.",
        )
