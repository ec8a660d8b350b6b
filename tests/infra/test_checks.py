"""cdk-nag's AwsSolutions pack and cfn-lint, on the template the session synthesized."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from infra.nag import ACKNOWLEDGED

# CDK puts an explicit DependsOn on a function's role beside the GetAtt of it; cfn-lint calls the
# DependsOn redundant (W3005). Harmless, and not ours to remove.
CFN_LINT_IGNORED = ("W3005",)


def test_cdk_nag_aws_solutions_has_no_unacknowledged_findings(synthesized):
    # The session's synthesis ran the checks and did not fail; the report lists no violation.
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    assert all(not plugin.get("violations") for plugin in report["pluginReports"])


def test_the_checks_do_fail_synthesis_on_an_unacknowledged_finding(synthesized, tmp_path):
    # Given the same checks on a stack with a bucket that allows plain HTTP and keeps no access logs
    from aws_cdk import App, Stack
    from aws_cdk import aws_s3 as s3

    from infra.nag import add_checks

    app = App(outdir=str(tmp_path))
    s3.Bucket(Stack(app, "Careless"), "Bucket", enforce_ssl=False)
    add_checks(app)

    # When it is synthesized, then synthesis fails naming the findings
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text()
    assert "AwsSolutions-S10" in report and "AwsSolutions-S1" in report


def test_every_acknowledgement_has_a_reason_and_names_a_rule(synthesized):
    assert ACKNOWLEDGED  # the synthesized stack acknowledged its findings through infra.nag
    for ack in ACKNOWLEDGED:
        assert ack.rule.startswith("AwsSolutions-"), ack
        assert len(ack.reason) >= 40, ack


def test_cfn_lint_passes_on_the_synthesized_template(synthesized):
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(cfn_lint), "--ignore-checks", *CFN_LINT_IGNORED, "--", str(synthesized.template_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
