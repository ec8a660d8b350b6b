"""Permissions proven by use: each function's role is exactly the template's, and every statement is needed.

The session's local stack enforces IAM (tests/conftest.py): every function runs under the statements
the synthesized template gives its role (sdk/stepstore/local/role_policies.json, kept in step with
the template by tests/infra/test_role_policies.py). Here each statement that moto can enforce is
removed from its role in turn, and the function's own work is shown to pass with the full policy
and to fail without that one statement. Statements moto cannot see (CloudWatch Logs and X-Ray,
written by the Lambda service; the dead-letter queue and dynamodb:ListStreams, used by the Lambda
service for the function) are asserted on the template in tests/infra.

The same proof over the whole integration suite: `python -m tests.iam_proof` (see README).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
import requests

pytestmark = pytest.mark.integration

SERVICE_SIDE_PREFIXES = ("logs:", "xray:", "sqs:")
SERVICE_SIDE_ACTIONS = {"dynamodb:ListStreams"}


def service_side(statement: dict[str, Any]) -> bool:
    """Used by the Lambda service on the function's behalf, never by the function's code."""
    return all(a.startswith(SERVICE_SIDE_PREFIXES) or a in SERVICE_SIDE_ACTIONS for a in statement["Action"])


def enforced_statements() -> list[tuple[str, int]]:
    from stepstore.local.iam import template_policies

    return [
        (function, index)
        for function, statements in sorted(template_policies().items())
        for index, statement in enumerate(statements)
        if not service_side(statement)
    ]


def _label(case: tuple[str, int]) -> str:
    from stepstore.local.iam import template_policies

    function, index = case
    actions = template_policies()[function][index]["Action"]
    return f"{function}-{actions[0].split(':')[0]}-{index}"


@pytest.fixture
def role_without(stack) -> Callable[[str, int], Any]:
    """`with role_without(function, index):` the function's role lacks that one statement."""
    from stepstore.local import iam
    from stepstore.local.stack import REGION

    client = boto3.client("iam", region_name=REGION, endpoint_url=stack.aws_endpoint_url)
    values = {
        "Stage": "local",
        "AWS::Region": REGION,
        "AWS::AccountId": "000000000000",
        "AWS::Partition": "aws",
    }

    @contextmanager
    def without(function: str, index: int) -> Iterator[None]:
        statements = iam.resolve(iam.template_policies()[function], values)
        role = stack.principals.role_names[function]
        iam.put_role_policy(client, role, statements[:index] + statements[index + 1 :])
        try:
            yield
        finally:
            iam.put_role_policy(client, role, statements)

    return without


def _fixtures_bucket() -> str:
    from stepstore.local.stack import STAGE
    from stepstore_functions.resources import FIXTURES_BUCKET

    return FIXTURES_BUCKET.physical_name(STAGE)


# The work each function does, through its real handler under its role. Each `prepare` sets up what
# the work needs (with every grant in place) and returns the work itself, which raises when refused.
Work = Callable[[], None]


def _api_work(stack, make_user, monkeypatch) -> Work:
    import pandas as pd

    from stepstore import StoreInterface

    make_user("iam")
    flow = f"iam-{uuid.uuid4().hex[:8]}"

    def work() -> None:
        store = StoreInterface(flow, step_name="one")
        store.save_output(pd.DataFrame({"a": [1, 2]}), "frame")  # tables, presigned PUT, head, tag
        assert StoreInterface(flow, step_name="two").get_input("frame")["a"].tolist() == [1, 2]
        StoreInterface.list_fixture_data("")  # lists the fixtures bucket
        store.connections.create(f"c{uuid.uuid4().hex[:6]}", "postgresql", {"host": "h", "password": "p"})

    return work


def _authorizer_work(stack, make_user, monkeypatch) -> Work:
    token = make_user("iam-auth", use=False).token  # a token the authorizer has not seen (not cached)

    def work() -> None:
        response = requests.get(
            f"{stack.api_url}/flows", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        if response.status_code != 200:
            raise PermissionError(f"a valid token was refused: {response.status_code}")

    return work


def _s3_events_work(stack, make_user, monkeypatch) -> Work:
    from stepstore.local.gateway import LocalFunction
    from stepstore_functions.events import s3_notifications

    _ensure_bus(stack)
    record = {
        "eventName": "ObjectCreated:Put",
        "eventTime": "2026-01-01T00:00:00.000Z",
        "s3": {
            "bucket": {"name": _fixtures_bucket()},
            "object": {"key": "fixture/iam.csv", "size": 3, "eTag": "e"},
        },
    }
    function = LocalFunction(
        "s3-events", s3_notifications.lambda_handler, stack.function_credentials("s3-events")
    )

    def work() -> None:
        assert function.invoke({"Records": [record]}) == {"published": 1}

    return work


def _stream_events_work(stack, make_user, monkeypatch) -> Work:
    from stepstore import StoreInterface
    from stepstore.local.events import _StreamReader
    from stepstore.local.gateway import LocalFunction
    from stepstore.local.stack import REGION, STAGE
    from stepstore_functions.events import stream
    from stepstore_functions.resources import METADATA_TABLE

    _ensure_bus(stack)
    arn = boto3.client("dynamodb", region_name=REGION).describe_table(
        TableName=METADATA_TABLE.physical_name(STAGE)
    )["Table"]["LatestStreamArn"]
    # Lambda's event source mapping reads the stream with the function's role.
    streams = boto3.client(
        "dynamodbstreams",
        region_name=REGION,
        endpoint_url=stack.aws_endpoint_url,
        **stack.principals.boto3_kwargs("stream-events"),
    )
    reader = _StreamReader(streams, arn)
    make_user("iam-stream")
    StoreInterface(f"iam-{uuid.uuid4().hex[:8]}", step_name="s").set_step_status("completed")  # StepCompleted
    function = LocalFunction(
        "stream-events", stream.lambda_handler, stack.function_credentials("stream-events")
    )

    def work() -> None:
        records = reader.peek()
        assert records, "the step's write is on the stream"
        event = {"Records": [{**r, "eventSourceARN": arn, "eventSource": "aws:dynamodb"} for r in records]}
        result = function.invoke(event)
        if result["batchItemFailures"]:
            raise PermissionError(f"the bus refused the stream's events: {result}")

    return work


def _trigger_work(stack, make_user, monkeypatch) -> Work:
    from aws_lambda_powertools.utilities import parameters

    from stepstore.local.gateway import LocalFunction
    from stepstore.local.stack import REGION
    from stepstore_functions.triggers import fixture_flow

    token = make_user("iam-trigger", use=False, role="service").token
    secrets = boto3.client("secretsmanager", region_name=REGION)
    arn = secrets.create_secret(
        Name=f"stepstore/local/trigger-token-{uuid.uuid4().hex[:6]}", SecretString=token
    )["ARN"]
    # The trigger reads its token from a secret, as deployed (GetSecretValue under its role).
    monkeypatch.setenv(fixture_flow.TOKEN_SECRET_ENV, arn)
    monkeypatch.setenv("STEPSTORE_API_URL", stack.api_url)
    key = f"fixture/iam-{uuid.uuid4().hex[:6]}.csv"
    boto3.client("s3", region_name=REGION).put_object(Bucket=_fixtures_bucket(), Key=key, Body=b"a\n1\n")
    detail = {
        "stage": "local",
        "occurred_at": "2026-01-01T00:00:00Z",
        "bucket": _fixtures_bucket(),
        "key": key,
        "fixture_name": key.removeprefix("fixture/"),
        "size": 4,
        "etag": "e",
    }
    function = LocalFunction(
        "fixture-trigger", fixture_flow.lambda_handler, stack.function_credentials("fixture-trigger")
    )

    def work() -> None:
        parameters.clear_caches()  # the token is read from the secret, not from a cache
        assert function.invoke({"id": str(uuid.uuid4()), "detail": detail})["status"] == "completed"

    return work


def _ensure_bus(stack) -> None:
    from stepstore.local.stack import REGION, STAGE
    from stepstore_functions.events.schema import event_bus_name

    events = boto3.client("events", region_name=REGION)
    if not any(b["Name"] == event_bus_name(STAGE) for b in events.list_event_buses()["EventBuses"]):
        events.create_event_bus(Name=event_bus_name(STAGE))


WORK = {
    "api": _api_work,
    "authorizer": _authorizer_work,
    "s3-events": _s3_events_work,
    "stream-events": _stream_events_work,
    "fixture-trigger": _trigger_work,
}


def test_every_function_with_a_statement_moto_can_enforce_has_its_work_here():
    assert {function for function, _ in enforced_statements()} == set(WORK)


@pytest.mark.parametrize("function", sorted(WORK))
def test_each_function_does_its_work_under_exactly_its_template_role(stack, make_user, monkeypatch, function):
    WORK[function](stack, make_user, monkeypatch)()


@pytest.mark.parametrize("case", enforced_statements(), ids=_label)
def test_removing_any_one_statement_from_a_role_fails_that_functions_work(
    stack, make_user, monkeypatch, role_without, case
):
    function, index = case
    work = WORK[function](stack, make_user, monkeypatch)
    with role_without(function, index), pytest.raises(Exception):  # noqa: B017 (any refusal counts)
        work()


def test_a_function_role_cannot_do_what_its_template_does_not_grant(stack):
    from stepstore.local.stack import REGION

    authorizer = boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=stack.aws_endpoint_url,
        **stack.principals.boto3_kwargs("authorizer"),
    )
    with pytest.raises(authorizer.exceptions.ClientError, match="AccessDenied"):
        authorizer.put_object(Bucket=_fixtures_bucket(), Key="fixture/nope.csv", Body=io.BytesIO(b"x"))
