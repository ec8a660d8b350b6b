"""The CDK app: `cdk synth` (cdk.json runs `python -m infra.app`), or `python infra/app.py`.

Context (``-c key=value``):
    stage                     deployment stage, in every resource name (default: dev); its settings
                              are infra/stages/<stage>.json (dev.json for a stage without its own)
    retain_data               "false"/"true" overrides the stage file's retain_data
    powertools_layer_version  the public Powertools layer version (default: constants)
    nag                       "false" skips cdk-nag's AwsSolutions checks (default: run them)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable, not infra/
    _root = Path(__file__).resolve().parents[1]
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _root / "infra"]
    sys.path.insert(0, str(_root))
    sys.path.insert(1, str(_root / "functions"))

from aws_cdk import App, Environment

from infra.constants import DEFAULT_STAGE, FEATURE_FLAGS, POWERTOOLS_LAYER_VERSION, stack_id
from infra.nag import add_checks
from infra.settings import load_settings
from infra.stack import StepStoreStack


def _flag(app: App, key: str, default: bool) -> bool:
    value = app.node.try_get_context(key)
    if value is None:
        return default
    return str(value).lower() not in ("false", "0", "no")


def build(
    app: App | None = None, *, account: str | None = None, region: str | None = None
) -> tuple[App, StepStoreStack]:
    """The app with its one stack (tests call this with their own App and a fixed account)."""
    app = app or App()
    for flag, value in FEATURE_FLAGS.items():
        if app.node.try_get_context(flag) is None:
            app.node.set_context(flag, value)
    stage = str(app.node.try_get_context("stage") or DEFAULT_STAGE)
    account = account or os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = region or os.environ.get("CDK_DEFAULT_REGION")
    settings = load_settings(stage)
    settings = settings.model_copy(update={"retain_data": _flag(app, "retain_data", settings.retain_data)})
    stack = StepStoreStack(
        app,
        stack_id(stage),
        stage=stage,
        settings=settings,
        powertools_layer_version=int(
            app.node.try_get_context("powertools_layer_version") or POWERTOOLS_LAYER_VERSION
        ),
        env=Environment(account=account, region=region) if account and region else None,
    )
    if _flag(app, "nag", True):
        add_checks(app)
    return app, stack


def main() -> None:
    app, _ = build()
    app.synth()


if __name__ == "__main__":
    main()
