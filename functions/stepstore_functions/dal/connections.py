"""Connection records and shares in the metadata table (credentials are in Secrets Manager).

pk=CONN#<owner>#<name>, sk=CONN          the connection; gsi1 lists an owner's connections by name,
                                         gsi2 (CONNID#<id> / OWNER#<owner>) finds it by id for its owner
pk=CONN#<owner>#<name>, sk=SHARE#<user>  a share; gsi1 (CONNSHARED#<user>) lists what is shared
                                         with <user>, so that is a query, never a scan; gsi2
                                         (CONNID#<id> / SHARE#<user>) finds it by id for <user>

Access checks only ever ask for items keyed by the reader (their share, their ownership), which
exist only when access is granted: refusing a hidden connection reads exactly what refusing an
absent one does, so neither the answer nor its timing tells them apart.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, TransactWriteError, UpdateError

from stepstore_functions.dal import cursors
from stepstore_functions.dal.tables import (
    ByGsi1,
    ByGsi2,
    _MetadataModel,
    is_condition_failure,
    on_metadata_table,
    transaction,
    utcnow,
)
from stepstore_functions.models.connections import Connection, ConnectionKind
from stepstore_functions.models.errors import ConflictError

SHARE_PREFIX = "SHARE#"


@on_metadata_table
class ConnectionItem(_MetadataModel):
    class Meta(_MetadataModel.Meta):
        pass

    connection_id = UnicodeAttribute()
    owner = UnicodeAttribute()
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    version = NumberAttribute(default=1)
    credential_fields = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    updated_at = UTCDateTimeAttribute(default_for_new=utcnow)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute()
    by_owner = ByGsi1()
    by_id = ByGsi2()


@on_metadata_table
class ConnectionShareItem(_MetadataModel):
    class Meta(_MetadataModel.Meta):
        pass

    owner = UnicodeAttribute()
    name = UnicodeAttribute()
    # The connection this share was made for: a share left over from a deleted connection never
    # opens a new connection that reuses the name.
    connection_id = UnicodeAttribute()
    grantee = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute()
    by_grantee = ByGsi1()
    by_id = ByGsi2()


def connection_pk(owner: str, name: str) -> str:
    return f"CONN#{owner}#{name}"


def _connection(item: ConnectionItem, shared_with: tuple[str, ...] = ()) -> Connection:
    return Connection(
        connection_id=item.connection_id,
        owner=item.owner,
        name=item.name,
        kind=ConnectionKind(item.kind),
        description=item.description or "",
        version=int(item.version),
        credential_fields=tuple(item.credential_fields or ()),
        created_at=item.created_at,
        updated_at=item.updated_at,
        shared_with=shared_with,
    )


def create(
    connection_id: str, owner: str, name: str, kind: ConnectionKind, description: str, fields: list[str]
) -> Connection:
    """Claim the name for the owner; a taken name is a conflict."""
    now = utcnow()
    item = ConnectionItem(
        pk=connection_pk(owner, name),
        sk="CONN",
        connection_id=connection_id,
        owner=owner,
        name=name,
        kind=kind.value,
        description=description,
        version=1,
        credential_fields=fields,
        created_at=now,
        updated_at=now,
        gsi1pk=f"CONNS#{owner}",
        gsi1sk=name,
        gsi2pk=f"CONNID#{connection_id}",
        gsi2sk=f"OWNER#{owner}",
    )
    try:
        item.save(condition=ConnectionItem.pk.does_not_exist())
    except PutError as error:
        if is_condition_failure(error):
            raise ConflictError(f"connection {name!r} already exists") from error
        raise
    return _connection(item)


def get(owner: str, name: str) -> Connection | None:
    try:
        return _connection(ConnectionItem.get(connection_pk(owner, name), "CONN", consistent_read=True))
    except DoesNotExist:
        return None


def shared_id(owner: str, name: str, reader: str) -> str | None:
    """The id of the connection that `owner/name` was shared with `reader` as, if it was.

    Only the reader's share is read: it exists or not the same way whether the connection does.
    """
    try:
        share = ConnectionShareItem.get(
            connection_pk(owner, name),
            f"{SHARE_PREFIX}{reader}",
            consistent_read=True,
            attributes_to_get=["connection_id"],
        )
    except DoesNotExist:
        return None
    return share.connection_id


def find_by_id(connection_id: str, reader: str) -> tuple[str, str] | None:
    """Owner and name of the connection with this id, if `reader` owns it or it was shared with them."""
    pk = f"CONNID#{connection_id}"
    for item in ConnectionItem.by_id.query(pk, ConnectionItem.gsi2sk == f"OWNER#{reader}", limit=1):
        return item.owner, item.name
    for share in ConnectionShareItem.by_id.query(
        pk, ConnectionShareItem.gsi2sk == f"{SHARE_PREFIX}{reader}", limit=1
    ):
        return share.owner, share.name
    return None


def shares(connection: Connection) -> tuple[str, ...]:
    pk = connection_pk(connection.owner, connection.name)
    found = ConnectionShareItem.query(
        pk, ConnectionShareItem.sk.startswith(SHARE_PREFIX), consistent_read=True
    )
    return tuple(sorted(i.grantee for i in found if i.connection_id == connection.connection_id))


def owned_page(owner: str, limit: int, start: Any) -> tuple[list[Connection], dict[str, str] | None]:
    """One page of the owner's connections, by name, and where to resume (a plain key)."""
    partition = f"CONNS#{owner}"
    key = cursors.check_key(
        start, "connections", {"gsi1pk": partition, "sk": "CONN"}, {"pk": f"CONN#{owner}#", "gsi1sk": ""}
    )
    items, last = cursors.query_page(
        ConnectionItem, ConnectionItem.by_owner.query, limit, key, hash_key=partition
    )
    return [_connection(item) for item in items], cursors.plain_key(last)


def shared_page(user: str, limit: int, start: Any) -> tuple[list[Connection], dict[str, str] | None]:
    """One page of the connections shared with `user` that still exist, and where to resume."""
    partition = f"CONNSHARED#{user}"
    key = cursors.check_key(
        start,
        "connections",
        {"gsi1pk": partition, "sk": f"{SHARE_PREFIX}{user}"},
        {"pk": "CONN#", "gsi1sk": ""},
    )
    items, last = cursors.query_page(
        ConnectionShareItem, ConnectionShareItem.by_grantee.query, limit, key, hash_key=partition
    )
    shared = {(connection_pk(s.owner, s.name), "CONN"): s.connection_id for s in items}
    found = [_connection(item) for item in ConnectionItem.batch_get(list(shared))] if shared else []
    current = [c for c in found if shared.get((connection_pk(c.owner, c.name), "CONN")) == c.connection_id]
    return sorted(current, key=lambda c: (c.owner, c.name)), cursors.plain_key(last)


def update(
    owner: str,
    name: str,
    kind: ConnectionKind | None,
    description: str | None,
    fields: list[str] | None,
) -> Connection | None:
    """Apply the changes and bump the version; None when the connection is gone."""
    item = ConnectionItem(pk=connection_pk(owner, name), sk="CONN")
    actions = [ConnectionItem.version.add(1), ConnectionItem.updated_at.set(utcnow())]
    if kind is not None:
        actions.append(ConnectionItem.kind.set(kind.value))
    if description is not None:
        actions.append(ConnectionItem.description.set(description))
    if fields is not None:
        actions.append(ConnectionItem.credential_fields.set(fields))
    try:
        item.update(actions=actions, condition=ConnectionItem.pk.exists())
    except UpdateError as error:
        if is_condition_failure(error):
            return None
        raise
    return _connection(item)


def share(connection: Connection, grantee: str) -> bool:
    """Record the share if that very connection still exists; False when it does not."""
    owner, name = connection.owner, connection.name
    pk = connection_pk(owner, name)
    item = ConnectionShareItem(
        pk=pk,
        sk=f"{SHARE_PREFIX}{grantee}",
        owner=owner,
        name=name,
        connection_id=connection.connection_id,
        grantee=grantee,
        gsi1pk=f"CONNSHARED#{grantee}",
        gsi1sk=f"{owner}#{name}",
        gsi2pk=f"CONNID#{connection.connection_id}",
        gsi2sk=f"{SHARE_PREFIX}{grantee}",
    )
    try:
        with transaction() as tx:
            tx.condition_check(
                ConnectionItem, pk, "CONN", condition=ConnectionItem.connection_id == connection.connection_id
            )
            tx.save(item)
    except TransactWriteError:
        return False
    return True


def unshare(owner: str, name: str, grantee: str) -> None:
    ConnectionShareItem(pk=connection_pk(owner, name), sk=f"{SHARE_PREFIX}{grantee}").delete()


def delete(owner: str, name: str) -> bool:
    """Delete the connection (first, so access ends at once) and its shares; False when it was gone."""
    pk = connection_pk(owner, name)
    try:
        ConnectionItem(pk=pk, sk="CONN").delete(condition=ConnectionItem.pk.exists())
    except DeleteError as error:
        if is_condition_failure(error):
            return False
        raise
    found = list(
        ConnectionShareItem.query(pk, ConnectionShareItem.sk.startswith(SHARE_PREFIX), consistent_read=True)
    )
    with ConnectionShareItem.batch_write() as batch:
        for item in found:
            batch.delete(item)
    return True
