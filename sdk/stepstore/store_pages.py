"""StoreInterface's pages and elements: get_page, update_page, get_element, ..."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stepstore.client import ApiClient


class PageMethods:
    """Mixed into StoreInterface; uses its `_api`, `flow_id` and `step_name`."""

    _api: ApiClient
    flow_id: str
    step_name: str
