"""Each function's IAM policy, read from the synthesized template into a stage-free form.

The local stack runs every function under exactly these statements (moto enforcing IAM), so an
AWS call that a role does not allow fails a test. Synthesizing the app takes half a minute, so the
statements are generated once into ``sdk/stepstore/local/role_policies.json`` (``make
role-policies``) and tests/infra/test_role_policies.py fails when the checked-in file drifts from
the template.

The form: every intrinsic (``Fn::GetAtt``, ``Ref``, ``Fn::Join``) is resolved to the ARN it stands
for, and the stage, account, region and partition are written as ``${Stage}``, ``${AWS::AccountId}``,
``${AWS::Region}`` and ``${AWS::Partition}``, which the local stack fills with its own.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from infra.constants import Functions, name
from stepstore_functions.resources import PROJECT

POLICIES_FILE = Path(__file__).resolve().parents[1] / "sdk" / "stepstore" / "local" / "role_policies.json"

_ARN = "arn:${AWS::Partition}"
_REGIONAL = "${AWS::Region}:${AWS::AccountId}"


def _arn_of(resource: dict[str, Any], attribute: str) -> str:
    """The ARN (or stream ARN) a ``Fn::GetAtt``/``Ref`` on `resource` resolves to in AWS."""
    kind, props = resource["Type"], resource.get("Properties", {})
    if kind == "AWS::DynamoDB::Table":
        table = f"{_ARN}:dynamodb:{_REGIONAL}:table/{props['TableName']}"
        return f"{table}/stream/*" if attribute == "StreamArn" else table
    if kind == "AWS::S3::Bucket":
        return f"{_ARN}:s3:::{props['BucketName']}"
    if kind == "AWS::Events::EventBus":
        return f"{_ARN}:events:{_REGIONAL}:event-bus/{props['Name']}"
    if kind == "AWS::SQS::Queue":
        return f"{_ARN}:sqs:{_REGIONAL}:{props['QueueName']}"
    if kind == "AWS::Logs::LogGroup":
        return f"{_ARN}:logs:{_REGIONAL}:log-group:{props['LogGroupName']}:*"
    if kind == "AWS::SecretsManager::Secret":  # a secret's ARN ends in a random six-character suffix
        return f"{_ARN}:secretsmanager:{_REGIONAL}:secret:{props['Name']}-??????"
    raise ValueError(f"no ARN rule for {kind} ({attribute})")


_PSEUDO = {
    "AWS::Partition": "${AWS::Partition}",
    "AWS::Region": "${AWS::Region}",
    "AWS::AccountId": "${AWS::AccountId}",
    "AWS::URLSuffix": "amazonaws.com",
}


def _resolve(value: Any, resources: dict[str, Any]) -> str:
    if isinstance(value, str):
        return value
    if "Ref" in value:
        ref = value["Ref"]
        return _PSEUDO[ref] if ref in _PSEUDO else _arn_of(resources[ref], "Ref")
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return _arn_of(resources[logical_id], attribute)
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_resolve(part, resources) for part in parts)
    raise ValueError(f"cannot resolve {value!r}")


def _generalise(text: str, *, stage: str, account: str, region: str) -> str:
    for concrete, placeholder in (
        (f"{PROJECT}-{stage}-", f"{PROJECT}-${{Stage}}-"),
        (f"{PROJECT}/{stage}/", f"{PROJECT}/${{Stage}}/"),
        (account, "${AWS::AccountId}"),
        (region, "${AWS::Region}"),
        ("arn:aws:", "arn:${AWS::Partition}:"),
    ):
        text = text.replace(concrete, placeholder)
    return text


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_policies(template: dict[str, Any], *, stage: str, account: str, region: str) -> dict[str, Any]:
    """{function key: [statements]} for every StepStore function, stage-free and sorted."""
    resources = template["Resources"]
    roles = {name(stage, f"{key}-role"): key for key in Functions.HANDLERS}
    role_ids = {
        logical_id: roles[resource["Properties"]["RoleName"]]
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::IAM::Role" and resource["Properties"].get("RoleName") in roles
    }
    policies: dict[str, list[dict[str, Any]]] = {key: [] for key in Functions.HANDLERS}
    for resource in resources.values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        for role in resource["Properties"]["Roles"]:
            key = role_ids.get(role.get("Ref"))
            if key is None:
                continue
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                policies[key].append(
                    {
                        "Effect": statement["Effect"],
                        "Action": sorted(_as_list(statement["Action"])),
                        "Resource": sorted(
                            _generalise(_resolve(r, resources), stage=stage, account=account, region=region)
                            for r in _as_list(statement["Resource"])
                        ),
                    }
                )
    return {key: sorted(statements, key=json.dumps) for key, statements in sorted(policies.items())}


def document(template: dict[str, Any], *, stage: str, account: str, region: str) -> str:
    """The checked-in file's text."""
    return (
        json.dumps(
            {
                "generated_by": "make role-policies (infra/role_policies.py); do not edit",
                "roles": role_policies(template, stage=stage, account=account, region=region),
            },
            indent=2,
            sort_keys=True,
        )
        + "\n"
    )


def main() -> None:
    """Synthesize the app (no bundling, no account) and write POLICIES_FILE."""
    import os
    import tempfile

    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from aws_cdk import App

    from infra.app import build

    stage, account, region = "policies", "111111111111", "eu-central-1"
    with tempfile.TemporaryDirectory() as outdir:
        app, stack = build(
            App(context={"aws:cdk:bundling-stacks": [], "stage": stage}, outdir=outdir),
            account=account,
            region=region,
        )
        assembly = app.synth()
        artifact = assembly.get_stack_artifact(stack.artifact_id)
        template = json.loads((Path(assembly.directory) / artifact.template_file).read_text())
    POLICIES_FILE.write_text(document(template, stage=stage, account=account, region=region))
    print(
        f"wrote {POLICIES_FILE}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
