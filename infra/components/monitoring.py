"""CloudWatch: a dashboard of what operators look at first, and alarms to an SNS topic."""

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

from infra.constants import API_5XX_RATE_PERCENT, API_P99_LATENCY_MS, STREAM_ITERATOR_AGE_MS, name

FIVE_MINUTES = Duration.minutes(5)


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
    ) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
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
        error_rate = cloudwatch.MathExpression(
            expression="IF(requests > 0, 100 * errors / requests, 0)",
            using_metrics={"requests": requests, "errors": server_errors},
            label="5xx rate (%)",
            period=FIVE_MINUTES,
        )
        p99 = api.metric_latency(period=FIVE_MINUTES, statistic="p99")
        self._alarm(
            "Api5xxRate",
            error_rate,
            API_5XX_RATE_PERCENT,
            f"More than {API_5XX_RATE_PERCENT}% of API requests failed with 5xx over 5 minutes",
            evaluation_periods=2,
        )
        self._alarm(
            "ApiP99Latency",
            p99,
            API_P99_LATENCY_MS,
            f"API p99 latency above {API_P99_LATENCY_MS} ms for 15 minutes",
            evaluation_periods=3,
        )
        for function in functions:
            short = function.node.id
            self._alarm(
                f"{short}Errors",
                function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
                1,
                f"{short} function invocations failed",
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
            STREAM_ITERATOR_AGE_MS,
            "Events lag behind the table streams by more than a minute",
        )
        table_throttles = [self._table_throttles(table) for table in tables]
        for table, throttles in zip(tables, table_throttles, strict=True):
            self._alarm(
                f"{table.node.id}Throttles",
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
            alarm_description=description,
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
