"""Who a token may act for, and the local gateway's reading of an authorizer policy."""

from __future__ import annotations

import pytest

from stepstore.local.gateway import _allows
from stepstore_functions.logic.users import authenticate, hash_token, new_token, resolve_actor
from stepstore_functions.models.domain import Role
from stepstore_functions.models.errors import ForbiddenError, InvalidInputError


def test_a_token_acts_as_its_own_user():
    actor = resolve_actor("alice", Role.USER, None)
    assert (actor.principal, actor.user) == ("alice", "alice")
    assert resolve_actor("alice", Role.USER, "alice").user == "alice"


def test_a_user_token_may_not_act_for_another_user():
    with pytest.raises(ForbiddenError, match="'alice' may not act for user 'bob'"):
        resolve_actor("alice", Role.USER, "bob")


def test_an_invalid_user_name_is_named():
    with pytest.raises(InvalidInputError) as caught:
        resolve_actor("svc", Role.SERVICE, "bad#name")
    assert caught.value.field == "user"


def test_tokens_are_random_and_hashed():
    first, second = new_token(), new_token()
    assert first != second and first.startswith("sst_") and len(first) > 40
    assert hash_token(first) != first and len(hash_token(first)) == 64
    assert hash_token(first) == hash_token(first)


@pytest.mark.parametrize("token", ["", "Bearer", "not-a-stepstore-token", "sst_" + "x" * 300])
def test_malformed_tokens_are_rejected_without_a_lookup(token):
    assert authenticate(token) is None


ARN = "arn:aws:execute-api:us-east-1:000000000000:local/local/GET/flows/f1"


def policy(effect: str, resource: str) -> dict:
    return {"policyDocument": {"Statement": [{"Effect": effect, "Resource": [resource]}]}}


def test_allow_all_routes_policy_allows_any_route():
    assert _allows(policy("Allow", "arn:aws:execute-api:us-east-1:000000000000:local/local/*/*"), ARN)


def test_a_policy_for_another_route_or_a_deny_does_not_allow():
    assert not _allows(
        policy("Allow", "arn:aws:execute-api:us-east-1:000000000000:local/local/GET/users"), ARN
    )
    assert not _allows(policy("Deny", "arn:aws:execute-api:us-east-1:000000000000:local/local/*/*"), ARN)
    assert not _allows({}, ARN)
