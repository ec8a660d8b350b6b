"""DynamoDB tables, built from the resource spec (functions/stepstore_functions/resources.py)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from stepstore_functions.resources import TABLES, TableSpec


class Tables(Construct):
    """Every table of the spec: on-demand, point-in-time recovery, AWS-owned-key encryption, a
    NEW_AND_OLD_IMAGES stream where the spec asks for one (events are published from it), TTL on
    the spec's attribute (uploads never committed expire)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, stage: str, removal_policy: RemovalPolicy
    ) -> None:
        super().__init__(scope, construct_id)
        self.by_name: dict[str, dynamodb.Table] = {
            spec.logical_name: self._table(spec, stage, removal_policy) for spec in TABLES
        }

    def _table(self, spec: TableSpec, stage: str, removal_policy: RemovalPolicy) -> dynamodb.Table:
        string = dynamodb.AttributeType.STRING
        table = dynamodb.Table(
            self,
            spec.logical_name.capitalize(),
            table_name=spec.physical_name(stage),
            partition_key=dynamodb.Attribute(name=spec.partition_key, type=string),
            sort_key=dynamodb.Attribute(name=spec.sort_key, type=string),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES if spec.stream else None,
            time_to_live_attribute=spec.ttl_attribute,
            deletion_protection=removal_policy == RemovalPolicy.RETAIN,
            removal_policy=removal_policy,
        )
        for index in spec.indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=dynamodb.Attribute(name=index.partition_key, type=string),
                sort_key=dynamodb.Attribute(name=index.sort_key, type=string),
                projection_type=dynamodb.ProjectionType.ALL,
            )
        return table

    @property
    def all(self) -> list[dynamodb.Table]:
        return list(self.by_name.values())
