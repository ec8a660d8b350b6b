"""Which cancelled transactions are worth retrying: only those another writer cancelled."""

from __future__ import annotations

import pytest
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

from stepstore_functions.dal.tables import lost_a_race


def cancelled(*codes: str | None) -> TransactWriteError:
    reasons = [CancellationReason(code=c) if c else None for c in codes]
    cause = VerboseClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}},
        "TransactWriteItems",
        cancellation_reasons=reasons,
    )
    return TransactWriteError("transaction failed", cause=cause)


@pytest.mark.parametrize(
    "codes", [("ConditionalCheckFailed", None), (None, "TransactionConflict"), ("ConditionalCheckFailed",)]
)
def test_a_transaction_another_writer_cancelled_is_retried(codes):
    assert lost_a_race(cancelled(*codes))


@pytest.mark.parametrize(
    "codes", [("ValidationError",), ("ConditionalCheckFailed", "ItemCollectionSizeLimitExceeded")]
)
def test_a_transaction_that_cannot_succeed_is_not(codes):
    assert not lost_a_race(cancelled(*codes))


def test_an_error_without_reasons_is_not_contention():
    plain = VerboseClientError(
        {"Error": {"Code": "ValidationException", "Message": "too big"}}, "TransactWriteItems"
    )
    assert not lost_a_race(TransactWriteError("transaction failed", cause=plain))
