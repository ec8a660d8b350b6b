"""The event bus and what feeds it and reads it: the tables' streams and the fixtures bucket's
notifications into the publishers, and rules from the bus to the triggers.

Events never come from the API request path: a request writes an item or an object, and the
stream or the notification publishes. Failures land in one dead-letter queue per stage.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constants import bus_name, name
from infra.nag import acknowledge
from stepstore_functions.events.records import ASSET_PK_PREFIX, OUTPUT_SK_PREFIX, STEP_SK_PREFIX
from stepstore_functions.resources import FIXTURE_PREFIX
from stepstore_functions.triggers import fixture_flow

# Stream records worth a look (the handler decides): out-links, steps, asset heads. Filtering here
# keeps progress-free writes (users, tokens, uploads, pages) from invoking the publisher at all.
STREAM_FILTERS = {
    "links": [{"dynamodb": {"Keys": {"sk": {"S": [{"prefix": OUTPUT_SK_PREFIX}]}}}}],
    "metadata": [
        {"dynamodb": {"Keys": {"sk": {"S": [{"prefix": STEP_SK_PREFIX}]}}}},
        {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": ASSET_PK_PREFIX}]}, "sk": {"S": ["HEAD"]}}}},
    ],
}


def event_pattern(pattern: dict[str, Any]) -> events.EventPattern:
    """A CDK EventPattern from the plain pattern the functions (and the local stack) use."""
    return events.EventPattern(
        source=pattern.get("source"), detail_type=pattern.get("detail-type"), detail=pattern.get("detail")
    )


class Events(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        tables: dict[str, dynamodb.Table],
        fixtures_bucket: s3.Bucket,
        stream_publisher: lambda_.Function,
        s3_publisher: lambda_.Function,
        fixture_trigger: lambda_.Function,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=bus_name(stage))
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            queue_name=name(stage, "events-dlq"),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.dead_letters,
            "AwsSolutions-SQS3",
            "This queue is the dead-letter queue of the stream source, the async invocations and the rule "
            "targets; a dead-letter queue of its own would only move the same messages again.",
        )

        for publisher in (stream_publisher, s3_publisher):
            self.bus.grant_put_events_to(publisher)
            publisher.add_environment("EVENT_BUS_NAME", self.bus.event_bus_name)

        for table_name, filters in STREAM_FILTERS.items():
            stream_publisher.add_event_source(
                sources.DynamoEventSource(
                    tables[table_name],
                    starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                    batch_size=100,
                    max_batching_window=Duration.seconds(1),
                    bisect_batch_on_error=True,
                    retry_attempts=5,
                    report_batch_item_failures=True,
                    on_failure=sources.SqsDlq(self.dead_letters),
                    filters=[lambda_.FilterCriteria.filter(f) for f in filters],
                )
            )
        acknowledge(
            stream_publisher.role,
            "AwsSolutions-IAM5[Resource::*]",
            "Besides X-Ray: dynamodb:ListStreams (added by the stream event source) has no resource-level "
            "permissions; the stream reads themselves are scoped to the two tables' stream ARNs.",
        )

        s3_publisher.configure_async_invoke(
            on_failure=destinations.SqsDestination(self.dead_letters),
            retry_attempts=2,
            max_event_age=Duration.hours(6),
        )
        fixtures_bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.LambdaDestination(s3_publisher),
            s3.NotificationKeyFilter(prefix=FIXTURE_PREFIX),
        )

        fixture_trigger.configure_async_invoke(
            on_failure=destinations.SqsDestination(self.dead_letters),
            retry_attempts=2,
            max_event_age=Duration.hours(6),
        )
        self.fixture_rule = events.Rule(
            self,
            "FixtureFlowRule",
            rule_name=name(stage, "fixture-flow"),
            description="Runs the example fixture flow for each FixtureUploaded event",
            event_bus=self.bus,
            event_pattern=event_pattern(fixture_flow.RULE_PATTERN),
            targets=[
                targets.LambdaFunction(
                    fixture_trigger,
                    dead_letter_queue=self.dead_letters,
                    retry_attempts=3,
                    max_event_age=Duration.hours(2),
                )
            ],
        )
        # The stage's bucket-notification custom resource (CDK's own singleton handler).
        handler = self.node.scope.node.try_find_child(  # type: ignore[union-attr]
            "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"
        )
        if handler is not None:
            acknowledge(
                handler,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                "CDK's own handler that sets the fixtures bucket's notification configuration at deploy "
                "time; its role is created by CDK with the basic execution policy.",
            )
            acknowledge(
                handler,
                "AwsSolutions-IAM5[Resource::*]",
                "CDK's bucket-notification handler calls s3:PutBucketNotification, which CDK grants it on "
                "'*'; it runs only during deployments.",
            )
