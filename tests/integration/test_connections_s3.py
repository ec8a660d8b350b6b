"""S3 connections: a boto3 client built from stored credentials, against the local stack's moto."""

from __future__ import annotations

import uuid

import pytest

from stepstore import InvalidInputError, NotFoundError, StoreInterface


@pytest.fixture
def step(alice, flow_id) -> StoreInterface:
    return StoreInterface(flow_id, step_name="s3")


def test_client_from_a_stored_s3_connection_reads_and_writes_moto(stack, step):
    # moto enforces IAM on the local stack: store credentials of a principal it knows (the operator's).
    operator = stack.principals.operator
    created = step.connections.create(
        "lake",
        "s3",
        {
            "aws_access_key_id": operator.access_key,
            "aws_secret_access_key": operator.secret_key,
            "aws_session_token": operator.token,
            "region_name": "eu-west-1",
            "endpoint_url": stack.aws_endpoint_url,
        },
    )
    s3 = step.get_boto3_s3_client_from_connection_store(created.connection_id)
    assert s3.meta.endpoint_url == stack.aws_endpoint_url
    assert s3.meta.region_name == "eu-west-1"
    credentials = s3._request_signer._credentials.get_frozen_credentials()
    assert (credentials.access_key, credentials.secret_key, credentials.token) == (
        operator.access_key,
        operator.secret_key,
        operator.token,
    )
    bucket = f"lake-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket=bucket, Key="raw/a.csv", Body=b"x,y\n1,2\n")
    assert s3.get_object(Bucket=bucket, Key="raw/a.csv")["Body"].read() == b"x,y\n1,2\n"


def test_connection_named_by_name_and_kwargs_override_what_is_stored(stack, step):
    step.connections.create(
        "lake2",
        "s3",
        {
            "aws_access_key_id": "a",
            "aws_secret_access_key": "b",
            "region_name": "eu-west-1",
            "endpoint_url": "x",
        },
    )
    s3 = step.get_boto3_s3_client_from_connection_store(
        "lake2", region_name="us-west-2", endpoint_url=stack.aws_endpoint_url
    )
    assert s3.meta.region_name == "us-west-2"
    assert s3.meta.endpoint_url == stack.aws_endpoint_url
    # It signs with the stored keys, which no principal of this (IAM-enforcing) moto holds.
    with pytest.raises(s3.exceptions.ClientError, match=r"InvalidAccessKeyId|InvalidClientTokenId|403"):
        s3.list_buckets()


def test_a_database_connection_is_not_an_s3_client_and_a_missing_one_is_not_found(step):
    step.connections.create("db", "postgresql", {"host": "127.0.0.1"})
    with pytest.raises(InvalidInputError, match="not 's3'"):
        step.get_boto3_s3_client_from_connection_store("db")
    with pytest.raises(NotFoundError):
        step.get_boto3_s3_client_from_connection_store("nothing-here")
    with pytest.raises(NotFoundError):
        step.get_boto3_s3_client_from_connection_store(uuid.uuid4().hex)
