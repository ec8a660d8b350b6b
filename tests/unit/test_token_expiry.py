"""A token's expiry holds exactly, even while the authorizer's answer for it is still cached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stepstore_functions.logic import users
from stepstore_functions.models.errors import InvalidInputError, UnauthorizedError

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_api_refuses_a_cached_answer_for_a_token_that_expired_since():
    expires = NOW + timedelta(hours=1)
    users.check_not_expired(str(expires.timestamp()), now=NOW)
    users.check_not_expired(None, now=NOW)  # a token without expiry
    with pytest.raises(UnauthorizedError, match="expired") as refused:
        users.check_not_expired(str(expires.timestamp()), now=expires)
    assert refused.value.status_code == 401


def test_authenticate_refuses_an_expired_token(monkeypatch):
    token = users.new_token()
    expiry = NOW + timedelta(days=1)
    monkeypatch.setattr(users.user_store, "find_token", lambda digest: ("bob", users.Role.USER, expiry))
    assert users.authenticate(token, now=NOW) == ("bob", users.Role.USER, expiry)
    assert users.authenticate(token, now=expiry) is None
    assert users.authenticate("not-a-token", now=NOW) is None


def test_expiry_is_bounded():
    assert users.token_expiry(None) is None
    assert users.token_expiry(2, now=NOW) == NOW + timedelta(days=2)
    for bad in (0, -1, users.MAX_TOKEN_DAYS + 1):
        with pytest.raises(InvalidInputError):
            users.token_expiry(bad, now=NOW)
