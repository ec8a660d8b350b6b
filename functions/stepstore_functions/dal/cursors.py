"""Page cursors of the list routes, and reading one page of a DynamoDB query.

A cursor says where the previous page stopped: the DynamoDB key of the last item it read (or a
name, or an object key), with the list it belongs to, as url-safe base64 JSON. Callers treat it
as opaque. It is never trusted: decoding checks that it names this list and that every key
attribute lies in the partition (and sort key range) this list reads for this caller, so an
altered or forged cursor can at most move within the caller's own items, and otherwise is
refused with a 422 naming `cursor`, never passed to DynamoDB to fail there.

Every list reads one page per request: a Query with `Limit` and `ExclusiveStartKey`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from stepstore_functions.models.errors import InvalidInputError

T = TypeVar("T")

MAX_CURSOR_CHARS = 4096
DEFAULT_PAGE = 100
MAX_PAGE = 1000

# A DynamoDB key as pynamodb passes it: {"pk": {"S": "..."}, ...}
RawKey = dict[str, dict[str, str]]


@dataclass(frozen=True)
class Listing(Generic[T]):
    """One page of a list and the cursor of the next one (None on the last page)."""

    items: list[T]
    next: str | None = None


def page_size(limit: int | None, default: int = DEFAULT_PAGE, most: int = MAX_PAGE) -> int:
    return min(max(int(limit or default), 1), most)


def bad_cursor(scope: str) -> InvalidInputError:
    return InvalidInputError(
        f"cursor is not a cursor of this list ({scope}); pass the `next` value of the previous page as it "
        "came, with the same filters",
        field="cursor",
    )


def encode(scope: str, position: Mapping[str, Any]) -> str:
    """A cursor for `scope` that resumes after `position`."""
    text = json.dumps({"s": scope, "p": dict(position)}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str | None, scope: str) -> dict[str, Any] | None:
    """The position a cursor of `scope` resumes after; None for no cursor; a 422 for anything else."""
    if cursor is None or cursor == "":
        return None
    if len(cursor) > MAX_CURSOR_CHARS:
        raise bad_cursor(scope)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        body = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise bad_cursor(scope) from None
    if not isinstance(body, dict) or body.get("s") != scope or not isinstance(body.get("p"), dict):
        raise bad_cursor(scope)
    return body["p"]


def encode_key(scope: str, key: RawKey | None) -> str | None:
    """A cursor from a query's LastEvaluatedKey (string attributes only); None when there is none."""
    plain = plain_key(key)
    return encode(scope, plain) if plain else None


def decode_key(
    cursor: str | None,
    scope: str,
    exact: Mapping[str, str],
    prefixes: Mapping[str, str],
) -> RawKey | None:
    """The ExclusiveStartKey a cursor carries, checked to lie where this list reads (see `check_key`)."""
    return check_key(decode(cursor, scope), scope, exact, prefixes)


def check_key(
    position: Any, scope: str, exact: Mapping[str, str], prefixes: Mapping[str, str]
) -> RawKey | None:
    """A decoded key as an ExclusiveStartKey, if it lies in the range this list reads; else a 422.

    `exact`: attributes that must equal these values (the caller's partition); `prefixes`: attributes
    that must start with these (the sort key range the query covers). No other attribute may appear.
    """
    if position is None:
        return None
    if not isinstance(position, dict) or set(position) != set(exact) | set(prefixes):
        raise bad_cursor(scope)
    for name, value in position.items():
        if not isinstance(value, str) or len(value) > 1024:
            raise bad_cursor(scope)
        if name in exact and value != exact[name]:
            raise bad_cursor(scope)
        if name in prefixes and (not value.startswith(prefixes[name]) or value == prefixes[name]):
            raise bad_cursor(scope)
    return {name: {"S": value} for name, value in position.items()}


def plain_key(key: RawKey | None) -> dict[str, str] | None:
    """A LastEvaluatedKey as plain strings, to put inside a cursor."""
    return {name: value["S"] for name, value in key.items()} if key else None


def query_page(
    model: Any, query: Callable[..., Any], limit: int, start: RawKey | None, **kwargs: Any
) -> tuple[list[Any], RawKey | None]:
    """One DynamoDB Query of at most `limit` items and where to resume (None: that was the last page).

    `query` is `model.query` or one of its indexes' `query`. With a filter the page may hold fewer
    than `limit` items and still not be the last: DynamoDB applies `Limit` before the filter.
    """
    pages = query(page_size=limit, last_evaluated_key=start, **kwargs).page_iter
    page = next(pages, None) or {}
    return [model.from_raw_data(raw) for raw in page.get("Items", [])], pages.last_evaluated_key
