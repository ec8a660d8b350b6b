"""The API function: one REST resolver over the route groups, with domain errors mapped once."""

from __future__ import annotations

import json
import warnings
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from stepstore_functions.handlers import assets, connections, fixtures, flows, gate, outputs, pages, users
from stepstore_functions.handlers.cors import with_cors
from stepstore_functions.models.api import Health
from stepstore_functions.models.errors import (
    DomainError,
    MethodNotAllowedError,
    NotFoundError,
    UnsupportedMediaTypeError,
)
from stepstore_functions.models.limits import loads_bounded
from stepstore_functions.observability import observability

# Routes that API Gateway serves without the authorizer; every other route needs a bearer token.
PUBLIC_ROUTES = frozenset({("GET", "/health")})

API_TITLE = "StepStore API"
API_VERSION = "1"

# Most requests are reads with no business metric to count; an empty flush is expected, not news.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger, metrics, tracer = observability("stepstore-api")

# Every JSON body is parsed by loads_bounded: depth, numbers and strings checked before any model sees them.
app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=loads_bounded)
for route_group in (users, flows, outputs, assets, connections, fixtures, pages):
    app.include_router(route_group.router)

_STATUS_KINDS = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def error_body(kind: str, message: str, field: str | None = None) -> dict[str, Any]:
    """The one error shape every refused request gets."""
    return {"error": kind, "message": message, "field": field}


def _error(status: int, kind: str, message: str, field: str | None = None, **headers: str) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=error_body(kind, message, field),
        headers=headers or None,
    )


def _domain_error(error: DomainError) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, body and headers for a domain error: the one mapping of errors to HTTP."""
    headers = {"Allow": ", ".join(error.allowed)} if isinstance(error, MethodNotAllowedError) else {}
    return error.status_code, error_body(error.kind, str(error), error.field), headers


def _internal_error_message() -> str:
    correlation_id = logger.get_correlation_id() or "unknown"
    return f"internal error; quote correlation id {correlation_id} when reporting it"


@app.exception_handler(DomainError)
def handle_domain_error(error: DomainError) -> Response:
    metrics.add_metric(name=f"Error_{error.kind}", unit=MetricUnit.Count, value=1)
    status, body, headers = _domain_error(error)
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers or None
    )


@app.exception_handler(RequestValidationError)
def handle_validation_error(error: RequestValidationError) -> Response:
    """422 naming each field that failed and why, without echoing the rejected values."""
    problems = []
    fields = []
    for detail in error.errors():
        location = [str(part) for part in detail.get("loc", ()) if part not in ("body", "query", "path")]
        field = ".".join(location) or "body"
        fields.append(field)
        problems.append(f"{field}: {detail.get('msg', 'invalid')}")
    return _error(422, "invalid", "invalid request: " + "; ".join(problems), fields[0] if fields else None)


@app.exception_handler(RequestUnsupportedContentType)
def handle_unsupported_content_type(error: RequestUnsupportedContentType) -> Response:
    return handle_domain_error(
        UnsupportedMediaTypeError("the API takes JSON bodies: send Content-Type: application/json")
    )


@app.exception_handler(ServiceError)
def handle_service_error(error: ServiceError) -> Response:
    """Powertools' own HTTP errors, in the API's error shape."""
    status = int(error.status_code)
    if status >= 500:
        return handle_unexpected_error(error)
    return _error(status, _STATUS_KINDS.get(status, "bad_request"), str(error.msg))


@app.exception_handler(Exception)
def handle_unexpected_error(error: Exception) -> Response:
    """Anything no handler expected: logged with its traceback, answered without one."""
    logger.exception("unexpected error")
    metrics.add_metric(name="Error_internal", unit=MetricUnit.Count, value=1)
    return _error(500, "internal", _internal_error_message())


def _routes_for(path: str) -> set[str]:
    """The methods some route serves at `path` (HEAD with GET, OPTIONS with any)."""
    methods = {route.method for route in app._static_routes + app._dynamic_routes if route.rule.match(path)}
    if "GET" in methods:
        methods.add("HEAD")
    if methods:
        methods.add("OPTIONS")
    return methods


@app.not_found
def handle_no_route(_: Exception) -> Response:
    """404 for a path no route serves; 405 (or OPTIONS' 204) naming the methods of one that exists."""
    method = app.current_event.request_context.http_method or app.current_event.http_method
    path = app.current_event.path
    allowed = _routes_for(path)
    if not allowed:
        return handle_domain_error(NotFoundError(f"no route {method} {path[:200]}"))
    allow = ", ".join(sorted(allowed))
    if method == "OPTIONS":
        return Response(status_code=204, content_type=None, body="", headers={"Allow": allow})
    return handle_domain_error(
        MethodNotAllowedError(
            f"{method} is not allowed on {path[:200]}; it takes {allow}", tuple(sorted(allowed))
        )
    )


@app.get("/health", summary="Liveness; the only route without a token")
def health() -> Health:
    return Health()


def openapi_json() -> str:
    """The OpenAPI document, generated from the routes (checked in as openapi.json)."""
    # Imported here: the OpenAPI models cost ~100 ms of import that a cold start need not pay.
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return app.get_openapi_json_schema(
        title=API_TITLE,
        version=API_VERSION,
        description="Flows, steps, outputs and progress for StepStore's StoreInterface.",
        security_schemes={
            "bearer": HTTPBearer(description="A StepStore token: `Authorization: Bearer sst_...`")
        },
        security=[{"bearer": []}],
    )


def log_keys(event: dict[str, Any]) -> dict[str, str]:
    """The flow, step and principal a request is about, for every log line it writes."""
    keys: dict[str, str] = {}
    parts = [unquote(part) for part in str(event.get("path") or "").strip("/").split("/")]
    if len(parts) >= 2 and parts[0] == "flows":
        keys["flow_id"] = parts[1]
        if len(parts) >= 4 and parts[2] == "steps":
            keys["step_name"] = parts[3]
    principal = ((event.get("requestContext") or {}).get("authorizer") or {}).get("principalId")
    if principal:
        keys["principal"] = str(principal)
    return keys


def _proxy_response(status: int, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """A REST proxy response built outside the resolver (the gate's refusals, the last-resort 500)."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_types.APPLICATION_JSON, **headers},
        "multiValueHeaders": {},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def _handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        event = gate.admit(event)
    except DomainError as refused:
        metrics.add_metric(name=f"Error_{refused.kind}", unit=MetricUnit.Count, value=1)
        return _proxy_response(*_domain_error(refused))
    head = str(event.get("httpMethod")).upper() == "HEAD"
    if head:  # as GET, without the body (the headers still say what GET would send)
        event = {**event, "httpMethod": "GET"}
    response = app.resolve(event, context)
    if head:
        response = {**response, "body": "", "isBase64Encoded": False}
    return response


# clear_state: one request's keys (flow, step, principal) never reach the next request's lines.
@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False, clear_state=True
)
@metrics.log_metrics(raise_on_empty_metrics=False)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        logger.append_keys(**log_keys(event))
        return with_cors(event, _handle(event, context))
    except Exception:  # outside the routes (the resolver's own machinery): still JSON, never a traceback
        logger.exception("unexpected error outside the routes")
        return _proxy_response(500, error_body("internal", _internal_error_message()), {})


if __name__ == "__main__":
    print(openapi_json())
