"""StepStoreStack: one stage of StepStore, composed of one construct per capability."""

from __future__ import annotations

from aws_cdk import CfnOutput, RemovalPolicy, Stack, Tags
from constructs import Construct

from infra.components.api import Api
from infra.components.buckets import Buckets
from infra.components.connections import Connections
from infra.components.console import Console
from infra.components.events import Events
from infra.components.functions import Functions
from infra.components.monitoring import Monitoring
from infra.components.tables import Tables
from infra.constants import POWERTOOLS_LAYER_VERSION, Outputs
from infra.settings import StageSettings
from stepstore_functions.handlers.api import PUBLIC_ROUTES
from stepstore_functions.resources import PROJECT


class StepStoreStack(Stack):
    """Tables, buckets, connections scope, functions, API, events and monitoring of one stage.

    Args:
        stage: the deployment stage; it is in every resource name, so stages share an account.
        settings: the stage's settings (infra/stages/<stage>.json): throttling, memory, log retention,
            alarm thresholds, allowed origins, whether data is retained.
        powertools_layer_version: the version of the public Powertools layer to use.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        settings: StageSettings | None = None,
        powertools_layer_version: int = POWERTOOLS_LAYER_VERSION,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, description=f"StepStore ({stage})", **kwargs)
        self.stage = stage
        self.settings = settings = settings or StageSettings()
        removal = RemovalPolicy.RETAIN if settings.retain_data else RemovalPolicy.DESTROY
        Tags.of(self).add("project", PROJECT)
        Tags.of(self).add("stepstore-stage", stage)

        self.tables = Tables(self, "Tables", stage=stage, removal_policy=removal)
        self.buckets = Buckets(
            self,
            "Buckets",
            stage=stage,
            account=self.account,
            region=self.region,
            allowed_origins=settings.allowed_origins,
            removal_policy=removal,
        )
        self.connections = Connections(self, "Connections", stage=stage)
        self.functions = Functions(
            self,
            "Functions",
            stage=stage,
            account=self.account,
            tables=self.tables.by_name,
            buckets=self.buckets.by_name,
            connections=self.connections,
            powertools_layer_version=powertools_layer_version,
            settings=settings,
            removal_policy=removal,
        )
        self.api = Api(
            self,
            "Api",
            stage=stage,
            handler=self.functions.api,
            authorizer_function=self.functions.authorizer,
            public_routes=PUBLIC_ROUTES,
            settings=settings,
            removal_policy=removal,
        )
        self.console = Console(
            self,
            "Console",
            stage=stage,
            account=self.account,
            api_url=self.api.url,
            api_id=self.api.rest_api.rest_api_id,
            storage_buckets=[self.buckets.by_name["data"], self.buckets.by_name["assets"]],
            access_logs=self.buckets.access_logs,
            removal_policy=removal,
        )
        # Event-driven flows call the API like any flow.
        self.functions.fixture_trigger.add_environment("STEPSTORE_API_URL", self.api.url)
        self.events = Events(
            self,
            "Events",
            stage=stage,
            tables=self.tables.by_name,
            fixtures_bucket=self.buckets.by_name["fixtures"],
            stream_publisher=self.functions.stream_publisher,
            s3_publisher=self.functions.s3_publisher,
            fixture_trigger=self.functions.fixture_trigger,
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            stage=stage,
            api=self.api.rest_api,
            functions=self.functions.all,
            stream_publisher=self.functions.stream_publisher,
            tables=self.tables.all,
            buckets=self.buckets.all,
            dead_letters=self.events.dead_letters,
            thresholds=settings.alarms,
            authorizer=self.functions.authorizer,
            runbook_url=settings.runbook_url,
        )
        self._outputs()

    def _outputs(self) -> None:
        tables, buckets = self.tables.by_name, self.buckets.by_name
        values = {
            Outputs.API_URL: (self.api.url, "The API's base URL: STEPSTORE_API_URL"),
            Outputs.STAGE: (self.stage, "The deployment stage"),
            Outputs.REGION: (self.region, "The stack's region"),
            Outputs.METADATA_TABLE: (tables["metadata"].table_name, "Flows, steps, assets, users"),
            Outputs.LINKS_TABLE: (tables["links"].table_name, "Steps' out-links"),
            Outputs.DATA_BUCKET: (buckets["data"].bucket_name, "Step outputs and uploads"),
            Outputs.ASSETS_BUCKET: (buckets["assets"].bucket_name, "Asset objects (versioned)"),
            Outputs.FIXTURES_BUCKET: (buckets["fixtures"].bucket_name, "Fixtures, under fixture/"),
            Outputs.SECRETS_PREFIX: (self.connections.prefix, "Connection secrets' name prefix"),
            Outputs.EVENT_BUS_NAME: (self.events.bus.event_bus_name, "The StepStore event bus"),
            Outputs.TRIGGER_TOKEN_SECRET: (
                self.connections.trigger_token.secret_arn,
                "Store the event-driven flows' service token here",
            ),
            Outputs.ALARM_TOPIC: (self.monitoring.topic.topic_arn, "Subscribe to receive alarms"),
            Outputs.DASHBOARD: (self.monitoring.dashboard.dashboard_name, "The CloudWatch dashboard"),
            Outputs.CONSOLE_URL: (self.console.url, "The web console (sign in with a StepStore token)"),
        }
        for key, (value, description) in values.items():
            CfnOutput(self, key, value=value, description=description)
