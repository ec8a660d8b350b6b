"""Stage settings (infra/stages/*.json), CORS, alarms with runbooks, and the trigger token's first value."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from infra.components.monitoring import RUNBOOKS
from infra.settings import STAGES_DIR, StageSettings, load_settings
from stepstore_functions.triggers.fixture_flow import TOKEN_NOT_SET
from tests.infra.conftest import ACCOUNT, REGION, STAGE

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_stage_file_is_valid_and_a_stage_without_one_takes_dev():
    files = sorted(STAGES_DIR.glob("*.json"))
    assert {f.stem for f in files} >= {"dev", "prod"}
    for file in files:
        StageSettings.model_validate_json(file.read_text())
    assert load_settings("someone-else") == load_settings("dev")


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"allowed_origins": ["*"]}, "never allowed"),
        ({"allowed_origins": ["https://console.example.com/app"]}, "not an origin"),
        ({"allowed_origins": ["http://console.example.com"]}, "localhost only"),
        ({"log_retention_days": 31}, "31"),
        ({"throttle_rate_limit": 100, "throttle_burst_limit": 10}, "burst"),
        ({"throttle_rate_limt": 5}, "throttle_rate_limt"),
    ],
)
def test_a_bad_setting_is_refused_naming_it(change, complaint):
    with pytest.raises(ValidationError, match=complaint):
        StageSettings.model_validate({**json.loads((STAGES_DIR / "dev.json").read_text()), **change})


@pytest.fixture(scope="module")
def prod(tmp_path_factory):
    """The prod stage, synthesized (without cdk-nag, which the session's synthesis runs)."""
    from aws_cdk import App

    from infra.app import build

    outdir = tmp_path_factory.mktemp("cdk.out.prod")
    app, stack = build(
        App(context={"aws:cdk:bundling-stacks": [], "stage": "prod", "nag": "false"}, outdir=str(outdir)),
        account=ACCOUNT,
        region=REGION,
    )
    assembly = app.synth()
    return json.loads(
        (Path(assembly.directory) / assembly.get_stack_artifact(stack.artifact_id).template_file).read_text()
    )


def _of_type(template: dict, kind: str) -> list[dict]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def _stage_settings(template: dict) -> dict:
    (stage,) = _of_type(template, "AWS::ApiGateway::Stage")
    return stage["Properties"]["MethodSettings"][0]


def _memory(template: dict, suffix: str) -> int:
    (function,) = [
        f
        for f in _of_type(template, "AWS::Lambda::Function")
        if f["Properties"].get("FunctionName", "").endswith(suffix)
    ]
    return function["Properties"]["MemorySize"]


def test_dev_and_prod_differ_where_their_files_say(synthesized, prod):
    dev_settings, prod_settings = load_settings("dev"), load_settings("prod")
    dev = synthesized.raw
    assert _stage_settings(dev)["ThrottlingRateLimit"] == dev_settings.throttle_rate_limit
    assert (
        _stage_settings(prod)["ThrottlingRateLimit"]
        == prod_settings.throttle_rate_limit
        != dev_settings.throttle_rate_limit
    )
    assert _memory(dev, "-api") == dev_settings.memory.api
    assert _memory(prod, "-api") == prod_settings.memory.api != dev_settings.memory.api
    assert {g["Properties"]["RetentionInDays"] for g in _of_type(dev, "AWS::Logs::LogGroup")} == {30}
    assert {g["Properties"]["RetentionInDays"] for g in _of_type(prod, "AWS::Logs::LogGroup")} == {90}
    # CORS: dev allows its console dev servers; prod lists no origin, so no preflight methods and no
    # bucket CORS at all.
    assert [m for m in _of_type(dev, "AWS::ApiGateway::Method") if m["Properties"]["HttpMethod"] == "OPTIONS"]
    assert not [
        m for m in _of_type(prod, "AWS::ApiGateway::Method") if m["Properties"]["HttpMethod"] == "OPTIONS"
    ]
    assert not [b for b in _of_type(prod, "AWS::S3::Bucket") if "CorsConfiguration" in b["Properties"]]
    (prod_rate,) = [
        a
        for a in _of_type(prod, "AWS::CloudWatch::Alarm")
        if a["Properties"]["AlarmName"].endswith("api5xx-rate")
    ]
    assert f">= {prod_settings.alarms.api_5xx_min_requests}" in json.dumps(prod_rate["Properties"]["Metrics"])
    assert prod_rate["Properties"]["Threshold"] == prod_settings.alarms.api_5xx_rate_percent


def test_bucket_names_carry_account_and_region(synthesized):
    names = {b["Properties"]["BucketName"] for b in _of_type(synthesized.raw, "AWS::S3::Bucket")}
    assert names and all(n.endswith(f"-{ACCOUNT}-{REGION}") and len(n) <= 63 for n in names)


def test_preflights_are_answered_by_api_gateway_without_the_authorizer(synthesized):
    origins = list(load_settings(STAGE).allowed_origins)
    options = [
        m["Properties"]
        for m in _of_type(synthesized.raw, "AWS::ApiGateway::Method")
        if m["Properties"]["HttpMethod"] == "OPTIONS"
    ]
    resources = _of_type(synthesized.raw, "AWS::ApiGateway::Resource")
    assert len(options) == len(resources) + 1  # every resource and the root
    for method in options:
        assert method["AuthorizationType"] == "NONE"
        assert method["Integration"]["Type"] == "MOCK"
        text = json.dumps(method["Integration"])
        assert "'*'" not in text and "Access-Control-Allow-Credentials" not in text
        for origin in origins:
            assert origin in text


def test_buckets_allow_presigned_browser_transfers_from_the_stage_origins_only(synthesized):
    origins = sorted(load_settings(STAGE).allowed_origins)
    by_name = {
        b["Properties"]["BucketName"]: b["Properties"] for b in _of_type(synthesized.raw, "AWS::S3::Bucket")
    }
    for logical, expected in (("data", True), ("assets", True), ("fixtures", False), ("access-logs", False)):
        (props,) = [p for n, p in by_name.items() if n.startswith(f"stepstore-{STAGE}-{logical}-")]
        if not expected:
            assert "CorsConfiguration" not in props, logical
            continue
        (rule,) = props["CorsConfiguration"]["CorsRules"]
        assert sorted(rule["AllowedOrigins"]) == origins
        assert set(rule["AllowedMethods"]) == {"GET", "PUT", "HEAD"}
        assert "*" not in rule["AllowedOrigins"] and "*" not in rule["AllowedHeaders"]


def test_every_alarm_links_a_runbook_section_that_the_readme_has(synthesized):
    readme = README.read_text()
    # GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens.
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", h.strip().lower()).replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", readme, flags=re.MULTILINE)
    }
    alarms = _of_type(synthesized.raw, "AWS::CloudWatch::Alarm")
    assert alarms
    for alarm in alarms:
        description = alarm["Properties"]["AlarmDescription"]
        match = re.search(r"Runbook: (\S+)#(runbook-[a-z0-9-]+)$", description)
        assert match, description
        assert match.group(2) in anchors, f"README has no section for {match.group(2)}"
    assert {f"runbook-{a}" for a in RUNBOOKS.values()} <= anchors


def test_a_rejected_token_is_not_an_authorizer_error_and_has_its_own_alarm(synthesized):
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in _of_type(synthesized.raw, "AWS::CloudWatch::Alarm")
    }
    errors = alarms[f"stepstore-{STAGE}-authorizer-errors"]
    text = json.dumps(errors["Metrics"])
    assert "FILL(errors, 0) - FILL(rejected, 0)" in text and "TokenRejected" in text
    rejected = alarms[f"stepstore-{STAGE}-rejected-tokens"]
    assert rejected["MetricName"] == "TokenRejected" and rejected["Namespace"] == "StepStore"
    for name in ("api4xx-surge", "dead-letter-age", "concurrency-near-limit", "trigger-token-missing"):
        assert f"stepstore-{STAGE}-{name}" in alarms, name
    assert alarms[f"stepstore-{STAGE}-dead-letter-age"]["MetricName"] == "ApproximateAgeOfOldestMessage"


def test_the_trigger_token_secret_starts_as_the_marker_the_trigger_skips_on(synthesized):
    (secret,) = [
        s["Properties"]
        for s in _of_type(synthesized.raw, "AWS::SecretsManager::Secret")
        if s["Properties"]["Name"].endswith("/trigger-token")
    ]
    assert secret["SecretString"] == TOKEN_NOT_SET
    assert "GenerateSecretString" not in secret


def test_a_readable_bucket_setting_reaches_the_api_and_grants_reads_there_only():
    from aws_cdk import App, Stack
    from aws_cdk.assertions import Template

    from infra.components.functions import Functions as FunctionsConstruct

    settings = load_settings("dev").model_copy(update={"readable_buckets": ("shared-models",)})
    stack = Stack(
        App(context={"aws:cdk:bundling-stacks": []}), "Readable", env={"account": ACCOUNT, "region": REGION}
    )
    from aws_cdk import RemovalPolicy
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_s3 as s3

    from infra.components.connections import Connections

    key = dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
    tables = {n: dynamodb.Table(stack, n, partition_key=key) for n in ("metadata", "links")}
    buckets = {n: s3.Bucket(stack, n) for n in ("data", "assets", "fixtures")}
    FunctionsConstruct(
        stack,
        "Functions",
        stage="qa",
        account=ACCOUNT,
        tables=tables,
        buckets=buckets,
        connections=Connections(stack, "Connections", stage="qa"),
        powertools_layer_version=38,
        settings=settings,
        removal_policy=RemovalPolicy.DESTROY,
    )
    template = json.dumps(Template.from_stack(stack).to_json())
    assert '"STEPSTORE_READABLE_BUCKETS": "shared-models"' in template
    assert ":s3:::shared-models/*" in template and '"s3:GetObject"' in template
    with pytest.raises(ValidationError, match="not an S3 bucket name"):
        StageSettings(readable_buckets=("Not_A_Bucket",))
