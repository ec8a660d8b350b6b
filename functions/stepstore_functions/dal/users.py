"""Users and their hashed tokens."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from stepstore_functions.dal import cursors
from stepstore_functions.dal.tables import TokenItem, UserItem, transaction, utcnow
from stepstore_functions.models.domain import Role, TokenInfo, User
from stepstore_functions.models.errors import ConflictError

USERS_PARTITION = "USERS"


def token_id_of(token_hash: str) -> str:
    return token_hash[:16]


def _user(item: UserItem) -> User:
    return User(name=item.name, role=Role(item.role), created_at=item.created_at)


def _token_item(user: str, role: Role, token_hash: str, expires_at: datetime | None) -> TokenItem:
    token_id = token_id_of(token_hash)
    return TokenItem(
        pk=f"TOKEN#{token_hash}",
        sk="TOKEN",
        user=user,
        role=role.value,
        token_id=token_id,
        expires_at=expires_at,
        gsi1pk=f"TOKENS#{user}",
        gsi1sk=token_id,
    )


def _token(item: TokenItem) -> TokenInfo:
    return TokenInfo(
        token_id=item.token_id or token_id_of(item.pk.removeprefix("TOKEN#")),
        user=item.user,
        role=Role(item.role),
        created_at=item.created_at,
        expires_at=item.expires_at,
    )


def create_user(name: str, role: Role, token_hash: str, expires_at: datetime | None = None) -> User:
    """Create the user and its first token together, or neither. A taken (or retired) name is a conflict."""
    user = UserItem(
        pk=f"USER#{name}", sk="USER", name=name, role=role.value, gsi1pk=USERS_PARTITION, gsi1sk=name
    )
    token = _token_item(name, role, token_hash, expires_at)
    try:
        with transaction() as tx:
            tx.save(user, condition=UserItem.pk.does_not_exist())
            tx.save(token, condition=TokenItem.pk.does_not_exist())
    except TransactWriteError as error:
        raise ConflictError(f"user {name!r} already exists (or existed: names are not reused)") from error
    return _user(user)


def get_user(name: str) -> User | None:
    """The user, or None when there is none or it was removed."""
    try:
        item = UserItem.get(f"USER#{name}", "USER", consistent_read=True)
    except DoesNotExist:
        return None
    return None if item.removed_at is not None else _user(item)


def list_users(limit: int, cursor: str | None) -> tuple[list[User], str | None]:
    """One page of the users, by name (removed ones left out), and the next page's cursor."""
    start = cursors.decode_key(
        cursor, "users", {"gsi1pk": USERS_PARTITION, "sk": "USER"}, {"pk": "USER#", "gsi1sk": ""}
    )
    items, last = cursors.query_page(
        UserItem,
        UserItem.by_name.query,
        limit,
        start,
        hash_key=USERS_PARTITION,
        filter_condition=UserItem.removed_at.does_not_exist(),
    )
    return [_user(i) for i in items], cursors.encode_key("users", last)


def add_token(user: User, token_hash: str, expires_at: datetime | None) -> TokenInfo:
    """Another token for an existing user (refused if the user was removed meanwhile)."""
    token = _token_item(user.name, user.role, token_hash, expires_at)
    try:
        with transaction() as tx:
            tx.condition_check(
                UserItem, f"USER#{user.name}", "USER", condition=UserItem.removed_at.does_not_exist()
            )
            tx.save(token, condition=TokenItem.pk.does_not_exist())
    except TransactWriteError as error:
        raise ConflictError(f"user {user.name!r} was removed") from error
    return _token(token)


def find_token(token_hash: str) -> tuple[str, Role, datetime | None] | None:
    """The user, role and expiry a token hash belongs to, or None."""
    try:
        item = TokenItem.get(f"TOKEN#{token_hash}", "TOKEN", consistent_read=True)
    except DoesNotExist:
        return None
    return item.user, Role(item.role), item.expires_at


def tokens_page(user: str, limit: int, cursor: str | None) -> tuple[list[TokenInfo], str | None]:
    """One page of the user's tokens, by id, and the next page's cursor."""
    partition = f"TOKENS#{user}"
    start = cursors.decode_key(
        cursor, "tokens", {"gsi1pk": partition, "sk": "TOKEN"}, {"pk": "TOKEN#", "gsi1sk": ""}
    )
    items, last = cursors.query_page(TokenItem, TokenItem.by_user.query, limit, start, hash_key=partition)
    return [_token(i) for i in items], cursors.encode_key("tokens", last)


def revoke_token(user: str, token_id: str) -> bool:
    """Delete the user's token with this id; False when the user has none such."""
    for item in TokenItem.by_user.query(f"TOKENS#{user}", TokenItem.gsi1sk == token_id, limit=1):
        TokenItem(pk=item.pk, sk="TOKEN").delete()
        return True
    return False


def remove_user(name: str) -> int:
    """Retire the user (a tombstone keeps the name from being reused) and delete its tokens.

    Returns how many tokens were deleted. Its flows, assets and connections are left as they are.
    """
    UserItem(pk=f"USER#{name}", sk="USER").update(
        actions=[UserItem.removed_at.set(utcnow())], condition=UserItem.pk.exists()
    )
    deleted = 0
    with TokenItem.batch_write() as batch:
        for item in TokenItem.by_user.query(f"TOKENS#{name}"):
            batch.delete(TokenItem(pk=item.pk, sk="TOKEN"))
            deleted += 1
    return deleted
