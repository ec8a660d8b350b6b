"""The fixture trigger before an operator stores its token: one log line and a metric, no failure."""

from __future__ import annotations

import logging
import uuid

import boto3
import pytest

pytestmark = pytest.mark.integration


def test_the_trigger_skips_a_fixture_while_its_secret_holds_no_token(stack, monkeypatch, caplog):
    from aws_lambda_powertools.utilities import parameters

    from stepstore.local.gateway import LocalFunction
    from stepstore.local.stack import REGION, STAGE
    from stepstore_functions.resources import FIXTURES_BUCKET
    from stepstore_functions.triggers import fixture_flow

    secrets = boto3.client("secretsmanager", region_name=REGION)
    arn = secrets.create_secret(
        Name=f"stepstore/local/trigger-token-{uuid.uuid4().hex[:6]}", SecretString=fixture_flow.TOKEN_NOT_SET
    )["ARN"]
    monkeypatch.setenv(fixture_flow.TOKEN_SECRET_ENV, arn)
    monkeypatch.delenv("STEPSTORE_TOKEN", raising=False)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    parameters.clear_caches()
    bucket = FIXTURES_BUCKET.physical_name(STAGE)
    detail = {
        "stage": STAGE,
        "occurred_at": "2026-01-01T00:00:00Z",
        "bucket": bucket,
        "key": "fixture/a.csv",
        "fixture_name": "a.csv",
        "size": 1,
        "etag": "e",
    }
    function = LocalFunction(
        "fixture-trigger", fixture_flow.lambda_handler, stack.function_credentials("fixture-trigger")
    )
    with caplog.at_level(logging.WARNING):
        result = function.invoke({"id": str(uuid.uuid4()), "detail": detail})
    assert result["status"] == "skipped"
    assert "no service token stored" in caplog.text
