"""CORS preflights on the local gateway, answered as the CDK app's API Gateway answers them.

API Gateway answers ``OPTIONS`` itself (a mock integration on every resource, no authorizer): 204,
the allowed methods and headers, and the request's Origin echoed back only when it is one of the
stage's allowed origins. The API function adds the same Origin to its own answers
(stepstore_functions.handlers.cors); the gateway adds it to the 401/403 it answers itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Keep in step with infra/components/api.py (CORS_ALLOW_HEADERS, CORS_MAX_AGE_SECONDS).
ALLOW_METHODS = "OPTIONS,GET,PUT,POST,DELETE,PATCH,HEAD"
ALLOW_HEADERS = "Authorization,Content-Type,X-StepStore-User"
MAX_AGE_SECONDS = 600
# Origins a console dev server (Vite) uses, allowed by the local stack unless told otherwise.
DEFAULT_LOCAL_ORIGINS = ("http://localhost:5173", "http://127.0.0.1:5173")


def origin_headers(origin: str | None, allowed: frozenset[str]) -> dict[str, str]:
    """The Origin echoed back (with ``Vary``) when it is allowed; nothing otherwise."""
    if origin is None or origin not in allowed:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def preflight(headers: Mapping[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """The answer to an OPTIONS request (a Lambda-proxy-shaped response)."""
    return {
        "statusCode": 204,
        "headers": {
            "Access-Control-Allow-Methods": ALLOW_METHODS,
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
            **origin_headers(headers.get("Origin"), allowed),
        },
        "body": "",
    }
