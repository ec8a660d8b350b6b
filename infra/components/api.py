"""API Gateway REST API: the TOKEN authorizer on every route but the public ones, stage
throttling, JSON access logs, execution logs for errors, tracing."""

from __future__ import annotations

import json

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constants import (
    AUTHORIZER_CACHE_SECONDS,
    LOG_RETENTION_DAYS,
    THROTTLE_BURST_LIMIT,
    THROTTLE_RATE_LIMIT,
    name,
)
from infra.nag import acknowledge

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

_RETENTION = {30: logs.RetentionDays.ONE_MONTH, 90: logs.RetentionDays.THREE_MONTHS}

GATEWAY_RESPONSES = (
    ("Unauthorized", apigw.ResponseType.UNAUTHORIZED, "unauthorized", "Unauthorized"),
    (
        "AccessDenied",
        apigw.ResponseType.ACCESS_DENIED,
        "unauthorized",
        "User is not authorized to access this resource",
    ),
    ("Throttled", apigw.ResponseType.THROTTLED, "throttled", "Too many requests: slow down and retry"),
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
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/aws/apigateway/{name(stage, 'api')}/access",
            retention=_RETENTION[LOG_RETENTION_DAYS],
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
                throttling_rate_limit=THROTTLE_RATE_LIMIT,
                throttling_burst_limit=THROTTLE_BURST_LIMIT,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # request bodies may hold credentials: never logged
                metrics_enabled=True,
                tracing_enabled=True,
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
        for construct_id, response_type, kind, message in GATEWAY_RESPONSES:
            self.rest_api.add_gateway_response(
                construct_id,
                type=response_type,
                templates={"application/json": json.dumps({"error": kind, "message": message})},
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
