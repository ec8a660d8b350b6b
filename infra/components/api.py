"""API Gateway REST API: the TOKEN authorizer on every route but the public ones, stage
throttling, JSON access logs, execution logs for errors, tracing, and CORS for the stage's
allowed origins (preflights answered by API Gateway itself, without the authorizer)."""

from __future__ import annotations

import json

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constants import AUTHORIZER_CACHE_SECONDS, name
from infra.nag import acknowledge
from infra.settings import StageSettings

# One JSON object per request. requestId is also the API function's correlation_id, so an
# operator goes from an access-log line to the function's logs of that request (README, Operations).
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTime",
    "requestTimeEpoch": "$context.requestTimeEpoch",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationStatus": "$context.integrationStatus",
    "principal": "$context.authorizer.principalId",
    "authorizerError": "$context.authorizer.error",
    "errorMessage": "$context.error.message",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "xrayTraceId": "$context.xrayTraceId",
}

# What a browser may send and read (the SDK's and the console's requests).
CORS_ALLOW_HEADERS = ["Authorization", "Content-Type", "X-StepStore-User"]
CORS_EXPOSE_HEADERS = ["X-Amzn-RequestId"]
CORS_MAX_AGE_SECONDS = 600

GATEWAY_RESPONSES = (
    ("Unauthorized", apigw.ResponseType.UNAUTHORIZED, "unauthorized", "Unauthorized"),
    (
        "AccessDenied",
        apigw.ResponseType.ACCESS_DENIED,
        "unauthorized",
        "User is not authorized to access this resource",
    ),
    ("Throttled", apigw.ResponseType.THROTTLED, "throttled", "Too many requests: slow down and retry"),
    ("RequestTooLarge", apigw.ResponseType.REQUEST_TOO_LARGE, "too_large", "Request Too Long"),
    # Any other refusal of API Gateway's own (a method a public resource lacks, a body it cannot read).
    ("Default4xx", apigw.ResponseType.DEFAULT_4_XX, "bad_request", "$context.error.message"),
    ("Default5xx", apigw.ResponseType.DEFAULT_5_XX, "internal", "Internal server error"),
)


class Api(Construct):
    """Every request goes to the API function (a proxy integration); the function's resolver routes it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        handler: lambda_.IFunction,
        authorizer_function: lambda_.IFunction,
        public_routes: frozenset[tuple[str, str]],
        settings: StageSettings,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/aws/apigateway/{name(stage, 'api')}/access",
            retention=settings.log_retention(),
            removal_policy=removal_policy,
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=name(stage, "api"),
            description=f"StepStore API ({stage})",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=stage,
                throttling_rate_limit=settings.throttle_rate_limit,
                throttling_burst_limit=settings.throttle_burst_limit,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # request bodies may hold credentials: never logged
                metrics_enabled=True,
                tracing_enabled=True,
            ),
            # Preflights: an OPTIONS method on every resource, answered by API Gateway (a mock
            # integration, no authorizer), echoing the Origin only when it is one of the stage's.
            # Bearer tokens travel in a header, not cookies: credentials are never allowed.
            default_cors_preflight_options=(
                apigw.CorsOptions(
                    allow_origins=list(settings.allowed_origins),
                    allow_methods=apigw.Cors.ALL_METHODS,
                    allow_headers=CORS_ALLOW_HEADERS,
                    allow_credentials=False,
                    max_age=Duration.seconds(CORS_MAX_AGE_SECONDS),
                )
                if settings.allowed_origins
                else None
            ),
        )
        self.authorizer = apigw.TokenAuthorizer(
            self,
            "TokenAuthorizer",
            handler=authorizer_function,
            authorizer_name=name(stage, "token-authorizer"),
            identity_source=apigw.IdentitySource.header("Authorization"),
            results_cache_ttl=Duration.seconds(AUTHORIZER_CACHE_SECONDS),
        )
        # Answers API Gateway gives itself, in the shape the API (and the local gateway) answers with.
        # A gateway response's headers are static: with one allowed origin a browser can read the
        # 401/403/429/5xx that API Gateway answers itself; with several, it sees a CORS failure instead.
        gateway_cors = (
            {"Access-Control-Allow-Origin": f"'{settings.allowed_origins[0]}'", "Vary": "'Origin'"}
            if len(settings.allowed_origins) == 1
            else None
        )
        for construct_id, response_type, kind, message in GATEWAY_RESPONSES:
            self.rest_api.add_gateway_response(
                construct_id,
                type=response_type,
                response_headers=gateway_cors,
                templates={
                    "application/json": json.dumps({"error": kind, "message": message, "field": None})
                },
            )
        validator = self.rest_api.add_request_validator(
            "RequestValidator",
            request_validator_name=name(stage, "request-validator"),
            validate_request_body=True,
            validate_request_parameters=True,
        )
        integration = apigw.LambdaIntegration(handler, proxy=True)
        protected = {
            "authorizer": self.authorizer,
            "authorization_type": apigw.AuthorizationType.CUSTOM,
            "request_validator": validator,
        }
        self.rest_api.root.add_method("ANY", integration, **protected)
        self.rest_api.root.add_resource("{proxy+}").add_method("ANY", integration, **protected)
        # API Gateway picks the most specific resource, so these override {proxy+} for their method only.
        self.public_methods: list[apigw.Method] = []
        for method, path in sorted(public_routes):
            public = self.rest_api.root.resource_for_path(path).add_method(
                method,
                integration,
                authorization_type=apigw.AuthorizationType.NONE,
                request_validator=validator,
            )
            self.public_methods.append(public)
            acknowledge(
                public,
                "AwsSolutions-APIG4",
                f"{method} {path} is public by design (liveness for load balancers and uptime checks); it "
                "reads nothing and returns no data. Every other route has the TOKEN authorizer.",
            )
            acknowledge(
                public,
                "AwsSolutions-COG4",
                f"{method} {path} is public by design; see AwsSolutions-APIG4 on it.",
            )
        public_paths = {m.node.path for m in self.public_methods}
        for method in self.rest_api.methods:
            if method.node.path in public_paths:
                continue
            if method.http_method == "OPTIONS":
                for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
                    acknowledge(
                        method,
                        rule,
                        "CORS preflight: browsers send OPTIONS without credentials, so it cannot be "
                        "authorized; API Gateway answers it itself (mock integration), reading nothing.",
                    )
                continue
            acknowledge(
                method,
                "AwsSolutions-COG4",
                "StepStore authenticates its own bearer tokens (hashed in DynamoDB) with a TOKEN Lambda "
                "authorizer; there is no Cognito user pool by design.",
            )
        acknowledge(
            self.rest_api,
            "AwsSolutions-APIG3",
            "WAF is an account-level choice with its own cost; the stage has throttling, and operators "
            "attach a web ACL to the stage when they need one (README, Deploying to AWS).",
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
            "The account-level role API Gateway uses to write execution logs; AWS maintains this policy "
            "for exactly that purpose.",
        )

    @property
    def url(self) -> str:
        return self.rest_api.url
