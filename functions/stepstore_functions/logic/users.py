"""Users, tokens and who a request acts for."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from stepstore_functions.dal import users as user_store
from stepstore_functions.dal.cursors import page_size
from stepstore_functions.models.domain import Actor, Role, TokenInfo, User, valid_user_name
from stepstore_functions.models.errors import (
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    UnauthorizedError,
)

TOKEN_PREFIX = "sst_"
# The longest a token may be set to live; tokens without an expiry live until revoked.
MAX_TOKEN_DAYS = 3650


def hash_token(token: str) -> str:
    # Tokens are 256-bit random strings, so an unsalted SHA-256 is enough to make a stolen table useless.
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_expiry(expires_in_days: float | None, now: datetime | None = None) -> datetime | None:
    """When a token made now with this lifetime expires (None: never)."""
    if expires_in_days is None:
        return None
    if not 0 < expires_in_days <= MAX_TOKEN_DAYS:
        raise InvalidInputError(
            f"expires_in_days must be more than 0 and at most {MAX_TOKEN_DAYS}, got {expires_in_days}",
            field="expires_in_days",
        )
    return (now or datetime.now(UTC)) + timedelta(days=expires_in_days)


def create_user(
    actor: Actor | None, name: str, role: Role, expires_in_days: float | None = None
) -> tuple[User, str]:
    """Create a user and return it with its token, which is shown this once.

    `actor` None is the bootstrap path (the local stack or a deploy script creating the first admin).
    """
    if actor is not None and not actor.is_admin:
        raise ForbiddenError(f"only an admin may create users; {actor.principal!r} is a {actor.role.value}")
    valid_user_name("name", name)
    expires_at = token_expiry(expires_in_days)
    token = new_token()
    user = user_store.create_user(name, role, hash_token(token), expires_at)
    return user, token


def _may_manage_tokens_of(actor: Actor, name: str) -> None:
    """An admin manages anyone's tokens; a user (through its own token, not acting for another) its own."""
    valid_user_name("user", name)
    if actor.role is Role.ADMIN or actor.principal == name:
        return
    raise ForbiddenError(f"{actor.principal!r} may manage only its own tokens, not those of {name!r}")


def _existing(name: str) -> User:
    user = user_store.get_user(name)
    if user is None:
        raise NotFoundError(f"user {name!r} not found")
    return user


def issue_token(actor: Actor, name: str, expires_in_days: float | None = None) -> tuple[TokenInfo, str]:
    """Another token for the user (to rotate: issue, switch, revoke the old one); shown this once."""
    _may_manage_tokens_of(actor, name)
    user = _existing(name)
    token = new_token()
    return user_store.add_token(user, hash_token(token), token_expiry(expires_in_days)), token


def list_tokens(
    actor: Actor, name: str, limit: int | None = None, cursor: str | None = None
) -> tuple[list[TokenInfo], str | None]:
    _may_manage_tokens_of(actor, name)
    _existing(name)
    return user_store.tokens_page(name, page_size(limit), cursor)


def revoke_token(actor: Actor, name: str, token_id: str) -> None:
    """Delete one of the user's tokens. Callers using it are refused once the authorizer's cached
    answer for it expires (API Gateway: the authorizer TTL; the local gateway forgets at once)."""
    _may_manage_tokens_of(actor, name)
    if not (1 <= len(token_id) <= 64 and token_id.isalnum()):
        raise InvalidInputError(f"token id {token_id[:64]!r} is not a token id", field="token_id")
    if not user_store.revoke_token(name, token_id):
        raise NotFoundError(f"user {name!r} has no token {token_id!r}")


def list_users(
    actor: Actor, limit: int | None = None, cursor: str | None = None
) -> tuple[list[User], str | None]:
    if not actor.is_admin:
        raise ForbiddenError(f"only an admin may list users; {actor.principal!r} is a {actor.role.value}")
    return user_store.list_users(page_size(limit), cursor)


def remove_user(actor: Actor, name: str) -> int:
    """Retire the user and delete its tokens (admin only); returns how many tokens were deleted.

    The name is never reused, since it still owns the flows, assets and connections left behind.
    """
    if not actor.is_admin:
        raise ForbiddenError(f"only an admin may remove users; {actor.principal!r} is a {actor.role.value}")
    valid_user_name("user", name)
    if name == actor.principal:
        raise InvalidInputError("an admin may not remove itself; another admin can", field="user")
    _existing(name)
    return user_store.remove_user(name)


def authenticate(token: str, now: datetime | None = None) -> tuple[str, Role, datetime | None] | None:
    """The user, role and expiry behind a bearer token, or None for an unknown or expired token."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 256:
        return None
    found = user_store.find_token(hash_token(token))
    if found is None:
        return None
    expires_at = found[2]
    if expires_at is not None and expires_at <= (now or datetime.now(UTC)):
        return None
    return found


def check_not_expired(expires_at: str | None, now: datetime | None = None) -> None:
    """Refuse a request whose token expired after the authorizer's answer was cached (401)."""
    if not expires_at:
        return
    try:
        moment = float(expires_at)
    except ValueError:
        return
    if moment <= (now or datetime.now(UTC)).timestamp():
        raise UnauthorizedError("the token has expired")


def resolve_actor(principal: str, role: Role, requested_user: str | None) -> Actor:
    """A token acts as its own user; only admin and service tokens may act for another one."""
    if not requested_user or requested_user == principal:
        return Actor(principal=principal, role=role, user=principal)
    if role not in (Role.ADMIN, Role.SERVICE):
        raise ForbiddenError(f"user {principal!r} may not act for user {requested_user!r}")
    valid_user_name("user", requested_user)
    if user_store.get_user(requested_user) is None:
        raise NotFoundError(f"user {requested_user!r} not found")
    return Actor(principal=principal, role=role, user=requested_user)
