"""CloudWatch: a dashboard of what operators look at first, and alarms to an SNS topic.

Every alarm's description ends with a link to its runbook section in the README
(`RUNBOOKS`; the stage setting ``runbook_url`` says where the README is published)."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constants import name
from infra.settings import AlarmThresholds

FIVE_MINUTES = Duration.minutes(5)
NAMESPACE = "StepStore"

# Alarm construct id -> the README heading (under "Runbooks") whose anchor its description links.
RUNBOOKS = {
    "Api5xxRate": "api-5xx-rate",
    "ApiP99Latency": "api-p99-latency",
    "Api4xxSurge": "api-4xx-surge",
    "RejectedTokens": "rejected-tokens",
    "Errors": "function-errors",
    "Throttles": "function-throttles",
    "StreamIteratorAge": "stream-iterator-age",
    "TableThrottles": "table-throttles",
    "EventDeadLetters": "dead-lettered-events",
    "DeadLetterAge": "dead-lettered-events",
    "ConcurrencyNearLimit": "concurrency-near-limit",
    "TriggerTokenMissing": "trigger-token-missing",
}


def runbook_anchor(construct_id: str) -> str:
    for suffix, anchor in RUNBOOKS.items():
        if construct_id == suffix or construct_id.endswith(suffix):
            return f"runbook-{anchor}"
    raise KeyError(f"alarm {construct_id} has no runbook")


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        api: apigw.RestApi,
        functions: list[lambda_.Function],
        stream_publisher: lambda_.Function,
        tables: list[dynamodb.Table],
        buckets: list[s3.Bucket],
        dead_letters: sqs.Queue,
        thresholds: AlarmThresholds,
        authorizer: lambda_.Function,
        runbook_url: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        self.runbook_url = runbook_url
        # CloudWatch must be able to publish to the encrypted topic: a key of our own, rotated.
        key = kms.Key(
            self,
            "AlarmTopicKey",
            alias=f"alias/{name(stage, 'alarms')}",
            description=f"StepStore {stage}: encrypts the alarm topic",
            enable_key_rotation=True,
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, '*' is this key
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            topic_name=name(stage, "alarms"),
            display_name=f"StepStore {stage} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        self.alarms: list[cloudwatch.Alarm] = []

        requests = api.metric_count(period=FIVE_MINUTES, statistic="Sum")
        server_errors = api.metric_server_error(period=FIVE_MINUTES, statistic="Sum")
        client_errors = api.metric_client_error(period=FIVE_MINUTES, statistic="Sum")
        # Below a minimum of requests a rate is noise: one failure in three requests is not an outage.
        error_rate = cloudwatch.MathExpression(
            expression=f"IF(requests >= {thresholds.api_5xx_min_requests}, 100 * errors / requests, 0)",
            using_metrics={"requests": requests, "errors": server_errors},
            label="5xx rate (%)",
            period=FIVE_MINUTES,
        )
        p99 = api.metric_latency(period=FIVE_MINUTES, statistic="p99")
        self._alarm(
            "Api5xxRate",
            error_rate,
            thresholds.api_5xx_rate_percent,
            f"More than {thresholds.api_5xx_rate_percent}% of API requests failed with 5xx in two 5-minute "
            f"periods running (counted from {thresholds.api_5xx_min_requests} requests a period)",
            evaluation_periods=2,
        )
        self._alarm(
            "ApiP99Latency",
            p99,
            thresholds.api_p99_latency_ms,
            f"API p99 latency above {thresholds.api_p99_latency_ms} ms for 15 minutes",
            evaluation_periods=3,
        )
        self._alarm(
            "Api4xxSurge",
            client_errors,
            thresholds.api_4xx_per_5_minutes,
            f"{thresholds.api_4xx_per_5_minutes} or more 4xx answers in 5 minutes: a broken client, a scan, "
            "or a deploy that changed the API",
        )
        # The authorizer says no by failing (API Gateway's contract for a 401), so Lambda counts every
        # rejected token as an error. Rejections have their own metric and alarm; errors are the rest.
        rejected = cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name="TokenRejected",
            dimensions_map={"service": "stepstore-authorizer"},
            period=FIVE_MINUTES,
            statistic="Sum",
        )
        self._alarm(
            "RejectedTokens",
            rejected,
            thresholds.rejected_tokens_per_5_minutes,
            f"{thresholds.rejected_tokens_per_5_minutes} or more bearer tokens rejected in 5 minutes: "
            "a revoked token still in use, or someone guessing",
        )
        for function in functions:
            short = function.node.id
            errors: cloudwatch.IMetric = function.metric_errors(period=FIVE_MINUTES, statistic="Sum")
            if function is authorizer:
                errors = cloudwatch.MathExpression(
                    expression="FILL(errors, 0) - FILL(rejected, 0)",
                    using_metrics={"errors": errors, "rejected": rejected},
                    label="authorizer failures (rejected tokens excluded)",
                    period=FIVE_MINUTES,
                )
            self._alarm(
                f"{short}Errors",
                errors,
                1,
                f"{short} function invocations failed"
                + (" (rejected tokens are not failures)" if function is authorizer else ""),
            )
            self._alarm(
                f"{short}Throttles",
                function.metric_throttles(period=FIVE_MINUTES, statistic="Sum"),
                1,
                f"{short} function invocations were throttled",
            )
        iterator_age = stream_publisher.metric("IteratorAge", period=FIVE_MINUTES, statistic="Maximum")
        self._alarm(
            "StreamIteratorAge",
            iterator_age,
            thresholds.stream_iterator_age_ms,
            f"Events lag behind the table streams by more than {thresholds.stream_iterator_age_ms // 1000} s",
        )
        table_throttles = [self._table_throttles(table) for table in tables]
        for table, throttles in zip(tables, table_throttles, strict=True):
            self._alarm(
                f"{table.node.id}TableThrottles",
                throttles,
                1,
                f"DynamoDB throttled requests on the {table.node.id} table",
            )
        dead_letter_depth = dead_letters.metric_approximate_number_of_messages_visible(
            period=FIVE_MINUTES, statistic="Maximum"
        )
        self._alarm(
            "EventDeadLetters", dead_letter_depth, 1, "Events or triggers failed and were dead-lettered"
        )
        self._alarm(
            "DeadLetterAge",
            dead_letters.metric_approximate_age_of_oldest_message(period=FIVE_MINUTES, statistic="Maximum"),
            thresholds.dead_letter_oldest_message_seconds,
            f"A dead-lettered event has waited {thresholds.dead_letter_oldest_message_seconds} s or more; "
            "the queue keeps messages 14 days, and stream records can be redriven from the table only",
        )
        concurrency_limit = (
            thresholds.account_concurrency_limit * thresholds.concurrency_percent_of_limit / 100
        )
        self._alarm(
            "ConcurrencyNearLimit",
            cloudwatch.Metric(
                namespace="AWS/Lambda",
                metric_name="ConcurrentExecutions",
                period=Duration.minutes(1),
                statistic="Maximum",
            ),
            concurrency_limit,
            f"Lambda concurrent executions in this region reached {thresholds.concurrency_percent_of_limit}% "
            f"of the account limit ({thresholds.account_concurrency_limit}); past it, functions throttle",
            evaluation_periods=3,
        )
        self._alarm(
            "TriggerTokenMissing",
            cloudwatch.Metric(
                namespace=NAMESPACE,
                metric_name="TriggerTokenMissing",
                dimensions_map={"service": "stepstore-trigger"},
                period=FIVE_MINUTES,
                statistic="Sum",
            ),
            1,
            "The fixture trigger skipped uploaded fixtures because no service token is stored in its secret",
        )

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=name(stage, "operations"))
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=f"# StepStore {stage}\nRequests, errors and latency of the API; the functions; "
                "DynamoDB; bytes stored; events. Alarms go to the SNS topic "
                f"`{name(stage, 'alarms')}`.",
                width=24,
                height=2,
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24, height=4),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="API requests", left=[requests], width=8),
            cloudwatch.GraphWidget(
                title="API errors", left=[client_errors, server_errors], right=[error_rate], width=8
            ),
            cloudwatch.GraphWidget(
                title="API latency (ms)",
                left=[
                    api.metric_latency(period=FIVE_MINUTES, statistic="p50"),
                    api.metric_latency(period=FIVE_MINUTES, statistic="p90"),
                    p99,
                    api.metric_integration_latency(period=FIVE_MINUTES, statistic="p99"),
                ],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Lambda duration p99 (ms)",
                left=[f.metric_duration(period=FIVE_MINUTES, statistic="p99") for f in functions],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Lambda errors",
                left=[f.metric_errors(period=FIVE_MINUTES, statistic="Sum") for f in functions],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Lambda throttles",
                left=[f.metric_throttles(period=FIVE_MINUTES, statistic="Sum") for f in functions],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="DynamoDB throttled requests", left=table_throttles, width=8),
            cloudwatch.GraphWidget(
                title="DynamoDB consumed capacity",
                left=[
                    t.metric_consumed_read_capacity_units(period=FIVE_MINUTES, statistic="Sum")
                    for t in tables
                ],
                right=[
                    t.metric_consumed_write_capacity_units(period=FIVE_MINUTES, statistic="Sum")
                    for t in tables
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Bytes stored (daily)",
                left=[self._bucket_bytes(bucket) for bucket in buckets],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Events published / stream lag",
                left=[
                    cloudwatch.Metric(
                        namespace="StepStore",
                        metric_name="EventsPublished",
                        dimensions_map={"service": "stepstore-events"},
                        period=FIVE_MINUTES,
                        statistic="Sum",
                    )
                ],
                right=[iterator_age],
                width=12,
            ),
            cloudwatch.GraphWidget(title="Dead-lettered events", left=[dead_letter_depth], width=12),
        )

    def _alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        description: str,
        *,
        evaluation_periods: int = 1,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=name(self.stage, _kebab(construct_id)),
            alarm_description=f"{description}. Runbook: {self.runbook_url}#{runbook_anchor(construct_id)}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)
        return alarm

    @staticmethod
    def _table_throttles(table: dynamodb.Table) -> cloudwatch.IMetric:
        def metric(metric_name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/DynamoDB",
                metric_name=metric_name,
                dimensions_map={"TableName": table.table_name},
                period=FIVE_MINUTES,
                statistic="Sum",
            )

        # Metric ids must differ between the tables drawn on one graph.
        reads, writes = f"{table.node.id.lower()}Reads", f"{table.node.id.lower()}Writes"
        return cloudwatch.MathExpression(
            expression=f"FILL({reads}, 0) + FILL({writes}, 0)",
            using_metrics={reads: metric("ReadThrottleEvents"), writes: metric("WriteThrottleEvents")},
            label=f"{table.node.id} throttles",
            period=FIVE_MINUTES,
        )

    @staticmethod
    def _bucket_bytes(bucket: s3.Bucket) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="AWS/S3",
            metric_name="BucketSizeBytes",
            dimensions_map={"BucketName": bucket.bucket_name, "StorageType": "StandardStorage"},
            period=Duration.days(1),
            statistic="Average",
            label=bucket.node.id,
        )


def _kebab(construct_id: str) -> str:
    out = []
    for index, char in enumerate(construct_id):
        if char.isupper() and index and not construct_id[index - 1].isupper():
            out.append("-")
        out.append(char.lower())
    return "".join(out)
