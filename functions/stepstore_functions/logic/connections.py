"""Connections: named credentials owned by a user and shared with others.

Who may see what: the owner sees and changes everything; a user a connection is shared with may
read it and its credentials; anyone else is told it is not found, exactly as if it did not exist.
Credentials never appear in an error message or a log line.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import replace
from typing import Any

from stepstore_functions.dal import connections as connection_store
from stepstore_functions.dal import cursors
from stepstore_functions.dal.cursors import page_size
from stepstore_functions.dal.secrets import SecretStore
from stepstore_functions.models.connections import (
    MAX_CREDENTIAL_FIELDS,
    MAX_CREDENTIALS_BYTES,
    Connection,
    ConnectionKind,
    valid_connection_name,
)
from stepstore_functions.models.domain import Actor, valid_user_name
from stepstore_functions.models.errors import ConflictError, InvalidInputError, NotFoundError
from stepstore_functions.settings import get_settings

# How many users one connection may be shared with.
MAX_SHARES = 100
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,127}$")
_SQL_KINDS = frozenset(
    {
        ConnectionKind.POSTGRESQL,
        ConnectionKind.MYSQL,
        ConnectionKind.MARIADB,
        ConnectionKind.MSSQL,
        ConnectionKind.MSSQL_PYODBC,
        ConnectionKind.MSSQL_PYMYSQL,
        ConnectionKind.REDSHIFT,
    }
)
_ID = re.compile(r"^[0-9a-f]{32}$")


def _secrets() -> SecretStore:
    return SecretStore(get_settings().secrets_prefix)


def _not_found(owner: str, name: str) -> NotFoundError:
    # The same words whether the connection is missing or merely not the caller's to see.
    return NotFoundError(f"connection {name!r} of user {owner!r} not found")


def check_credentials(kind: ConnectionKind, credentials: dict[str, Any]) -> dict[str, Any]:
    """Field names and sizes are checked, and what each kind needs is present; values are never echoed."""
    if len(credentials) > MAX_CREDENTIAL_FIELDS:
        raise InvalidInputError(
            f"credentials have {len(credentials)} fields; the limit is {MAX_CREDENTIAL_FIELDS}",
            field="credentials",
        )
    for key in credentials:
        if not _FIELD.match(key):
            raise InvalidInputError(
                f"credential field name {key[:64]!r} is not valid: use letters, digits and _ . -",
                field="credentials",
            )
    if len(json.dumps(credentials)) > MAX_CREDENTIALS_BYTES:
        raise InvalidInputError(
            f"credentials are larger than {MAX_CREDENTIALS_BYTES} bytes of JSON", field="credentials"
        )
    present = {k for k, v in credentials.items() if v not in (None, "")}
    required: tuple[tuple[str, ...], ...] = ()
    if kind in _SQL_KINDS:
        required = (("host",),)
    elif kind is ConnectionKind.SNOWFLAKE:
        required = (("account",),)
    elif kind is ConnectionKind.DATABRICKS:
        required = (("server_hostname", "host"),)
    for alternatives in required:
        if not present.intersection(alternatives):
            raise InvalidInputError(
                f"a {kind.value} connection needs credential field {' or '.join(map(repr, alternatives))}",
                field="credentials",
            )
    return credentials


def create_connection(
    actor: Actor, name: str, kind: ConnectionKind, description: str, credentials: dict[str, Any]
) -> Connection:
    """A new connection owned by the actor; its credentials go to Secrets Manager."""
    valid_connection_name("name", name)
    check_credentials(kind, credentials)
    connection = connection_store.create(
        uuid.uuid4().hex, actor.user, name, kind, description, sorted(credentials)
    )
    try:
        _secrets().put(actor.user, name, credentials)
    except Exception:
        connection_store.delete(actor.user, name)  # no record without its secret
        raise
    return connection


def update_connection(
    actor: Actor,
    name: str,
    kind: ConnectionKind | None,
    description: str | None,
    credentials: dict[str, Any] | None,
) -> Connection:
    """Change the actor's own connection; given credentials replace the stored ones (a new version)."""
    valid_connection_name("name", name)
    current = connection_store.get(actor.user, name)
    if current is None:
        raise _not_found(actor.user, name)
    if credentials is not None:
        check_credentials(kind or current.kind, credentials)
        _secrets().put(actor.user, name, credentials)
    elif kind is not None and kind is not current.kind:
        stored = _secrets().get(actor.user, name) or {}
        check_credentials(kind, stored)
    updated = connection_store.update(
        actor.user, name, kind, description, sorted(credentials) if credentials is not None else None
    )
    if updated is None:
        raise _not_found(actor.user, name)
    return _with_shares(updated)


def _with_shares(connection: Connection) -> Connection:
    shared = connection_store.shares(connection)
    return replace(connection, shared_with=shared)


def _visible(actor: Actor, owner: str, name: str) -> Connection:
    if owner == actor.user:
        own = connection_store.get(owner, name)
        if own is None:
            raise _not_found(owner, name)
        return _with_shares(own)
    # Someone else's: only the caller's share is read until it is found, so a refusal takes the same
    # work (and the same words) for a hidden connection as for an absent one.
    shared_as = connection_store.shared_id(owner, name, actor.user)
    connection = connection_store.get(owner, name) if shared_as is not None else None
    if connection is None or connection.connection_id != shared_as:
        raise _not_found(owner, name)
    return connection


def get_connection(actor: Actor, name: str, owner: str | None = None) -> Connection:
    """The connection, if the actor owns it or it is shared with the actor."""
    owner = owner or actor.user
    valid_user_name("owner", owner)
    valid_connection_name("name", name)
    return _visible(actor, owner, name)


def get_connection_by_id(actor: Actor, connection_id: str) -> Connection:
    not_found = NotFoundError(f"connection id {connection_id[:64]!r} not found")
    if not _ID.match(connection_id):
        raise not_found
    found = connection_store.find_by_id(connection_id, actor.user)
    if found is None:
        raise not_found
    try:
        return _visible(actor, *found)
    except NotFoundError:
        raise not_found from None


def read_credentials(actor: Actor, name: str, owner: str | None = None) -> tuple[Connection, dict[str, Any]]:
    """The connection and its credentials, for its owner or a user it is shared with only."""
    return _credentials_of(actor, get_connection(actor, name, owner))


def read_credentials_by_id(actor: Actor, connection_id: str) -> tuple[Connection, dict[str, Any]]:
    return _credentials_of(actor, get_connection_by_id(actor, connection_id))


def _credentials_of(actor: Actor, connection: Connection) -> tuple[Connection, dict[str, Any]]:
    credentials = _secrets().get(connection.owner, connection.name)
    if credentials is None:
        raise _not_found(connection.owner, connection.name)
    return connection, credentials


def list_connections(
    actor: Actor, limit: int | None = None, cursor: str | None = None
) -> tuple[list[Connection], str | None]:
    """One page of the actor's own connections (with whom each is shared), then of those shared with
    the actor; and the next page's cursor."""
    size = page_size(limit)
    position = cursors.decode(cursor, "connections") or {"phase": "own", "key": None}
    phase, key = position.get("phase"), position.get("key")
    if phase not in ("own", "shared") or set(position) != {"phase", "key"}:
        raise cursors.bad_cursor("connections")
    found: list[Connection] = []
    if phase == "own":
        owned, last = connection_store.owned_page(actor.user, size, key)
        found = [_with_shares(c) for c in owned]
        if last is not None:
            return found, cursors.encode("connections", {"phase": "own", "key": last})
        size -= len(owned)
        if size <= 0:
            return found, cursors.encode("connections", {"phase": "shared", "key": None})
        key = None
    shared, last = connection_store.shared_page(actor.user, size, key)
    after = cursors.encode("connections", {"phase": "shared", "key": last}) if last is not None else None
    return found + shared, after


def _own(actor: Actor, name: str) -> Connection:
    valid_connection_name("name", name)
    connection = connection_store.get(actor.user, name)
    if connection is None:
        raise _not_found(actor.user, name)
    return connection


def delete_connection(actor: Actor, name: str) -> None:
    """Delete the actor's own connection, its shares and its secret."""
    _own(actor, name)
    if not connection_store.delete(actor.user, name):
        raise _not_found(actor.user, name)
    _secrets().delete(actor.user, name)


def share_connection(actor: Actor, name: str, grantee: str) -> Connection:
    """Let `grantee` read the actor's connection and its credentials."""
    valid_user_name("user", grantee)
    connection = _own(actor, name)
    if grantee == actor.user:
        raise InvalidInputError(
            f"connection {name!r} is already yours; share it with another user", field="user"
        )
    # Whether `grantee` is a user is not checked: the answer must not tell users apart from names
    # nobody has (that would let anyone list the users). A share names a user name.
    current = connection_store.shares(connection)
    if len(current) >= MAX_SHARES and grantee not in current:
        # Every read of the connection carries its shares: bounded, so every read is.
        raise ConflictError(
            f"connection {name!r} is shared with {len(current)} users, the most it may be; unshare one first"
        )
    if not connection_store.share(connection, grantee):
        raise _not_found(actor.user, name)
    return _with_shares(_own(actor, name))


def unshare_connection(actor: Actor, name: str, grantee: str) -> Connection:
    """Take back `grantee`'s access; unsharing what was not shared is not an error."""
    valid_user_name("user", grantee)
    _own(actor, name)
    connection_store.unshare(actor.user, name, grantee)
    return _with_shares(_own(actor, name))
