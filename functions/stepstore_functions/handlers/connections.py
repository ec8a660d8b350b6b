"""Routes: connections (named credentials), their shares, and their credentials.

Request bodies here carry secrets: nothing in this module logs a body, and no response but the
credentials route's carries a credential value.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from stepstore_functions.handlers.context import not_stored, path_value, request_actor
from stepstore_functions.logic import connections
from stepstore_functions.models.api import DEFAULT_PAGE, CursorQuery, LimitQuery
from stepstore_functions.models.connections import (
    Connection,
    ConnectionCreate,
    ConnectionCredentials,
    ConnectionList,
    ConnectionOut,
    ConnectionUpdate,
)

router = Router()

OwnerQuery = Annotated[
    str | None, Query(max_length=64, description="The connection's owner; default: the caller.")
]


def connection_out(connection: Connection, caller: str) -> ConnectionOut:
    return ConnectionOut(
        connection_id=connection.connection_id,
        name=connection.name,
        owner=connection.owner,
        type=connection.kind,
        description=connection.description,
        version=connection.version,
        credential_fields=list(connection.credential_fields),
        shared_with=list(connection.shared_with) if connection.owner == caller else None,
        created_at=connection.created_at,
        updated_at=connection.updated_at,
    )


def credentials_out(connection: Connection, credentials: dict) -> ConnectionCredentials:
    return ConnectionCredentials(
        connection_id=connection.connection_id,
        name=connection.name,
        owner=connection.owner,
        type=connection.kind,
        version=connection.version,
        credentials=credentials,
    )


@router.post(
    "/connections", summary="Create a connection owned by the caller; credentials go to Secrets Manager"
)
def create_connection(body: ConnectionCreate) -> ConnectionOut:
    actor = request_actor(router)
    created = connections.create_connection(actor, body.name, body.type, body.description, body.credentials)
    return connection_out(created, actor.user)


@router.get(
    "/connections",
    summary="The caller's connections, then those shared with them, one page at a time (no credentials)",
)
def list_connections(limit: LimitQuery = DEFAULT_PAGE, cursor: CursorQuery = None) -> ConnectionList:
    actor = request_actor(router)
    found, after = connections.list_connections(actor, limit, cursor)
    return ConnectionList(connections=[connection_out(c, actor.user) for c in found], next=after)


@router.get("/connections/<name>", summary="One connection, without its credentials")
def get_connection(name: str, owner: OwnerQuery = None) -> ConnectionOut:
    actor = request_actor(router)
    return connection_out(connections.get_connection(actor, path_value(name), owner), actor.user)


@router.put("/connections/<name>", summary="Change the caller's connection; new credentials replace the old")
def update_connection(name: str, body: ConnectionUpdate) -> ConnectionOut:
    actor = request_actor(router)
    updated = connections.update_connection(
        actor, path_value(name), body.type, body.description, body.credentials
    )
    return connection_out(updated, actor.user)


@router.delete("/connections/<name>", summary="Delete the caller's connection, its shares and its secret")
def delete_connection(name: str) -> None:
    connections.delete_connection(request_actor(router), path_value(name))


@router.get(
    "/connections/<name>/credentials",
    summary="A connection's credentials: for its owner and the users it is shared with only",
)
def get_credentials(name: str, owner: OwnerQuery = None) -> Response[ConnectionCredentials]:
    return not_stored(
        credentials_out(*connections.read_credentials(request_actor(router), path_value(name), owner))
    )


@router.put("/connections/<name>/shares/<user>", summary="Share the caller's connection with a user")
def share_connection(name: str, user: str) -> ConnectionOut:
    actor = request_actor(router)
    return connection_out(connections.share_connection(actor, path_value(name), path_value(user)), actor.user)


@router.delete(
    "/connections/<name>/shares/<user>", summary="Stop sharing the caller's connection with a user"
)
def unshare_connection(name: str, user: str) -> ConnectionOut:
    actor = request_actor(router)
    return connection_out(
        connections.unshare_connection(actor, path_value(name), path_value(user)), actor.user
    )


@router.get("/connection-ids/<connection_id>", summary="One connection by its id, without its credentials")
def get_connection_by_id(connection_id: str) -> ConnectionOut:
    actor = request_actor(router)
    return connection_out(connections.get_connection_by_id(actor, path_value(connection_id)), actor.user)


@router.get(
    "/connection-ids/<connection_id>/credentials", summary="A connection's credentials, found by its id"
)
def get_credentials_by_id(connection_id: str) -> Response[ConnectionCredentials]:
    return not_stored(
        credentials_out(*connections.read_credentials_by_id(request_actor(router), path_value(connection_id)))
    )
