"""What every route needs from the request: who it acts for, and decoded path parameters."""

from __future__ import annotations

from urllib.parse import unquote

from aws_lambda_powertools.event_handler.api_gateway import Router

from stepstore_functions.logic.users import resolve_actor
from stepstore_functions.models.domain import Actor, Role
from stepstore_functions.models.errors import ForbiddenError

ACT_AS_HEADER = "X-StepStore-User"


def request_actor(router: Router) -> Actor:
    """The authorizer put the token's user and role in the request context; API Gateway vouches for it."""
    event = router.current_event
    authorizer = event.request_context.authorizer
    principal = authorizer.get("principal") if authorizer else None
    role = authorizer.get("role") if authorizer else None
    if not principal or not role:
        raise ForbiddenError("the request carries no authorized principal")
    return resolve_actor(principal, Role(role), event.headers.get(ACT_AS_HEADER))


def path_value(value: str) -> str:
    # API Gateway passes REST path segments percent-encoded; names never contain '%', so this is exact.
    return unquote(value)
