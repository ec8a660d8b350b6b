"""boto3 clients, created once per process (Lambda execution environment) and reused."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from stepstore_functions.settings import get_settings

_CONFIG = Config(signature_version="s3v4", retries={"max_attempts": 3, "mode": "standard"})


@cache
def client(service: str) -> Any:
    return boto3.session.Session().client(service, region_name=get_settings().region, config=_CONFIG)


def reset() -> None:
    """Forget cached settings, clients and table bindings (the local stack calls this on start)."""
    from stepstore_functions.dal import flows, tables

    get_settings.cache_clear()
    client.cache_clear()
    tables.bind_tables()
    flows.forget_positions()
