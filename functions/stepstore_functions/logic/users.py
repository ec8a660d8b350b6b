"""Users, tokens and who a request acts for."""

from __future__ import annotations

import hashlib
import secrets

from stepstore_functions.dal import users as user_store
from stepstore_functions.models.domain import Actor, Role, User, valid_user_name
from stepstore_functions.models.errors import ForbiddenError, NotFoundError

TOKEN_PREFIX = "sst_"


def hash_token(token: str) -> str:
    # Tokens are 256-bit random strings, so an unsalted SHA-256 is enough to make a stolen table useless.
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_user(actor: Actor | None, name: str, role: Role) -> tuple[User, str]:
    """Create a user and return it with its token, which is shown this once.

    `actor` None is the bootstrap path (the local stack or a deploy script creating the first admin).
    """
    if actor is not None and not actor.is_admin:
        raise ForbiddenError(f"only an admin may create users; {actor.principal!r} is a {actor.role.value}")
    valid_user_name("name", name)
    token = new_token()
    user = user_store.create_user(name, role, hash_token(token))
    return user, token


def authenticate(token: str) -> tuple[str, Role] | None:
    """The user and role behind a bearer token, or None for an unknown token."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 256:
        return None
    return user_store.find_token(hash_token(token))


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
