"""IAM on the local stack: each function runs under exactly the policy the CDK app gives its role.

In AWS every Lambda execution environment holds its role's session credentials. Here the functions
share one process, so the local stack does the same per invocation:

- moto enforces IAM (``/moto-api/reset-auth``, the server-mode form of ``INITIAL_NO_AUTH_ACTION_COUNT``):
  a request is allowed only when the caller's policies allow its action (and, for S3, its bucket
  and key).
- For each function an IAM role is created from ``role_policies.json`` (the synthesized template's
  statements, see infra/role_policies.py) and assumed through STS; the process itself acts as an
  operator role that may do anything (tests reading what a function wrote, provisioning).
- While a local function runs (`acting_as`), botocore signs with that function's role credentials;
  outside an invocation it signs as the operator. Clients are cached per process as in Lambda, so
  the credentials are looked up when a request is signed, not when a client is made.
- moto cannot authorize presigned URLs (it expects an ``Authorization`` header), so a small WSGI layer
  in front of it turns a presigned request into the same request signed in a header by the
  principal who presigned it; S3 then allows or denies it as that principal, as AWS does.

What moto cannot check is translated, and said here once:
- moto authorizes DynamoDB, Secrets Manager, EventBridge, CloudWatch Logs and X-Ray calls against
  Resource ``*``, so their statements are given to moto with ``*`` (the action is still enforced;
  which tables, secrets and bus a role names is asserted on the template by tests/infra).
- AWS authorizes a DynamoDB transaction by each item's action; moto asks for
  ``TransactWriteItems``/``TransactGetItems``, which are added where the item actions are granted.
- AWS authorizes a multi-object delete (``DeleteObjects``) by ``s3:DeleteObject`` on each key; moto
  checks it once against the bucket's ARN, so a grant on ``<bucket>/*`` is given to moto on the
  bucket's ARN as well.
- CORS preflights are unauthenticated in S3, but moto demands a signature of every request while it
  enforces IAM: the WSGI layer signs a preflight as the operator, and moto answers it from the
  bucket's CORS rules.
- moto's IAM layer logs every request body at DEBUG (secrets included); that logger is kept at INFO.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, urlencode

import boto3
import botocore.session
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, ReadOnlyCredentials

POLICIES_RESOURCE = "role_policies.json"
OPERATOR = "operator"
# Services whose requests moto authorizes against Resource "*" (see the module docstring).
_RESOURCE_BLIND = ("dynamodb:", "secretsmanager:", "events:", "logs:", "xray:")
_TRANSACTIONAL_WRITES = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
}
_PRESIGN_PARAMETERS = {
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
}


def template_policies() -> dict[str, list[dict[str, Any]]]:
    """{function key: statements} as generated from the synthesized template (stage-free form)."""
    text = resources.files("stepstore.local").joinpath(POLICIES_RESOURCE).read_text()
    return json.loads(text)["roles"]


def resolve(statements: list[dict[str, Any]], values: dict[str, str]) -> list[dict[str, Any]]:
    """The statements with ``${Stage}``, ``${AWS::Region}``... filled in from `values`."""
    text = json.dumps(statements)
    for key, value in values.items():
        text = text.replace("${" + key + "}", value)
    return json.loads(text)


def for_moto(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The statements as moto can evaluate them (see the module docstring for each translation)."""
    translated = []
    for statement in statements:
        actions = list(statement["Action"])
        if _TRANSACTIONAL_WRITES & set(actions):
            actions.append("dynamodb:TransactWriteItems")
        if "dynamodb:GetItem" in actions:
            actions.append("dynamodb:TransactGetItems")
        blind = all(action.startswith(_RESOURCE_BLIND) for action in actions)
        resources = list(statement["Resource"])
        if "s3:DeleteObject" in actions:
            resources += [r.removesuffix("/*") for r in resources if r.endswith("/*")]
        translated.append(
            {
                "Effect": statement["Effect"],
                "Action": actions,
                "Resource": "*" if blind else resources,
            }
        )
    return translated


# The credentials botocore signs with: the running local function's role, else the operator.
_current: ContextVar[ReadOnlyCredentials | None] = ContextVar("stepstore_local_credentials", default=None)


@contextlib.contextmanager
def acting_as(credentials: ReadOnlyCredentials | None) -> Iterator[None]:
    """Sign AWS requests made in this block (this thread) with `credentials` (None: the operator)."""
    token = _current.set(credentials)
    try:
        yield
    finally:
        _current.reset(token)


class _InvocationCredentials(Credentials):
    """Credentials that are the current local function's role while one runs, else the fallback."""

    def __init__(self, fallback: Credentials) -> None:  # no super().__init__: nothing is fixed here
        self._fallback = fallback
        self.method = "stepstore-local"

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        return _current.get() or self._fallback.get_frozen_credentials()

    @property  # type: ignore[override]
    def access_key(self) -> str:
        return self.get_frozen_credentials().access_key

    @property  # type: ignore[override]
    def secret_key(self) -> str:
        return self.get_frozen_credentials().secret_key

    @property  # type: ignore[override]
    def token(self) -> str | None:
        return self.get_frozen_credentials().token


_original_get_credentials: Callable[..., Any] | None = None


def _get_credentials(self: botocore.session.Session) -> Any:
    assert _original_get_credentials is not None
    found = _original_get_credentials(self)
    return _InvocationCredentials(found) if found is not None else None


def install_credential_switch() -> None:
    """Make every botocore session (pynamodb's, Powertools', ours) sign per invocation."""
    global _original_get_credentials
    if _original_get_credentials is None:
        _original_get_credentials = botocore.session.Session.get_credentials
        botocore.session.Session.get_credentials = _get_credentials  # type: ignore[method-assign]


def uninstall_credential_switch() -> None:
    global _original_get_credentials
    if _original_get_credentials is not None:
        botocore.session.Session.get_credentials = _original_get_credentials  # type: ignore[method-assign]
        _original_get_credentials = None


@dataclass
class Principals:
    """The roles of one local stack: the operator's and one per function, with their session keys."""

    operator: ReadOnlyCredentials
    functions: dict[str, ReadOnlyCredentials]
    role_names: dict[str, str]
    statements: dict[str, list[dict[str, Any]]]

    def by_access_key(self) -> dict[str, ReadOnlyCredentials]:
        every = [self.operator, *self.functions.values()]
        return {credentials.access_key: credentials for credentials in every}

    def boto3_kwargs(self, function: str) -> dict[str, str | None]:
        """Keyword arguments for a boto3 client acting as `function`'s role."""
        credentials = self.functions[function]
        return {
            "aws_access_key_id": credentials.access_key,
            "aws_secret_access_key": credentials.secret_key,
            "aws_session_token": credentials.token,
        }


_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
)
_EVERYTHING = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]


def put_role_policy(iam: Any, role_name: str, statements: list[dict[str, Any]]) -> None:
    """Replace `role_name`'s one inline policy with `statements` (translated for moto)."""
    document = {"Version": "2012-10-17", "Statement": for_moto(statements)}
    iam.put_role_policy(
        RoleName=role_name, PolicyName="stepstore-template", PolicyDocument=json.dumps(document)
    )


def create_principals(
    endpoint_url: str, region: str, prefix: str, policies: dict[str, list[dict[str, Any]]]
) -> Principals:
    """Create the operator role and one role per function in moto, and assume each (before
    enforcement is switched on; the caller uses moto's initial unauthenticated allowance)."""
    unique = uuid.uuid4().hex[:6]
    fake = {"aws_access_key_id": "local", "aws_secret_access_key": "local", "aws_session_token": None}
    iam = boto3.client("iam", region_name=region, endpoint_url=endpoint_url, **fake)
    sts = boto3.client("sts", region_name=region, endpoint_url=endpoint_url, **fake)

    def role(key: str, statements: list[dict[str, Any]]) -> tuple[str, ReadOnlyCredentials]:
        role_name = f"{prefix}-{key}-role-{unique}"
        arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=_TRUST)["Role"]["Arn"]
        if key == OPERATOR:
            document = {"Version": "2012-10-17", "Statement": statements}
            iam.put_role_policy(
                RoleName=role_name, PolicyName="operator", PolicyDocument=json.dumps(document)
            )
        else:
            put_role_policy(iam, role_name, statements)
        found = sts.assume_role(RoleArn=arn, RoleSessionName=f"{key}-session", DurationSeconds=43200)
        c = found["Credentials"]
        return role_name, ReadOnlyCredentials(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])

    _, operator = role(OPERATOR, _EVERYTHING)
    functions, names = {}, {}
    for key, statements in policies.items():
        names[key], functions[key] = role(key, statements)
    return Principals(operator=operator, functions=functions, role_names=names, statements=policies)


def presigned_as_header_signed(
    app: Callable[..., Iterable[bytes]], lookup: Callable[[], dict[str, ReadOnlyCredentials]]
) -> Callable[..., Iterable[bytes]]:
    """WSGI middleware: a presigned request is re-signed in a header by the principal who presigned it.

    moto authorizes only header-signed requests; a presigned URL carries the presigner's access key
    in ``X-Amz-Credential``, and S3 acts with that principal's permissions. Requests that are not
    presigned pass through untouched. (moto checks neither a presigned URL's signature nor its
    expiry, with or without this layer: the unit tests of presigning cover those.)
    """

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "OPTIONS" and not environ.get("HTTP_AUTHORIZATION"):
            known = lookup()
            if known:  # IAM is enforced: get the (unauthenticated) preflight past moto's signature check
                environ = _signed_as(environ, next(iter(known.values())), "s3", "us-east-1", "")
            return app(environ, start_response)
        query = environ.get("QUERY_STRING", "")
        if "X-Amz-Credential=" not in query or environ.get("HTTP_AUTHORIZATION"):
            return app(environ, start_response)
        known = lookup()
        if not known:  # IAM is not enforced: moto serves presigned requests as they are
            return app(environ, start_response)
        pairs = parse_qsl(query, keep_blank_values=True)
        given = dict(pairs)
        access_key, _, region, service, _ = given["X-Amz-Credential"].split("/", 4)
        credentials = known.get(access_key)
        if credentials is None:
            body = (
                b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code>'
                b"<Message>The AWS Access Key Id you provided does not exist.</Message></Error>"
            )
            start_response(
                "403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
            )
            return [body]
        remaining = urlencode([(k, v) for k, v in pairs if k not in _PRESIGN_PARAMETERS])
        return app(_signed_as(environ, credentials, service, region, remaining), start_response)

    return middleware


def _signed_as(
    environ: dict[str, Any], credentials: ReadOnlyCredentials, service: str, region: str, query: str
) -> dict[str, Any]:
    """`environ` with `query` as its query string, signed in an Authorization header by `credentials`."""
    host = environ.get("HTTP_HOST", "")
    path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
    path = path.split("?", 1)[0]
    request = AWSRequest(
        method=environ["REQUEST_METHOD"],
        url=f"http://{host}{path}" + (f"?{query}" if query else ""),
        headers={"host": host, "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"},
    )
    S3SigV4Auth(
        Credentials(credentials.access_key, credentials.secret_key, credentials.token), service, region
    ).add_auth(request)
    environ = dict(environ)
    environ["QUERY_STRING"] = query
    for uri_key in ("RAW_URI", "REQUEST_URI"):
        if uri_key in environ:
            environ[uri_key] = path + (f"?{query}" if query else "")
    for header, value in request.headers.items():
        if header.lower() != "host":
            environ["HTTP_" + header.upper().replace("-", "_")] = value
    return environ
