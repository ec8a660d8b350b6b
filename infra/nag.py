"""cdk-nag's AwsSolutions checks, and the one way this app acknowledges a finding: with a reason.

Every acknowledgement goes through `acknowledge`, which records it in `ACKNOWLEDGED` (rule id,
construct path, reason), so tests and reviewers can list them all in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Acknowledgment, App, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


@dataclass(frozen=True)
class Acknowledged:
    rule: str
    path: str
    reason: str


ACKNOWLEDGED: list[Acknowledged] = []


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Accept a finding (``AwsSolutions-XX``, ``AwsSolutions-IAM5[Resource::...]``) on `construct`, below."""
    if not reason.strip():
        raise ValueError(f"acknowledging {rule} on {construct.node.path} needs a reason")
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))
    ACKNOWLEDGED.append(Acknowledged(rule=rule, path=construct.node.path, reason=reason))


def finding_resource(scope: IConstruct, value: str) -> str:
    """How cdk-nag names a policy resource in an IAM5 finding: ``<Logical.Arn>/*``, ``<AWS::Region>``..."""
    return _render(Stack.of(scope).resolve(value))


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_render(part) for part in parts)
    raise ValueError(f"cannot name {value!r} as cdk-nag does")


def add_checks(app: App) -> None:
    """Run AwsSolutions on every stack at synth; an unacknowledged finding fails synthesis."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
