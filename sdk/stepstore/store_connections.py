"""StoreInterface's connections, SQL and fixtures: db_to_pandas, pandas_to_db, ..."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stepstore.client import ApiClient


class ConnectionMethods:
    """Mixed into StoreInterface; uses its `_api`, `flow_id` and `step_name`."""

    _api: ApiClient
    flow_id: str
    step_name: str
