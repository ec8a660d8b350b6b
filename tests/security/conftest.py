"""What the attacks in this folder share: raw HTTP against the local stack, and the error shape."""

from __future__ import annotations

from typing import Any

import requests

ERROR_KEYS = {"error", "message", "field"}


def assert_error_shape(response: requests.Response, status: int | None = None) -> dict[str, Any]:
    """The one error shape: a JSON object of exactly error, message (text) and field (text or null)."""
    if status is not None:
        assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict) and set(body) == ERROR_KEYS, body
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"]
    assert body["field"] is None or isinstance(body["field"], str)
    assert "Traceback" not in response.text
    return body
