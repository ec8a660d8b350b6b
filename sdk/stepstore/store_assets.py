"""StoreInterface's assets: save_asset, get_asset, get_assets, get_model, ..."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stepstore.client import ApiClient


class AssetMethods:
    """Mixed into StoreInterface; uses its `_api`, `flow_id` and `step_name`."""

    _api: ApiClient
    flow_id: str
    step_name: str
