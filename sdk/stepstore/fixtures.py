"""Fixtures: files every flow of a deployment may read, under ``fixture/`` in its fixtures bucket.

Listing and reading need any token; adding a fixture needs an admin or service token.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stepstore import transfer
from stepstore.client import PAGE, ApiClient
from stepstore.errors import InvalidInputError

FIXTURE_PREFIX = "fixture/"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_prefix(prefix: str | None, field: str = "prefix") -> str:
    """A path relative to the fixture area: '..' and absolute paths are refused (ValueError)."""
    value = prefix or ""
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be a string, got {type(value).__name__}", field=field)
    if ".." in value:
        raise InvalidInputError(
            f"{field} {value!r} is refused: '..' may not climb out of {FIXTURE_PREFIX}", field=field
        )
    if value.startswith(("/", "~")) or "\\" in value or "://" in value or re.match(r"^[A-Za-z]:", value):
        raise InvalidInputError(
            f"{field} {value!r} is refused: give a path relative to {FIXTURE_PREFIX}, not an absolute one",
            field=field,
        )
    if _CONTROL.search(value):
        raise InvalidInputError(f"{field} contains control characters", field=field)
    return value


def relative_key(key: str) -> str:
    """A fixture's key relative to the fixture area, from either form ('a/b.csv' or 'fixture/a/b.csv')."""
    relative = key[len(FIXTURE_PREFIX) :] if key.startswith(FIXTURE_PREFIX) else key
    check_prefix(relative, field="key")
    if not relative or relative.endswith("/"):
        raise InvalidInputError(f"key {key!r} names a folder, not a file", field="key")
    return relative


@dataclass(frozen=True)
class FixtureInfo:
    """One fixture file: its full key ('fixture/...'), size, ETag and time of last change."""

    key: str
    size: int
    etag: str
    last_modified: datetime

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> FixtureInfo:
        return cls(
            key=body["key"],
            size=int(body["size"]),
            etag=body["etag"],
            last_modified=datetime.fromisoformat(body["last_modified"]),
        )


class Fixtures:
    """The deployment's fixture files, through the StepStore API (bytes through presigned URLs).

    Args:
        api: the HTTP client; None builds one from ``STEPSTORE_API_URL`` and ``STEPSTORE_TOKEN``.
    """

    def __init__(self, api: ApiClient | None = None) -> None:
        self._api = api or ApiClient.from_environment()

    def list(self, prefix: str | None = None, limit: int | None = None) -> list[FixtureInfo]:
        """Fixtures under ``fixture/{prefix}``, in key order: every one, or the first `limit`."""
        check_prefix(prefix)
        found: list[FixtureInfo] = []
        page = min(limit, PAGE) if limit else PAGE
        for body in self._api.pages("/fixtures", prefix=prefix or None, limit=page):
            found.extend(FixtureInfo.from_api(f) for f in body["fixtures"])
            if limit and len(found) >= limit:
                return found[:limit]
        return found

    def get(self, key: str) -> bytes:
        """The bytes of one fixture, checked against the size and ETag S3 reports."""
        found = self._api.get("/fixtures/download", key=FIXTURE_PREFIX + relative_key(key))
        return transfer.download(found["url"], found["size"], found["etag"])

    def put(self, key: str, data: bytes) -> FixtureInfo:
        """Store `data` as the fixture `key` (relative to ``fixture/``); needs an admin or service token.

        The bytes go to S3 under a staging key and replace the fixture only once they are verified.
        """
        encoded = base64.urlsafe_b64encode(relative_key(key).encode()).decode().rstrip("=")
        return FixtureInfo.from_api(
            transfer.upload(self._api, f"/fixtures/files/{encoded}", "bytes", "raw", data)
        )
