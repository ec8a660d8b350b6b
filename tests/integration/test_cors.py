"""CORS on the local stack, as the CDK app sets it up: preflights answered without the authorizer,
the Origin echoed only when the stage allows it, and presigned transfers from those origins."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.integration

ALLOWED = "http://localhost:5173"
STRANGER = "https://evil.example.com"


def _preflight(url: str, origin: str) -> requests.Response:
    return requests.options(
        url,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=30,
    )


def test_a_preflight_is_answered_without_a_token_for_an_allowed_origin_only(stack):
    allowed = _preflight(f"{stack.api_url}/flows/f/steps/s/progress", ALLOWED)
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "PUT" in allowed.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in allowed.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    stranger = _preflight(f"{stack.api_url}/flows", STRANGER)
    assert stranger.status_code == 204
    assert "Access-Control-Allow-Origin" not in stranger.headers


def test_answers_carry_the_allowed_origin_and_never_a_wildcard(stack, alice):
    headers = {"Authorization": f"Bearer {alice.token}"}
    ok = requests.get(f"{stack.api_url}/flows", headers={**headers, "Origin": ALLOWED}, timeout=30)
    assert ok.status_code == 200
    assert ok.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert ok.headers["Vary"] == "Origin"
    other = requests.get(f"{stack.api_url}/flows", headers={**headers, "Origin": STRANGER}, timeout=30)
    assert other.status_code == 200 and "Access-Control-Allow-Origin" not in other.headers
    refused = requests.get(f"{stack.api_url}/flows", headers={"Origin": ALLOWED}, timeout=30)
    assert refused.status_code == 401
    assert refused.headers["Access-Control-Allow-Origin"] == ALLOWED  # a browser can read why


def test_buckets_answer_presigned_preflights_from_the_allowed_origins_only(stack):
    from stepstore.local.stack import STAGE
    from stepstore_functions.resources import DATA_BUCKET, FIXTURES_BUCKET

    url = f"{stack.aws_endpoint_url}/{DATA_BUCKET.physical_name(STAGE)}/some/key"
    allowed = _preflight(url, ALLOWED)
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "ETag" in allowed.headers.get("Access-Control-Expose-Headers", "")
    # S3 refuses a preflight no CORS rule allows (moto's server adds its own CORS headers to every
    # answer, so the status is what tells).
    assert _preflight(url, STRANGER).status_code == 403
    # The fixtures bucket takes no browser transfers: no CORS rules at all (as the CDK app deploys it).
    import boto3

    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=stack.aws_endpoint_url)
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchCORSConfiguration"):
        s3.get_bucket_cors(Bucket=FIXTURES_BUCKET.physical_name(STAGE))
