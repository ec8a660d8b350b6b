"""Tokens and users: revoke, expire, remove; secrets never cached; the CLI warns about secrets in argv."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import requests

from stepstore import StoreInterface
from stepstore.cli import main as cli_main
from stepstore.client import ApiClient
from stepstore.errors import (
    AuthenticationError,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
)


def me(stack, token: str) -> requests.Response:
    return requests.get(f"{stack.api_url}/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_a_user_issues_lists_and_revokes_its_own_tokens(stack, make_user):
    bob = make_user("bob")
    api = ApiClient(stack.api_url, bob.token)
    assert me(stack, bob.token).status_code == 200  # the gateway now holds bob's authorizer answer
    [first] = api.get(f"/users/{bob.name}/tokens")["tokens"]
    assert set(first) == {"token_id", "user", "role", "created_at", "expires_at"}  # never the token
    assert first["token_id"] == hashlib.sha256(bob.token.encode()).hexdigest()[:16]
    second = api.post(f"/users/{bob.name}/tokens", {"expires_in_days": 30})
    expires = datetime.fromisoformat(second["expires_at"])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)
    assert me(stack, second["token"]).json()["user"] == bob.name

    api.delete(f"/users/{bob.name}/tokens/{first['token_id']}")
    # refused at once on the local stack (the gateway forgets its cached answers on a revocation)
    assert me(stack, bob.token).status_code == 401
    assert me(stack, second["token"]).status_code == 200
    with pytest.raises(NotFoundError):
        ApiClient(stack.api_url, second["token"]).delete(f"/users/{bob.name}/tokens/{first['token_id']}")
    listed = ApiClient(stack.api_url, second["token"]).get(f"/users/{bob.name}/tokens")["tokens"]
    assert [t["token_id"] for t in listed] == [second["token_id"]]


def test_users_cannot_touch_each_others_tokens_and_only_admins_list_or_remove(stack, make_user):
    bob = make_user("bob", use=False)
    carol = make_user("carol", use=False)
    as_carol = ApiClient(stack.api_url, carol.token)
    for call in (
        lambda: as_carol.get(f"/users/{bob.name}/tokens"),
        lambda: as_carol.post(f"/users/{bob.name}/tokens", {}),
        lambda: as_carol.delete(f"/users/{bob.name}/tokens/0123456789abcdef"),
        lambda: as_carol.get("/users"),
        lambda: as_carol.delete(f"/users/{bob.name}"),
    ):
        with pytest.raises(ForbiddenError):
            call()
    assert me(stack, bob.token).status_code == 200


def test_an_admin_removes_a_user_whose_name_is_then_never_reused(stack, make_user):
    bob = make_user("bob")
    flow = StoreInterface("kept-flow", step_name="s")
    flow.save_output({"x": 1}, "o")
    admin = ApiClient(stack.api_url, stack.admin_token)
    names = [u["name"] for u in admin.get_all("/users", "users", limit=2)]
    assert bob.name in names and len(names) == len(set(names))
    assert me(stack, bob.token).status_code == 200
    removed = admin.delete(f"/users/{bob.name}")
    assert removed == {"name": bob.name, "tokens_revoked": 1}
    assert me(stack, bob.token).status_code == 401
    assert bob.name not in [u["name"] for u in admin.get_all("/users", "users", limit=1000)]
    with pytest.raises(ConflictError, match="names are not reused"):
        admin.post("/users", {"name": bob.name})
    with pytest.raises(NotFoundError):
        admin.delete(f"/users/{bob.name}")
    with pytest.raises(InvalidInputError, match="may not remove itself"):
        admin.delete("/users/admin")
    # nothing can be done in a removed user's name
    with pytest.raises(NotFoundError):
        ApiClient(stack.api_url, stack.admin_token, user=bob.name).get("/flows")


def test_an_expired_token_is_refused(stack, make_user):
    from stepstore_functions.dal.tables import TokenItem

    carol = make_user("carol", use=False)
    admin = ApiClient(stack.api_url, stack.admin_token)
    fresh = admin.post(f"/users/{carol.name}/tokens", {"expires_in_days": 0.5})
    assert datetime.fromisoformat(fresh["expires_at"]) > datetime.now(UTC)
    # The clock cannot be moved in a test: the token's stored expiry is moved instead.
    item = TokenItem.get(f"TOKEN#{hashlib.sha256(fresh['token'].encode()).hexdigest()}", "TOKEN")
    item.update(actions=[TokenItem.expires_at.set(datetime.now(UTC) - timedelta(seconds=1))])
    assert me(stack, fresh["token"]).status_code == 401
    assert me(stack, carol.token).status_code == 200
    with pytest.raises(InvalidInputError) as refused:
        admin.post(f"/users/{carol.name}/tokens", {"expires_in_days": 0})
    assert refused.value.field == "expires_in_days"
    with pytest.raises(AuthenticationError):
        ApiClient(stack.api_url, fresh["token"]).get("/me")


def test_answers_that_carry_secrets_are_never_cached(stack, make_user):
    bob = make_user("bob")
    StoreInterface("f", step_name="s").connections.create("db", "postgresql", {"host": "h", "password": "pw"})
    headers = {"Authorization": f"Bearer {bob.token}"}
    for path in ("/connections/db/credentials",):
        response = requests.get(stack.api_url + path, headers=headers, timeout=30)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    connection_id = requests.get(f"{stack.api_url}/connections/db", headers=headers, timeout=30).json()
    by_id = requests.get(
        f"{stack.api_url}/connection-ids/{connection_id['connection_id']}/credentials",
        headers=headers,
        timeout=30,
    )
    assert by_id.headers["Cache-Control"] == "no-store"
    issued = requests.post(f"{stack.api_url}/users/{bob.name}/tokens", json={}, headers=headers, timeout=30)
    assert issued.status_code == 200 and issued.headers["Cache-Control"] == "no-store"
    created = requests.post(
        f"{stack.api_url}/users",
        json={"name": f"new-{bob.name}"},
        headers={"Authorization": f"Bearer {stack.admin_token}"},
        timeout=30,
    )
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"


def test_the_users_cli(stack, make_user, monkeypatch, capsys):
    monkeypatch.setenv("STEPSTORE_API_URL", stack.api_url)
    monkeypatch.setenv("STEPSTORE_TOKEN", stack.admin_token)
    name = f"cli-{datetime.now(UTC).strftime('%H%M%S%f')}"
    assert cli_main(["users", "create", name, "--expires-in-days", "7"]) == 0
    out = capsys.readouterr()
    token = out.out.strip()
    assert token.startswith("sst_") and "expires at" in out.err
    assert cli_main(["users", "ls"]) == 0
    assert any(line.split("\t")[0] == name for line in capsys.readouterr().out.splitlines())
    assert cli_main(["users", "token", name]) == 0
    second = capsys.readouterr().out.strip()
    assert cli_main(["users", "tokens", name]) == 0
    listed = capsys.readouterr().out
    token_ids = [line.split("\t")[0] for line in listed.splitlines()]
    assert len(token_ids) == 2 and "expires never" in listed
    assert cli_main(["users", "revoke", name, hashlib.sha256(token.encode()).hexdigest()[:16]]) == 0
    assert "authorizer cache TTL" in capsys.readouterr().err
    assert me(stack, token).status_code == 401 and me(stack, second).status_code == 200
    assert cli_main(["users", "revoke", name]) == 1  # neither ids nor --all
    capsys.readouterr()
    assert cli_main(["users", "rm", name]) == 0
    assert f"removed {name}; 1 token(s) revoked" in capsys.readouterr().out
    assert me(stack, second).status_code == 401


def test_the_cli_warns_when_a_secret_is_given_on_the_command_line(stack, alice, capsys, tmp_path):
    assert (
        cli_main(
            ["connections", "add", "wh", "--type", "postgresql", "--set", "host=db", "--set", "password=pw"]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "--set password=... puts a secret on the command line" in err and "`ps`" in err
    assert "pw" not in err
    creds = tmp_path / "creds.json"
    creds.write_text('{"host": "db", "password": "pw"}')
    assert cli_main(["connections", "add", "wh2", "--type", "postgresql", "--json", str(creds)]) == 0
    assert "warning" not in capsys.readouterr().err
