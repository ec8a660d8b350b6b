"""The Lambda code asset: functions/ (stepstore_functions), the SDK (for event-driven flows) and the
pure-Python packages the runtime and the Powertools layer lack, pynamodb first among them.

Why bundle this way: Docker is not available everywhere the app is synthesized, and every
package the functions need beyond the runtime (boto3) and the Powertools layer (powertools, X-Ray
SDK) has wheels on PyPI for the Lambda platform. So CDK's *local* bundling runs ``pip install
--target`` into the asset directory, asking for wheels of that platform (manylinux aarch64,
CPython PYTHON_VERSION, binary wheels only, so nothing is compiled for the wrong machine), and
copies our two packages beside them. That needs PyPI,
so it runs only when an asset is really bundled (``cdk synth``/``cdk deploy``); tests skip
bundling through CDK's own ``aws:cdk:bundling-stacks`` context and synthesize with no network.
A layer would work as well, but one asset keeps code and dependencies deployed together.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra.constants import BUNDLED_WITH_DEPENDENCIES, BUNDLED_WITHOUT_DEPENDENCIES, PYTHON_VERSION

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "functions"
SDK_PACKAGE = REPO_ROOT / "sdk" / "stepstore"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "*.egg-info")


def _pip_install(output_dir: Path, python: str, requirements: tuple[str, ...], *, dependencies: bool) -> None:
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            *([] if dependencies else ["--no-deps"]),
            "--target",
            str(output_dir),
            "--upgrade",  # the two installs share the target directory
            "--platform",
            "manylinux2014_aarch64",
            "--implementation",
            "cp",
            "--python-version",
            PYTHON_VERSION,
            "--only-binary=:all:",
            *requirements,
        ],
        check=True,
    )


def bundle_into(output_dir: Path, *, python: str = sys.executable) -> None:
    """Build the asset's contents in `output_dir` (also usable on its own, e.g. to inspect it)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    _pip_install(output_dir, python, BUNDLED_WITH_DEPENDENCIES, dependencies=True)
    _pip_install(output_dir, python, BUNDLED_WITHOUT_DEPENDENCIES, dependencies=False)
    shutil.copytree(FUNCTIONS_DIR / "stepstore_functions", output_dir / "stepstore_functions", ignore=_IGNORE)
    shutil.copytree(SDK_PACKAGE, output_dir / "stepstore", ignore=_IGNORE)


@jsii.implements(ILocalBundling)
class _PipLocalBundling:
    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: object) -> bool:
        bundle_into(Path(output_dir))
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
