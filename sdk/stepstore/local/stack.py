"""LocalStack: moto's server, the resources from the one spec, and the API on a free port."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import requests

from stepstore.local.console import ConsoleFiles
from stepstore.local.environment import EnvironmentPatch
from stepstore.local.gateway import Gateway, GatewayServer, LocalFunction, serve

REGION = "us-east-1"
STAGE = "local"

# Credentials moto accepts; set only while the stack runs, so no real account is ever touched.
_FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "StepStore",
}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class LocalStack:
    """StepStore on this machine: moto in server mode for AWS, the real handlers behind a local gateway.

    Use it as a context manager::

        with LocalStack() as stack:
            token = stack.create_user("alice")
            # STEPSTORE_API_URL=stack.api_url, STEPSTORE_TOKEN=token

    While it runs, this process's environment points AWS clients at moto (``AWS_ENDPOINT_URL``)
    with fake credentials; `stop` restores the environment as it was.

    With ``enforce_iam=True`` each function runs under exactly the IAM policy the CDK app gives its
    role (``stepstore.local.iam``), moto refusing whatever that policy does not allow, and this
    process acts as an operator role that may do anything.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        quiet: bool = True,
        enforce_iam: bool = False,
        role_policies: dict[str, list[dict[str, Any]]] | None = None,
        allowed_origins: tuple[str, ...] | None = None,
    ) -> None:
        from stepstore.local.cors import DEFAULT_LOCAL_ORIGINS

        self.allowed_origins = tuple(DEFAULT_LOCAL_ORIGINS if allowed_origins is None else allowed_origins)
        self.host = host
        self.port = port or free_port(host)
        self.quiet = quiet
        self.enforce_iam = enforce_iam
        self._role_policies = role_policies
        self.principals: Any = None  # stepstore.local.iam.Principals while IAM is enforced
        self.api_url = f"http://{host}:{self.port}"
        self.console_url = f"{self.api_url}/"
        # The console this stack serves uploads to S3 from its own origin, so the buckets allow it.
        self.allowed_origins = tuple(dict.fromkeys([*self.allowed_origins, self.api_url]))
        self.aws_endpoint_url = ""
        self.admin_token = ""
        self._moto: Any = None
        self._server: GatewayServer | None = None
        self._environment = EnvironmentPatch()

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def environment(self) -> dict[str, str]:
        """What a flow (or the CLI) needs in its environment to use this stack as the admin."""
        return {"STEPSTORE_API_URL": self.api_url, "STEPSTORE_TOKEN": self.admin_token}

    def start(self) -> LocalStack:
        from stepstore.local import iam

        if self.quiet:
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
        moto_port = free_port(self.host)
        self._moto = _MotoServer(
            self.host, moto_port, lambda app: iam.presigned_as_header_signed(app, self._access_keys)
        )
        self._moto.start()
        self.aws_endpoint_url = f"http://{self.host}:{moto_port}"

        from stepstore_functions.resources import Deployment

        env = {
            **_FAKE_AWS_ENV,
            "AWS_ENDPOINT_URL": self.aws_endpoint_url,
            **Deployment(stage=STAGE).environment(),
            "STEPSTORE_ALLOWED_ORIGINS": ",".join(self.allowed_origins),
        }
        if self.quiet:
            env.update(POWERTOOLS_LOG_LEVEL="WARNING", POWERTOOLS_METRICS_DISABLED="true")
        self._environment.set(env)
        try:
            self._set_iam_enforcement(False)  # moto's setting is per process: start from "off"
            if self.enforce_iam:
                self._create_principals()
            self._provision()
            self._start_api()
            if self.enforce_iam:
                self._set_iam_enforcement(True)
        except BaseException:
            self.stop()
            raise
        return self

    def _access_keys(self) -> dict[str, Any]:
        return self.principals.by_access_key() if self.principals is not None else {}

    def _set_iam_enforcement(self, on: bool) -> None:
        """moto's INITIAL_NO_AUTH_ACTION_COUNT, through its server-mode endpoint: 0 enforces IAM on
        every request from now on; infinity (moto's default) enforces nothing."""
        requests.post(
            f"{self.aws_endpoint_url}/moto-api/reset-auth", data=b"0" if on else b"inf", timeout=10
        ).raise_for_status()

    def _create_principals(self) -> None:
        from stepstore.local import iam
        from stepstore_functions.resources import Deployment

        values = {
            "Stage": STAGE,
            "AWS::Region": REGION,
            "AWS::AccountId": Deployment(stage=STAGE).account,
            "AWS::Partition": "aws",
        }
        policies = self._role_policies if self._role_policies is not None else iam.template_policies()
        self.principals = iam.create_principals(
            self.aws_endpoint_url,
            REGION,
            f"stepstore-{STAGE}",
            {key: iam.resolve(statements, values) for key, statements in policies.items()},
        )
        operator = self.principals.operator
        self._environment.set(
            {
                "AWS_ACCESS_KEY_ID": operator.access_key,
                "AWS_SECRET_ACCESS_KEY": operator.secret_key,
                "AWS_SESSION_TOKEN": operator.token,
            }
        )
        # boto3's default session keeps the credentials it first found; make it read the operator's.
        boto3.DEFAULT_SESSION = None
        iam.install_credential_switch()
        # moto's IAM layer logs each request, body and all (secrets too), at DEBUG.
        logging.getLogger("moto.iam.access_control").setLevel(logging.INFO)

    @contextlib.contextmanager
    def granted(self, function: str, statements: list[dict[str, Any]]) -> Iterator[None]:
        """`function`'s role holds `statements` too for the block (IAM enforced only): what the CDK
        app grants for a stage setting (a readable bucket, say) that the template used for the
        local roles does not have."""
        from stepstore.local import iam

        if self.principals is None:
            yield
            return
        client = boto3.client("iam", region_name=REGION, endpoint_url=self.aws_endpoint_url)
        role, base = self.principals.role_names[function], self.principals.statements[function]
        iam.put_role_policy(client, role, base + statements)
        try:
            yield
        finally:
            iam.put_role_policy(client, role, base)

    def function_credentials(self, function: str) -> Any:
        """The credentials `function` runs with (its role's session), or None when IAM is not enforced."""
        if self.principals is None:
            return None
        return self.principals.functions.get(function)

    def _provision(self) -> None:
        from stepstore_functions.resources import (
            BUCKET_CORS_ALLOWED_HEADERS,
            BUCKET_CORS_EXPOSED_HEADERS,
            BUCKET_CORS_MAX_AGE_SECONDS,
            BUCKET_CORS_METHODS,
            BUCKETS,
            TABLES,
            Deployment,
        )

        deployment = Deployment(stage=STAGE)
        dynamodb = boto3.client("dynamodb", region_name=REGION, endpoint_url=self.aws_endpoint_url)
        for table in TABLES:
            name = table.physical_name(STAGE)
            keys = {table.partition_key, table.sort_key} | {
                k for i in table.indexes for k in (i.partition_key, i.sort_key)
            }
            request: dict[str, Any] = {
                "TableName": name,
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": k, "AttributeType": "S"} for k in sorted(keys)],
                "KeySchema": [
                    {"AttributeName": table.partition_key, "KeyType": "HASH"},
                    {"AttributeName": table.sort_key, "KeyType": "RANGE"},
                ],
            }
            if table.indexes:
                request["GlobalSecondaryIndexes"] = [
                    {
                        "IndexName": i.name,
                        "KeySchema": [
                            {"AttributeName": i.partition_key, "KeyType": "HASH"},
                            {"AttributeName": i.sort_key, "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                    for i in table.indexes
                ]
            if table.stream:
                request["StreamSpecification"] = {
                    "StreamEnabled": True,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                }
            dynamodb.create_table(**request)
            if table.ttl_attribute:
                dynamodb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
                )
        s3 = boto3.client("s3", region_name=REGION, endpoint_url=self.aws_endpoint_url)
        for bucket in BUCKETS:
            name = bucket.physical_name(STAGE, deployment.account)
            s3.create_bucket(Bucket=name)
            if bucket.versioned:
                s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
            if bucket.cors and self.allowed_origins:
                s3.put_bucket_cors(
                    Bucket=name,
                    CORSConfiguration={
                        "CORSRules": [
                            {
                                "AllowedMethods": list(BUCKET_CORS_METHODS),
                                "AllowedOrigins": list(self.allowed_origins),
                                "AllowedHeaders": list(BUCKET_CORS_ALLOWED_HEADERS),
                                "ExposeHeaders": list(BUCKET_CORS_EXPOSED_HEADERS),
                                "MaxAgeSeconds": BUCKET_CORS_MAX_AGE_SECONDS,
                            }
                        ]
                    },
                )

    def _start_api(self) -> None:
        from stepstore_functions.dal import clients

        clients.reset()
        from stepstore_functions.handlers import api, authorizer
        from stepstore_functions.logic.users import create_user
        from stepstore_functions.models.domain import Role

        _, self.admin_token = create_user(None, "admin", Role.ADMIN)
        gateway = Gateway(
            api=LocalFunction("stepstore-api", api.lambda_handler, self.function_credentials("api")),
            authorizer=LocalFunction(
                "stepstore-authorizer", authorizer.lambda_handler, self.function_credentials("authorizer")
            ),
            public_routes=api.PUBLIC_ROUTES,
            stage=STAGE,
            region=REGION,
            allowed_origins=frozenset(self.allowed_origins),
            console=ConsoleFiles(),
            storage_origins=[self.aws_endpoint_url],
        )
        self._server = serve(gateway, self.host, self.port)

    def create_user(self, name: str, role: str = "user") -> str:
        """Create a user through the API, as an admin would; returns its token."""
        response = requests.post(
            f"{self.api_url}/users",
            json={"name": name, "role": role},
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=30,
        )
        if response.status_code != 200:
            raise RuntimeError(f"creating user {name!r} failed: {response.status_code} {response.text}")
        return response.json()["token"]

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._moto is not None:
            if self.enforce_iam:
                from stepstore.local import iam

                self._set_iam_enforcement(False)
                iam.uninstall_credential_switch()
                self.principals = None
                boto3.DEFAULT_SESSION = None
            self._moto.stop()
            self._moto = None
        self._environment.restore()


class _MotoServer:
    """moto's server (as moto.server.ThreadedMotoServer runs it), its WSGI app wrapped by `wrap`."""

    def __init__(self, host: str, port: int, wrap: Callable[[Any], Any]) -> None:
        self.host, self.port, self._wrap = host, port, wrap
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = self._wrap(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(self.host, self.port, app, True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="stepstore-moto", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
