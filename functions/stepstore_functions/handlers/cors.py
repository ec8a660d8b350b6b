"""CORS on the API function's answers: the requesting origin echoed back only when the stage allows it.

Preflights (OPTIONS) never reach the function: API Gateway answers them (and the local gateway does
the same), without the authorizer. Bearer tokens travel in a header, so credentials (cookies) are
never allowed, and no answer ever carries ``*``.
"""

from __future__ import annotations

from typing import Any

from stepstore_functions.settings import allowed_origins

EXPOSE_HEADERS = "X-Amzn-RequestId"


def request_origin(event: dict[str, Any]) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == "origin":
            return str(value)
    return None


def with_cors(event: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """`response` with CORS headers when the request's Origin is one of the allowed origins."""
    origin = request_origin(event)
    if origin is None or origin not in allowed_origins():
        return response
    headers = dict(response.get("headers") or {})
    headers.update(
        {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": EXPOSE_HEADERS,
            "Vary": "Origin",
        }
    )
    return {**response, "headers": headers}
