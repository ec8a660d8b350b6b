"""Synthesize the CDK app once per test session: no AWS account, no network, no Docker.

Bundling is skipped through CDK's own ``aws:cdk:bundling-stacks`` context (the code asset then
points at functions/ as it is), so synthesis needs neither PyPI nor a container.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

STAGE = "qa"
ACCOUNT = "123456789012"
REGION = "eu-west-1"


@dataclass
class Synthesized:
    template: Any  # aws_cdk.assertions.Template
    raw: dict[str, Any]
    template_path: Path
    outdir: Path
    stack: Any

    def resources(self, type_name: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.raw["Resources"].items() if v["Type"] == type_name}

    def logical_id(self, construct: Any) -> str:
        return self.stack.resolve(construct.node.default_child.logical_id)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from infra.app import build

    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = build(
        App(context={"aws:cdk:bundling-stacks": [], "stage": STAGE}, outdir=str(outdir)),
        account=ACCOUNT,
        region=REGION,
    )
    # cdk-nag's AwsSolutions checks run here: an unacknowledged finding fails synthesis.
    assembly = app.synth()
    artifact = assembly.get_stack_artifact(stack.artifact_id)
    template_path = Path(assembly.directory) / artifact.template_file
    raw = json.loads(template_path.read_text())
    return Synthesized(Template.from_json(raw), raw, template_path, Path(assembly.directory), stack)
