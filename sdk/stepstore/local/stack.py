"""LocalStack: moto's server, the resources from the one spec, and the API on a free port."""

from __future__ import annotations

import logging
import socket
from typing import Any

import boto3
import requests

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
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.quiet = quiet
        self.api_url = f"http://{host}:{self.port}"
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
        from moto.server import ThreadedMotoServer

        if self.quiet:
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
        moto_port = free_port(self.host)
        self._moto = ThreadedMotoServer(ip_address=self.host, port=moto_port, verbose=False)
        self._moto.start()
        self.aws_endpoint_url = f"http://{self.host}:{moto_port}"

        from stepstore_functions.resources import Deployment

        env = {
            **_FAKE_AWS_ENV,
            "AWS_ENDPOINT_URL": self.aws_endpoint_url,
            **Deployment(stage=STAGE).environment(),
        }
        if self.quiet:
            env.update(POWERTOOLS_LOG_LEVEL="WARNING", POWERTOOLS_METRICS_DISABLED="true")
        self._environment.set(env)
        try:
            self._provision()
            self._start_api()
        except BaseException:
            self.stop()
            raise
        return self

    def _provision(self) -> None:
        from stepstore_functions.resources import BUCKETS, TABLES, Deployment

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

    def _start_api(self) -> None:
        from stepstore_functions.dal import clients

        clients.reset()
        from stepstore_functions.handlers import api, authorizer
        from stepstore_functions.logic.users import create_user
        from stepstore_functions.models.domain import Role

        _, self.admin_token = create_user(None, "admin", Role.ADMIN)
        gateway = Gateway(
            api=LocalFunction("stepstore-api", api.lambda_handler),
            authorizer=LocalFunction("stepstore-authorizer", authorizer.lambda_handler),
            public_routes=api.PUBLIC_ROUTES,
            stage=STAGE,
            region=REGION,
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
            self._moto.stop()
            self._moto = None
        self._environment.restore()
