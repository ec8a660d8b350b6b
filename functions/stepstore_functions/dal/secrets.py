"""Connection credentials in Secrets Manager: one secret per connection, named by owner and name.

Nothing here logs, and no error raised here carries a secret's value.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from botocore.exceptions import ClientError

from stepstore_functions.dal.clients import client


class _WithoutSecretBodies(logging.Filter):
    """botocore logs request params and response bodies at DEBUG; drop those that carry a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:
            return True
        return "SecretString" not in text and "SecretBinary" not in text


_FILTER = _WithoutSecretBodies()
for _name in ("botocore.endpoint", "botocore.parsers", "botocore.auth", "botocore.hooks"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _WithoutSecretBodies) for f in _logger.filters):
        _logger.addFilter(_FILTER)


class SecretStore:
    """Secrets under one name prefix (the deployment's `secrets_prefix`)."""

    def __init__(self, prefix: str, secretsmanager: Any = None) -> None:
        self.prefix = prefix
        self._client = secretsmanager  # injected in tests; otherwise the process-wide client

    @property
    def client(self) -> Any:
        return self._client or client("secretsmanager")

    def secret_name(self, owner: str, name: str) -> str:
        return f"{self.prefix}{owner}/{name}"

    def put(self, owner: str, name: str, value: dict[str, Any]) -> None:
        """Create the secret, or store a new version of it (a leftover of a deleted connection too)."""
        secret_id = self.secret_name(owner, name)
        payload = json.dumps(value, separators=(",", ":"))
        try:
            self.client.create_secret(
                Name=secret_id,
                SecretString=payload,
                Tags=[{"Key": "stepstore-owner", "Value": owner}],
            )
        except ClientError as error:
            if _code(error) != "ResourceExistsException":
                raise
            self.client.put_secret_value(SecretId=secret_id, SecretString=payload)

    def get(self, owner: str, name: str) -> dict[str, Any] | None:
        try:
            response = self.client.get_secret_value(SecretId=self.secret_name(owner, name))
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":
                return None
            raise
        return json.loads(response["SecretString"])

    def delete(self, owner: str, name: str) -> None:
        try:
            # Without recovery, so the same name can be created again at once.
            self.client.delete_secret(SecretId=self.secret_name(owner, name), ForceDeleteWithoutRecovery=True)
        except ClientError as error:
            if _code(error) != "ResourceNotFoundException":
                raise


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
