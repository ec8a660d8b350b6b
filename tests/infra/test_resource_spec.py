"""The synthesized template provisions exactly the tables and buckets of the resource spec
(functions/stepstore_functions/resources.py), which the local stack provisions too."""

from __future__ import annotations

from stepstore_functions.resources import BUCKETS, STAGING_TAG, TABLES, Deployment, secrets_prefix
from tests.infra.conftest import ACCOUNT, REGION, STAGE


def _by_property(resources: dict, key: str) -> dict:
    return {r["Properties"][key]: r["Properties"] for r in resources.values()}


def test_tables_match_the_spec(synthesized):
    tables = _by_property(synthesized.resources("AWS::DynamoDB::Table"), "TableName")
    assert set(tables) == {spec.physical_name(STAGE) for spec in TABLES}
    for spec in TABLES:
        table = tables[spec.physical_name(STAGE)]
        assert table["KeySchema"] == [
            {"AttributeName": spec.partition_key, "KeyType": "HASH"},
            {"AttributeName": spec.sort_key, "KeyType": "RANGE"},
        ]
        indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
        assert set(indexes) == {i.name for i in spec.indexes}
        for index in spec.indexes:
            assert indexes[index.name]["KeySchema"] == [
                {"AttributeName": index.partition_key, "KeyType": "HASH"},
                {"AttributeName": index.sort_key, "KeyType": "RANGE"},
            ]
            assert indexes[index.name]["Projection"] == {"ProjectionType": "ALL"}
        keys = {spec.partition_key, spec.sort_key} | {
            k for i in spec.indexes for k in (i.partition_key, i.sort_key)
        }
        assert {
            a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]
        } == dict.fromkeys(keys, "S")
        if spec.ttl_attribute:
            assert table["TimeToLiveSpecification"] == {"AttributeName": spec.ttl_attribute, "Enabled": True}
        else:
            assert "TimeToLiveSpecification" not in table
        if spec.stream:
            assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
        else:
            assert "StreamSpecification" not in table
        assert table["BillingMode"] == "PAY_PER_REQUEST"
        assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert table["SSESpecification"]["SSEEnabled"] is True


def test_buckets_match_the_spec(synthesized):
    buckets = _by_property(synthesized.resources("AWS::S3::Bucket"), "BucketName")
    expected = {spec.physical_name(STAGE, ACCOUNT, REGION) for spec in BUCKETS}
    assert expected <= set(buckets)
    assert set(buckets) - expected == {
        f"stepstore-{STAGE}-access-logs-{ACCOUNT}-{REGION}",
        f"stepstore-{STAGE}-console-{ACCOUNT}-{REGION}",  # the web console (infra/components/console.py)
    }
    for spec in BUCKETS:
        bucket = buckets[spec.physical_name(STAGE, ACCOUNT, REGION)]
        assert bucket["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ] == {"SSEAlgorithm": "AES256"}
        assert (bucket.get("VersioningConfiguration") == {"Status": "Enabled"}) is spec.versioned
        rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
        assert rules["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"] == {
            "DaysAfterInitiation": spec.abort_multipart_days
        }
        if spec.staging_tag:
            staging = rules["expire-uncommitted-staging-objects"]
            assert staging["TagFilters"] == [{"Key": STAGING_TAG[0], "Value": STAGING_TAG[1]}]
            assert staging["ExpirationInDays"] == spec.staging_days
        else:
            assert "expire-uncommitted-staging-objects" not in rules
        assert ("CorsConfiguration" in bucket) is spec.cors
        assert "LoggingConfiguration" in bucket


def test_every_bucket_refuses_plain_http(synthesized):
    policies = synthesized.resources("AWS::S3::BucketPolicy")
    buckets = synthesized.resources("AWS::S3::Bucket")
    enforced = set()
    for policy in policies.values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement.get("Condition") == {
                "Bool": {"aws:SecureTransport": "false"}
            }:
                enforced.add(policy["Properties"]["Bucket"]["Ref"])
    assert enforced == set(buckets)


def test_functions_get_the_deployment_environment_of_the_spec(synthesized):
    expected = Deployment(stage=STAGE, account=ACCOUNT, region=REGION).environment()
    assert expected["SECRETS_PREFIX"] == secrets_prefix(STAGE)
    functions = synthesized.resources("AWS::Lambda::Function")
    ours = [f for f in functions.values() if f["Properties"].get("FunctionName", "").startswith("stepstore-")]
    assert len(ours) == 5
    for function in ours:
        variables = function["Properties"]["Environment"]["Variables"]
        assert {k: variables[k] for k in expected} == expected
