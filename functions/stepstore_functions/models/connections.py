"""Connections: API bodies and the domain entity. Credentials appear only in the bodies that carry them
in (create, update) and the one that carries them out (the credentials route)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import Field

from stepstore_functions.models.api import NEXT_DESCRIPTION, ApiModel
from stepstore_functions.models.errors import InvalidInputError


class ConnectionKind(StrEnum):
    """What a connection connects to (the SDK's ConnectionType has the same values)."""

    POSTGRESQL = "postgresql"
    MYSQL = "mysql"
    MARIADB = "mariadb"
    MSSQL = "mssql"
    MSSQL_PYODBC = "mssql_pyodbc"
    MSSQL_PYMYSQL = "mssql_pymysql"
    REDSHIFT = "redshift"
    SNOWFLAKE = "snowflake"
    DATABRICKS = "databricks"
    SPARK = "spark"
    S3 = "s3"
    API = "api"
    OTHER = "other"


# A credential value is a scalar: host, port, user, password, token, flags.
CredentialValue = str | int | float | bool | None

MAX_CREDENTIAL_FIELDS = 64
# Secrets Manager takes up to 64 KiB; credentials are a few hundred bytes, so this bounds abuse only.
MAX_CREDENTIALS_BYTES = 16 * 1024

# The name is part of the secret's name: Secrets Manager allows letters, digits and / _ + = . @ -
# ('/' separates owner and name, so it is not allowed here).
_CONNECTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_+=.@\-]{0,127}$")


def valid_connection_name(field: str, value: str) -> str:
    if not isinstance(value, str) or not _CONNECTION_NAME.match(value):
        raise InvalidInputError(
            f"{field} {value!r} is not a valid connection name: use 1-128 letters, digits and _ + = . @ -, "
            "starting with a letter or digit",
            field=field,
        )
    return value


@dataclass(frozen=True)
class Connection:
    """A connection's public record: everything but the credentials."""

    connection_id: str
    owner: str
    name: str
    kind: ConnectionKind
    description: str
    version: int
    credential_fields: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    shared_with: tuple[str, ...] = ()


class ConnectionCreate(ApiModel):
    name: str = Field(min_length=1, max_length=128)
    type: ConnectionKind
    description: str = Field(default="", max_length=1024)
    # repr=False: Powertools logs a route's arguments at DEBUG, and this repr must not carry secrets.
    credentials: dict[str, CredentialValue] = Field(
        default_factory=dict,
        repr=False,
        description="Host, port, user, password, database, tokens: kept in Secrets Manager, never listed.",
    )


class ConnectionUpdate(ApiModel):
    type: ConnectionKind | None = None
    description: str | None = Field(default=None, max_length=1024)
    credentials: dict[str, CredentialValue] | None = Field(
        default=None, repr=False, description="Replaces every stored credential when given."
    )


class ConnectionOut(ApiModel):
    connection_id: str
    name: str
    owner: str
    type: ConnectionKind
    description: str
    version: int
    credential_fields: list[str] = Field(
        description="The names of the stored credentials, never their values."
    )
    shared_with: list[str] | None = Field(default=None, description="Shown to the owner only.")
    created_at: datetime
    updated_at: datetime


class ConnectionList(ApiModel):
    connections: list[ConnectionOut]
    next: str | None = Field(default=None, description=NEXT_DESCRIPTION)


class ConnectionCredentials(ApiModel):
    connection_id: str
    name: str
    owner: str
    type: ConnectionKind
    version: int
    credentials: dict[str, CredentialValue] = Field(repr=False)
