"""The TOKEN authorizer: a bearer token in, an IAM policy with the user's name and role out."""

from __future__ import annotations

import warnings
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
    APIGatewayAuthorizerTokenEvent,
    parse_api_gateway_arn,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from stepstore_functions.logic.users import authenticate
from stepstore_functions.observability import observability

# Most requests are reads with no business metric to count; an empty flush is expected, not news.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger, metrics, tracer = observability("stepstore-authorizer")

# API Gateway answers 401 when a TOKEN authorizer raises exactly this.
UNAUTHORIZED = "Unauthorized"


@logger.inject_lambda_context(log_event=False)  # the event holds the token: never log it
@metrics.log_metrics(raise_on_empty_metrics=False)
@tracer.capture_lambda_handler(capture_response=False)
@event_source(data_class=APIGatewayAuthorizerTokenEvent)
def lambda_handler(event: APIGatewayAuthorizerTokenEvent, context: LambdaContext) -> dict[str, Any]:
    scheme, _, token = (event.authorization_token or "").partition(" ")
    found = authenticate(token.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        metrics.add_metric(name="TokenRejected", unit=MetricUnit.Count, value=1)
        logger.info("token rejected")
        raise Exception(UNAUTHORIZED)
    user, role, expires_at = found
    arn = parse_api_gateway_arn(event.method_arn)
    policy = APIGatewayAuthorizerResponse(
        principal_id=user,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        # The expiry travels with the cached answer, so the API refuses an expired token at once.
        context={
            "principal": user,
            "role": role.value,
            **({"expires_at": str(expires_at.timestamp())} if expires_at else {}),
        },
    )
    # The answer is cached per token by API Gateway, so it must cover every route, not just this one.
    policy.allow_all_routes()
    return policy.asdict()
