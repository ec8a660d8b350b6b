"""StepStore: the store that data and ML flows keep their outputs, assets, pages and progress in.

Start with :class:`StoreInterface`. Importing this package does not import pandas; that happens
when a DataFrame is first stored or loaded.
"""

from stepstore.assets import Asset, AssetInfo, AssetType, Dataset, Explainer, Model, Schema, SchemaViolation
from stepstore.connections import (
    ConnectionInfo,
    ConnectionStore,
    ConnectionType,
    DatabaseError,
    MissingDriverError,
)
from stepstore.errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    ForbiddenError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
    ServiceError,
    StepStoreError,
    UploadLimitError,
)
from stepstore.fixtures import FixtureInfo, Fixtures
from stepstore.flow import Flow, FlowFailedError, FlowRun
from stepstore.pages import (
    Card,
    DataSource,
    DateTimeRange,
    Dropdown,
    Element,
    Image,
    InputElement,
    NumericRange,
    Page,
    PlotlyPlot,
    RichText,
    Section,
    Table,
    TextInput,
)
from stepstore.status import FlowStatus, StepState, StepStatus
from stepstore.store import StoreInterface

__version__ = "0.1.0"

__all__ = [
    "Asset",
    "AssetInfo",
    "AssetType",
    "AuthenticationError",
    "Card",
    "ConfigurationError",
    "ConflictError",
    "ConnectionInfo",
    "ConnectionStore",
    "ConnectionType",
    "DataSource",
    "DatabaseError",
    "Dataset",
    "DateTimeRange",
    "Dropdown",
    "Element",
    "Explainer",
    "FixtureInfo",
    "Fixtures",
    "Flow",
    "FlowFailedError",
    "FlowRun",
    "FlowStatus",
    "ForbiddenError",
    "Image",
    "InputElement",
    "IntegrityError",
    "InvalidInputError",
    "MissingDriverError",
    "Model",
    "NotFoundError",
    "NumericRange",
    "Page",
    "PlotlyPlot",
    "RichText",
    "Schema",
    "SchemaViolation",
    "Section",
    "ServiceError",
    "StepState",
    "StepStatus",
    "StepStoreError",
    "StoreInterface",
    "Table",
    "TextInput",
    "UploadLimitError",
]
