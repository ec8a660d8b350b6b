"""Users and their hashed tokens."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from stepstore_functions.dal.tables import TokenItem, UserItem, transaction
from stepstore_functions.models.domain import Role, User
from stepstore_functions.models.errors import ConflictError


def _user(item: UserItem) -> User:
    return User(name=item.name, role=Role(item.role), created_at=item.created_at)


def create_user(name: str, role: Role, token_hash: str) -> User:
    """Create the user and its first token together, or neither. A taken name is a conflict."""
    user = UserItem(pk=f"USER#{name}", sk="USER", name=name, role=role.value)
    token = TokenItem(pk=f"TOKEN#{token_hash}", sk="TOKEN", user=name, role=role.value)
    try:
        with transaction() as tx:
            tx.save(user, condition=UserItem.pk.does_not_exist())
            tx.save(token, condition=TokenItem.pk.does_not_exist())
    except TransactWriteError as error:
        raise ConflictError(f"user {name!r} already exists") from error
    return _user(user)


def get_user(name: str) -> User | None:
    try:
        return _user(UserItem.get(f"USER#{name}", "USER"))
    except DoesNotExist:
        return None


def find_token(token_hash: str) -> tuple[str, Role] | None:
    """The user and role a token hash belongs to, or None."""
    try:
        item = TokenItem.get(f"TOKEN#{token_hash}", "TOKEN")
    except DoesNotExist:
        return None
    return item.user, Role(item.role)
