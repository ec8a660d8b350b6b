"""StepStore: the store that data and ML flows keep their outputs, assets, pages and progress in.

Start with :class:`StoreInterface`. Importing this package does not import pandas; that happens
when a DataFrame is first stored or loaded.
"""

from stepstore.assets import Asset, AssetInfo, AssetType, Dataset, Explainer, Model, Schema, SchemaViolation
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
)
from stepstore.flow import Flow, FlowFailedError, FlowRun
from stepstore.status import FlowStatus, StepState, StepStatus
from stepstore.store import StoreInterface

__version__ = "0.1.0"

__all__ = [
    "Asset",
    "AssetInfo",
    "AssetType",
    "AuthenticationError",
    "ConfigurationError",
    "ConflictError",
    "Dataset",
    "Explainer",
    "Flow",
    "FlowFailedError",
    "FlowRun",
    "FlowStatus",
    "ForbiddenError",
    "IntegrityError",
    "InvalidInputError",
    "Model",
    "NotFoundError",
    "Schema",
    "SchemaViolation",
    "ServiceError",
    "StepState",
    "StepStatus",
    "StepStoreError",
    "StoreInterface",
]
