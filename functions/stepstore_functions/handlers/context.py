"""What every route needs from the request: who it acts for, and decoded path parameters."""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from stepstore_functions.logic.users import check_not_expired, resolve_actor
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
    check_not_expired(authorizer.get("expires_at"))
    return resolve_actor(principal, Role(role), event.headers.get(ACT_AS_HEADER))


def path_value(value: str) -> str:
    # API Gateway passes REST path segments percent-encoded; names never contain '%', so this is exact.
    return unquote(value)


T = TypeVar("T")


def not_stored(body: T) -> Response[T]:
    """A 200 that no cache (browser, proxy) may keep: for answers that carry secrets or tokens."""
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
