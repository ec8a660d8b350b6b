"""Routes: users and the caller's identity."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from stepstore_functions.handlers.context import request_actor
from stepstore_functions.logic import users
from stepstore_functions.models.api import CreateUserRequest, UserCreated, WhoAmI

router = Router()


@router.post("/users", summary="Create a user (admin only); its token is returned once")
def create_user(body: CreateUserRequest) -> UserCreated:
    user, token = users.create_user(request_actor(router), body.name, body.role)
    return UserCreated(name=user.name, role=user.role, token=token)


@router.get("/me", summary="Who the token is, and whom the request acts for")
def who_am_i() -> WhoAmI:
    actor = request_actor(router)
    return WhoAmI(principal=actor.principal, role=actor.role, user=actor.user)
