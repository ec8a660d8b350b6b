"""AWS clients, created once per process (Lambda execution environment) and reused.

Made with botocore directly: boto3 would add s3transfer and multiprocessing to every cold start,
and these functions use nothing of it but the clients.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import botocore.session
from botocore.config import Config

from stepstore_functions.settings import get_settings

_CONFIG = Config(signature_version="s3v4", retries={"max_attempts": 3, "mode": "standard"})


@cache
def client(service: str) -> Any:
    return botocore.session.get_session().create_client(
        service, region_name=get_settings().region, config=_CONFIG
    )


def reset() -> None:
    """Forget cached settings, clients and table bindings (the local stack calls this on start)."""
    from stepstore_functions.dal import flows, tables

    get_settings.cache_clear()
    client.cache_clear()
    tables.bind_tables()
    flows.forget_positions()
