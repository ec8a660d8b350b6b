"""The Lambda code asset: functions/ (stepstore_functions), the SDK (for event-driven flows) and the
locked dependencies the runtime and the Powertools layer lack, built by infra/bundle.py.

Why bundle this way: Docker is not available everywhere the app is synthesized, and every
package the functions need beyond the runtime (boto3) and the Powertools layer (powertools,
pydantic, X-Ray SDK) has wheels on PyPI for the Lambda platform. So CDK's *local* bundling runs
``pip install --require-hashes --target`` from functions/requirements.lock into the asset directory,
asking for wheels of that platform (manylinux aarch64, CPython PYTHON_VERSION, binary wheels only, so
nothing is compiled for the wrong machine), and copies our two packages beside them: the same build
`make bundle` checks in CI. That needs PyPI, so it runs only when an asset is really bundled (``cdk
synth``/``cdk deploy``); tests skip bundling through CDK's own ``aws:cdk:bundling-stacks`` context and
synthesize with no network.
"""

from __future__ import annotations

from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra.bundle import FUNCTIONS_DIR, build


@jsii.implements(ILocalBundling)
class _PipLocalBundling:
    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: object) -> bool:
        build(Path(output_dir))
        return True


def function_code() -> lambda_.Code:
    """The code asset every StepStore function runs from (one asset, built once per synth)."""
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR),
        asset_hash_type=AssetHashType.OUTPUT,
        exclude=["**/__pycache__", "**/*.pyc"],
        bundling=BundlingOptions(
            # Never pulled: local bundling always succeeds or fails loudly; there is no Docker fallback.
            image=DockerImage.from_registry("stepstore-local-bundling-only"),
            local=_PipLocalBundling(),
        ),
    )
