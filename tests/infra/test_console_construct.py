"""The web console on AWS: a private bucket read by CloudFront through origin access control, a
strict CSP on every response, HTTPS only, access logs, and the build deployed with its config."""

from __future__ import annotations

import json

from tests.infra.conftest import ACCOUNT, REGION, STAGE


def _one(synthesized, type_name):
    (resource,) = synthesized.resources(type_name).values()
    return resource["Properties"]


def test_the_console_bucket_is_private_encrypted_and_read_only_by_its_distribution(synthesized):
    buckets = {
        r["Properties"]["BucketName"]: (k, r["Properties"])
        for k, r in synthesized.resources("AWS::S3::Bucket").items()
    }
    logical, bucket = buckets[f"stepstore-{STAGE}-console-{ACCOUNT}-{REGION}"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert "LoggingConfiguration" in bucket and "WebsiteConfiguration" not in bucket
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synthesized.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": logical}
    ]
    (statements,) = policies
    readers = [s for s in statements if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in readers] == [{"Service": "cloudfront.amazonaws.com"}]
    assert readers[0]["Action"] == "s3:GetObject"
    assert "AWS:SourceArn" in json.dumps(readers[0]["Condition"])  # only this distribution


def test_the_distribution_uses_origin_access_control_https_and_logs(synthesized):
    config = _one(synthesized, "AWS::CloudFront::Distribution")["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    (origin,) = config["Origins"]
    assert "OriginAccessControlId" in origin
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # OAC, not the legacy OAI
    assert "Logging" in config
    oac = _one(synthesized, "AWS::CloudFront::OriginAccessControl")["OriginAccessControlConfig"]
    assert oac["SigningBehavior"] == "always" and oac["OriginAccessControlOriginType"] == "s3"


def test_every_response_carries_a_csp_without_inline_script_or_eval(synthesized):
    headers = _one(synthesized, "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]
    security = headers["SecurityHeadersConfig"]
    policy = json.dumps(security["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    assert "script-src 'self';" in policy and "unsafe-eval" not in policy
    assert "execute-api" in policy  # the API, called cross-origin
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000


def test_the_build_is_deployed_with_a_config_naming_the_api(synthesized):
    deployments = synthesized.resources("Custom::CDKBucketDeployment")
    assert len(deployments) == 1
    (deployment,) = deployments.values()
    assert len(deployment["Properties"]["SourceObjectKeys"]) == 2  # the build, and config.json
    assert "DistributionId" in deployment["Properties"]
    assert "ConsoleUrl" in synthesized.raw["Outputs"]
