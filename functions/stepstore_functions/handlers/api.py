"""The API function: one REST resolver over the route groups, with domain errors mapped once."""

from __future__ import annotations

import warnings
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from stepstore_functions.handlers import assets, connections, fixtures, flows, outputs, pages, users
from stepstore_functions.handlers.cors import with_cors
from stepstore_functions.models.api import Health
from stepstore_functions.models.errors import DomainError
from stepstore_functions.observability import observability

# Routes that API Gateway serves without the authorizer; every other route needs a bearer token.
PUBLIC_ROUTES = frozenset({("GET", "/health")})

API_TITLE = "StepStore API"
API_VERSION = "1"

# Most requests are reads with no business metric to count; an empty flush is expected, not news.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger, metrics, tracer = observability("stepstore-api")

app = APIGatewayRestResolver(enable_validation=True)
for route_group in (users, flows, outputs, assets, connections, fixtures, pages):
    app.include_router(route_group.router)


def _error(status: int, kind: str, message: str, field: str | None = None) -> Response:
    body: dict[str, Any] = {"error": kind, "message": message}
    if field:
        body["field"] = field
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


@app.exception_handler(DomainError)
def handle_domain_error(error: DomainError) -> Response:
    metrics.add_metric(name=f"Error_{error.kind}", unit=MetricUnit.Count, value=1)
    return _error(error.status_code, error.kind, str(error), getattr(error, "field", None))


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


# clear_state: one request's keys (flow, step, principal) never reach the next request's lines.
@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False, clear_state=True
)
@metrics.log_metrics(raise_on_empty_metrics=False)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(**log_keys(event))
    return with_cors(event, app.resolve(event, context))


if __name__ == "__main__":
    print(openapi_json())
