"""pynamodb item shapes of the metadata and links tables (see resources.py for their keys)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from pynamodb.attributes import (
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from stepstore_functions.settings import get_settings


def utcnow() -> datetime:
    return datetime.now(UTC)


# The metadata table's two overloaded indexes (resources.METADATA_TABLE); item shapes that are
# found through one declare it as an attribute.
class ByGsi1(GlobalSecondaryIndex):
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class ByGsi2(GlobalSecondaryIndex):
    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class _MetadataModel(Model):
    class Meta:
        table_name = "metadata"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class UserItem(_MetadataModel):
    """pk=USER#<name>, sk=USER; gsi1 USERS / <name> lists users by name. A removed user stays as a
    tombstone (`removed_at`), so that its name, which still owns its flows and assets, is never reused."""

    class Meta(_MetadataModel.Meta):
        pass

    name = UnicodeAttribute()
    role = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    removed_at = UTCDateTimeAttribute(null=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    by_name = ByGsi1()


class TokenItem(_MetadataModel):
    """pk=TOKEN#<sha256 of the token>, sk=TOKEN. The token itself is never stored.

    gsi1 TOKENS#<user> / <token id> lists a user's tokens; the id is the hash's first 16 hex digits
    (nothing to guess the token by). `expires_at` is the table's TTL attribute: DynamoDB removes an
    expired token in time, and authentication refuses it from the moment it expires.
    """

    class Meta(_MetadataModel.Meta):
        pass

    user = UnicodeAttribute()
    role = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    token_id = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    by_user = ByGsi1()


class FlowItem(_MetadataModel):
    """pk=FLOW#<owner>#<flow_id>, sk=FLOW; gsi1 lists an owner's flows newest first."""

    class Meta(_MetadataModel.Meta):
        pass

    owner = UnicodeAttribute()
    flow_id = UnicodeAttribute()
    step_count = NumberAttribute(default=0)
    last_step = UnicodeAttribute(null=True)
    current_step = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    by_owner = ByGsi1()


class StepItem(_MetadataModel):
    """pk=FLOW#<owner>#<flow_id>, sk=STEP#<name>; `position` orders the steps."""

    class Meta(_MetadataModel.Meta):
        pass

    name = UnicodeAttribute()
    position = NumberAttribute()
    previous_step = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    progress = NumberAttribute(default=0)
    message = UnicodeAttribute(default="")
    page_version = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    updated_at = UTCDateTimeAttribute(default_for_new=utcnow)


class StepOrderItem(_MetadataModel):
    """pk=FLOW#<owner>#<flow_id>, sk=POS#<position, 5 digits>: the flow's steps in order, to page through."""

    class Meta(_MetadataModel.Meta):
        pass

    name = UnicodeAttribute()


class UploadItem(_MetadataModel):
    """pk=UPLOAD#<id>, sk=UPLOAD: an upload handed out but not yet committed; expires by TTL."""

    class Meta(_MetadataModel.Meta):
        pass

    owner = UnicodeAttribute()
    flow_id = UnicodeAttribute()
    step_name = UnicodeAttribute()
    name = UnicodeAttribute()
    position = NumberAttribute()
    key = UnicodeAttribute()
    kind = UnicodeAttribute()
    data_format = UnicodeAttribute()
    size = NumberAttribute(null=True)
    etag = UnicodeAttribute(null=True)
    part_count = NumberAttribute()
    multipart_id = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()


class OutputItem(Model):
    """Links table. pk=FLOW#<owner>#<flow_id>, sk=OUT#<name>#<producer position, 5 digits>."""

    class Meta:
        table_name = "links"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    producer_step = UnicodeAttribute()
    position = NumberAttribute()
    kind = UnicodeAttribute()
    data_format = UnicodeAttribute()
    size = NumberAttribute()
    etag = UnicodeAttribute()
    key = UnicodeAttribute(null=True)
    inline = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)


# Item shapes register here (other dal modules too, with the decorator below) so that
# bind_tables() points every one of them at this deployment's tables.
METADATA_MODELS: list[type[Model]] = [UserItem, TokenItem, FlowItem, StepItem, StepOrderItem, UploadItem]
LINKS_MODELS: list[type[Model]] = [OutputItem]


def on_metadata_table(model: type[Model]) -> type[Model]:
    """Class decorator: an item shape stored in the metadata table."""
    METADATA_MODELS.append(model)
    _bind(model, get_settings().metadata_table if os.environ.get("METADATA_TABLE") else None)
    return model


def _bind(model: type[Model], table_name: str | None) -> None:
    if table_name:
        model.Meta.table_name = table_name
        model.Meta.region = get_settings().region
    model._connection = None


def bind_tables() -> None:
    """Point every model at this deployment's tables and drop cached connections.

    Called at import and again by the local stack when it starts a new moto server.
    """
    settings = get_settings()
    for model in (_MetadataModel, *METADATA_MODELS):
        _bind(model, settings.metadata_table)
    for model in LINKS_MODELS:
        _bind(model, settings.links_table)
    _transaction_connection.clear()


_transaction_connection: list[Connection] = []


M = TypeVar("M", bound=Model)


def read_together(
    wanted: Sequence[tuple[type[M], str, str]], attributes: Sequence[str] = ()
) -> list[M | None]:
    """Items of the metadata table by (item class, pk, sk), in one consistent BatchGetItem.

    Each comes back as its own class (only `attributes` besides its keys, when given), None where
    absent. Access checks read an item and the caller's share of it at once, asking only for the
    few attributes that decide: a refused lookup then does the same work, and moves next to the
    same bytes, whether the item exists or not, so its timing tells nothing.
    """
    if not wanted:
        return []
    connection = wanted[0][0]._get_connection()
    keys: list[Any] = [{"pk": pk, "sk": sk} for _, pk, sk in dict.fromkeys(wanted)]
    projection = list(dict.fromkeys(["pk", "sk", *attributes])) if attributes else None
    raw: dict[tuple[str, str], dict[str, Any]] = {}
    for attempt in range(8):
        response = connection.batch_get_item(keys, consistent_read=True, attributes_to_get=projection)
        for item in response.get("Responses", {}).get(connection.table_name, []):
            raw[(item["pk"]["S"], item["sk"]["S"])] = item
        keys = response.get("UnprocessedKeys", {}).get(connection.table_name, {}).get("Keys", [])
        if not keys:
            break
        time.sleep(0.01 * 2**attempt)  # throttled: DynamoDB asks for the rest again
    else:
        raise RuntimeError("DynamoDB left keys unprocessed after 8 attempts")
    return [cls.from_raw_data(raw[(pk, sk)]) if (pk, sk) in raw else None for cls, pk, sk in wanted]


def transaction() -> TransactWrite:
    """A DynamoDB transaction over this deployment's tables (all items commit, or none)."""
    if not _transaction_connection:
        _transaction_connection.append(Connection(region=get_settings().region))
    return TransactWrite(connection=_transaction_connection[0])


# Why a transaction may be cancelled by another writer; anything else is the request's own fault.
_CONTENTION = frozenset({"ConditionalCheckFailed", "TransactionConflict", "None"})


def is_condition_failure(error: Exception) -> bool:
    """True when a conditional write failed its condition (the item was not as required)."""
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def lost_a_race(error: TransactWriteError) -> bool:
    """True when a transaction was cancelled by a concurrent writer (worth reading again and
    retrying); False for a request that can never succeed as made (too large, invalid)."""
    reasons = getattr(error, "cancellation_reasons", None) or []
    codes = {getattr(reason, "code", None) or "None" for reason in reasons if reason is not None}
    return bool(codes) and codes <= _CONTENTION


def flow_pk(owner: str, flow_id: str) -> str:
    return f"FLOW#{owner}#{flow_id}"


# Lambda always has the table names in its environment; importing without them (to generate the
# OpenAPI document, say) leaves the models unbound until the local stack calls bind_tables().
if os.environ.get("METADATA_TABLE"):
    bind_tables()
