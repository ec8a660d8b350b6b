"""Routes: users, their tokens, and the caller's identity."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from stepstore_functions.handlers.context import not_stored, path_value, request_actor
from stepstore_functions.logic import users
from stepstore_functions.models.api import (
    DEFAULT_PAGE,
    CreateUserRequest,
    CursorQuery,
    LimitQuery,
    TokenCreated,
    TokenList,
    TokenOut,
    TokenRequest,
    UserCreated,
    UserList,
    UserOut,
    UserRemoved,
    WhoAmI,
)
from stepstore_functions.models.domain import TokenInfo

router = Router()


def token_out(token: TokenInfo) -> TokenOut:
    return TokenOut(
        token_id=token.token_id,
        user=token.user,
        role=token.role,
        created_at=token.created_at,
        expires_at=token.expires_at,
    )


@router.post("/users", summary="Create a user (admin only); its token is returned once")
def create_user(body: CreateUserRequest) -> Response[UserCreated]:
    user, token = users.create_user(request_actor(router), body.name, body.role, body.expires_in_days)
    expires_at = users.token_expiry(body.expires_in_days, user.created_at)
    return not_stored(UserCreated(name=user.name, role=user.role, token=token, expires_at=expires_at))


@router.get("/users", summary="The users, by name, one page at a time (admin only)")
def list_users(limit: LimitQuery = DEFAULT_PAGE, cursor: CursorQuery = None) -> UserList:
    found, after = users.list_users(request_actor(router), limit, cursor)
    return UserList(
        users=[UserOut(name=u.name, role=u.role, created_at=u.created_at) for u in found], next=after
    )


@router.delete(
    "/users/<name>",
    summary="Remove a user and revoke its tokens (admin only); its name is never reused",
)
def remove_user(name: str) -> UserRemoved:
    user = path_value(name)
    return UserRemoved(name=user, tokens_revoked=users.remove_user(request_actor(router), user))


@router.get(
    "/users/<name>/tokens", summary="A user's tokens, without the tokens themselves (admin, or the user)"
)
def list_tokens(name: str, limit: LimitQuery = DEFAULT_PAGE, cursor: CursorQuery = None) -> TokenList:
    found, after = users.list_tokens(request_actor(router), path_value(name), limit, cursor)
    return TokenList(tokens=[token_out(t) for t in found], next=after)


@router.post(
    "/users/<name>/tokens", summary="Issue another token to a user, returned once (admin, or the user)"
)
def issue_token(name: str, body: TokenRequest) -> Response[TokenCreated]:
    info, token = users.issue_token(request_actor(router), path_value(name), body.expires_in_days)
    return not_stored(TokenCreated(**token_out(info).model_dump(), token=token))


@router.delete(
    "/users/<name>/tokens/<token_id>",
    summary="Revoke a token (admin, or the user); it stops working within the authorizer cache TTL",
)
def revoke_token(name: str, token_id: str) -> None:
    users.revoke_token(request_actor(router), path_value(name), path_value(token_id))


@router.get("/me", summary="Who the token is, and whom the request acts for")
def who_am_i() -> WhoAmI:
    actor = request_actor(router)
    return WhoAmI(principal=actor.principal, role=actor.role, user=actor.user)
