"""The connection store over HTTP: who sees what, credentials only where they belong, cache and CLI."""

from __future__ import annotations

import json
import uuid
from functools import cache

import pytest
import requests

from stepstore import ConflictError, InvalidInputError, NotFoundError, StoreInterface
from stepstore.cli import main as cli
from stepstore.client import ApiClient
from stepstore.connections import ConnectionStore, ConnectionType, DatabaseError


@cache
def pg_user() -> str:
    """The machine's PostgreSQL takes user postgres or root with trust auth."""
    import pg8000

    for user in ("postgres", "root"):
        try:
            pg8000.connect(user=user, host="127.0.0.1", database="test").close()
            return user
        except Exception:
            continue
    raise RuntimeError("PostgreSQL at 127.0.0.1:5432 accepts neither user postgres nor root")


def pg_credentials(password: str) -> dict:
    return {"host": "127.0.0.1", "port": 5432, "user": pg_user(), "database": "test", "password": password}


def api_for(stack, caller) -> ApiClient:
    return ApiClient(stack.api_url, caller.token)


def raw_get(stack, caller, path: str, **params) -> requests.Response:
    return requests.get(
        stack.api_url + path, params=params, headers={"Authorization": f"Bearer {caller.token}"}, timeout=30
    )


@pytest.fixture
def trio(make_user):
    owner = make_user("owner", use=False)
    grantee = make_user("grantee", use=False)
    stranger = make_user("stranger", use=False)
    return owner, grantee, stranger


def test_owner_grantee_stranger_matrix(stack, trio, make_user, flow_id, caplog, capsys):
    caplog.set_level("DEBUG")
    owner, grantee, stranger = trio
    secret = "pw-" + uuid.uuid4().hex
    name = "warehouse"
    owned = ConnectionStore(api_for(stack, owner))
    created = owned.create(name, "postgresql", pg_credentials(secret), description="the warehouse")
    assert created.owner == owner.name and created.shared_with == ()
    assert "password" in created.credential_fields

    # Before sharing: the grantee and the stranger are both told it is not found.
    for caller in (grantee, stranger):
        store = ConnectionStore(api_for(stack, caller))
        with pytest.raises(NotFoundError):
            store.get(name, owner=owner.name)
        with pytest.raises(NotFoundError):
            store.credentials(name, owner=owner.name)

    shared = owned.share(name, grantee.name)
    assert shared.shared_with == (grantee.name,)

    # The grantee sees it (without the share list), reads credentials and runs SQL through it.
    as_grantee = ConnectionStore(api_for(stack, grantee))
    seen = as_grantee.get(name, owner=owner.name)
    assert seen.owner == owner.name and seen.shared_with is None
    assert [(c.owner, c.name) for c in as_grantee.list()] == [(owner.name, name)]
    assert as_grantee.credentials(name, owner=owner.name).credentials["password"] == secret
    make_user.act_as(grantee)
    step = StoreInterface(flow_id, step_name="read")
    assert step.db_to_pandas("SELECT 41 + 1 AS answer", name, connection_owner=owner.name)[
        "answer"
    ].tolist() == [42]

    # The grantee cannot change, delete or reshare it: in the grantee's namespace it does not exist.
    with pytest.raises(NotFoundError):
        as_grantee.update(name, description="mine now")
    with pytest.raises(NotFoundError):
        as_grantee.delete(name)
    with pytest.raises(NotFoundError):
        as_grantee.share(name, stranger.name)

    # The stranger is refused with exactly the words a connection that does not exist gets.
    as_stranger = ConnectionStore(api_for(stack, stranger))
    with pytest.raises(NotFoundError) as hidden:
        as_stranger.credentials(name, owner=owner.name)
    with pytest.raises(NotFoundError) as missing:
        as_stranger.credentials("no-such-connection", owner=owner.name)
    assert str(hidden.value).replace(name, "X") == str(missing.value).replace("no-such-connection", "X")
    assert as_stranger.list() == []
    by_id_hidden = raw_get(stack, stranger, f"/connection-ids/{created.connection_id}/credentials")
    by_id_missing = raw_get(stack, stranger, f"/connection-ids/{uuid.uuid4().hex}/credentials")
    assert by_id_hidden.status_code == by_id_missing.status_code == 404
    make_user.act_as(stranger)
    with pytest.raises(NotFoundError):
        StoreInterface(flow_id, step_name="steal").db_to_pandas("SELECT 1", name, connection_owner=owner.name)

    # Unsharing ends the grantee's access (and drops what this process cached for it).
    owned.unshare(name, grantee.name)
    with pytest.raises(NotFoundError):
        as_grantee.credentials(name, owner=owner.name)
    assert as_grantee.list() == []

    captured = capsys.readouterr()
    assert secret not in caplog.text + captured.out + captured.err


def test_list_and_show_never_carry_credential_values(stack, trio):
    owner, grantee, _ = trio
    secret = "pw-" + uuid.uuid4().hex
    owned = ConnectionStore(api_for(stack, owner))
    owned.create("db1", "postgresql", pg_credentials(secret))
    owned.share("db1", grantee.name)
    for caller, path, params in (
        (owner, "/connections", {}),
        (owner, "/connections/db1", {}),
        (grantee, "/connections", {}),
        (grantee, "/connections/db1", {"owner": owner.name}),
    ):
        response = raw_get(stack, caller, path, **params)
        assert response.status_code == 200
        assert secret not in response.text
        assert "127.0.0.1" not in response.text  # not even the host: only field names are listed
    body = raw_get(stack, owner, "/connections/db1/credentials").json()
    assert body["credentials"]["password"] == secret


def test_update_replaces_credentials_and_invalidates_the_cache(stack, alice, flow_id):
    store = StoreInterface(flow_id, step_name="s")
    name = f"maria-{uuid.uuid4().hex[:6]}"
    wrong = {"host": "127.0.0.1", "port": 3306, "user": "root", "database": "test", "password": "wrong-pw"}
    store.connections.create(name, "mariadb", wrong)
    with pytest.raises(DatabaseError):
        store.db_to_pandas("SELECT 1 AS one", name)  # the wrong credentials are now cached
    updated = store.connections.update(name, credentials={**wrong, "password": ""})
    assert updated.version == 2
    assert store.db_to_pandas("SELECT 1 AS one", name)["one"].tolist() == [1]
    assert store.connections.credentials(name).version == 2


def test_create_conflict_delete_and_recreate(stack, alice):
    store = ConnectionStore()
    store.create("twice", "s3", {"aws_access_key_id": "a", "aws_secret_access_key": "b"})
    with pytest.raises(ConflictError):
        store.create("twice", "s3", {})
    store.delete("twice")
    with pytest.raises(NotFoundError):
        store.get("twice")
    with pytest.raises(NotFoundError):
        store.credentials("twice")
    again = store.create("twice", "s3", {"aws_access_key_id": "c", "aws_secret_access_key": "d"})
    assert again.version == 1
    assert store.credentials("twice").credentials["aws_access_key_id"] == "c"


def test_lookup_by_id_and_by_owner_slash_name(stack, trio):
    owner, grantee, _ = trio
    owned = ConnectionStore(api_for(stack, owner))
    created = owned.create("by-id", "s3", {"aws_access_key_id": "k", "aws_secret_access_key": "s"})
    owned.share("by-id", grantee.name)
    as_grantee = ConnectionStore(api_for(stack, grantee))
    assert as_grantee.get_by_id(created.connection_id).name == "by-id"
    assert as_grantee.resolve(created.connection_id).credentials["aws_access_key_id"] == "k"
    assert as_grantee.resolve(f"{owner.name}/by-id").connection_id == created.connection_id


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "bad name with spaces", "type": "postgresql", "credentials": {"host": "h"}}, "name"),
        ({"name": "nohost", "type": "postgresql", "credentials": {"user": "u"}}, "credentials"),
        ({"name": "badtype", "type": "oracle", "credentials": {}}, "type"),
    ],
)
def test_bad_connections_are_refused_naming_the_field(stack, alice, body, field):
    with pytest.raises(InvalidInputError) as raised:
        ApiClient.from_environment().post("/connections", body)
    assert raised.value.field == field


def test_sharing_with_oneself_is_refused_and_unknown_names_are_not_told_apart(stack, alice):
    store = ConnectionStore()
    store.create("mine", "other", {"token": "t"})
    # Answering "no such user" would let anyone list the users: a share names a user name.
    assert "nobody-here" in store.share("mine", "nobody-here").shared_with
    with pytest.raises(InvalidInputError):
        store.share("mine", alice.name)


def test_str_2_connection_type_on_the_store_interface():
    from stepstore import StoreInterface as SI

    assert SI.str_2_connection_type(["postgresql", "MariaDB", "s3"]) == [
        ConnectionType.postgresql,
        ConnectionType.mariadb,
        ConnectionType.s3,
    ]
    with pytest.raises(ValueError, match="postgresql") as raised:
        SI.str_2_connection_type(["postgresql", "oracle"])
    assert "oracle" in str(raised.value) and "snowflake" in str(raised.value)


def test_cli_add_ls_show_share_unshare_test_rm(stack, make_user, capsys, monkeypatch, tmp_path):
    other = make_user("bob", use=False)
    me = make_user("cli")
    secret = "pw-" + uuid.uuid4().hex
    creds = tmp_path / "creds.json"
    creds.write_text(json.dumps({"password": secret}))
    assert (
        cli(
            [
                "connections", "add", "pg", "--type", "postgresql", "--json", str(creds),
                "--set", "host=127.0.0.1", "--set", "port=5432", "--set", f"user={pg_user()}",
                "--set", "database=test",
            ]
        )
        == 0
    )  # fmt: skip
    assert cli(["connections", "ls"]) == 0
    assert cli(["connections", "show", "pg"]) == 0
    assert cli(["connections", "share", "pg", other.name]) == 0
    assert cli(["connections", "test", "pg"]) == 0
    out = capsys.readouterr().out
    assert f"{me.name}/pg\tpostgresql" in out
    assert "credential fields: database, host, password, port, user" in out
    assert f"shared with: {other.name}" in out
    assert "connected to postgresql" in out
    assert secret not in out

    assert cli(["connections", "unshare", "pg", other.name]) == 0
    assert cli(["connections", "add", "pg", "--update", "--set", "host=127.0.0.1", "--set", "port=1"]) == 0
    assert cli(["connections", "test", "pg"]) == 1
    err = capsys.readouterr().err
    assert f"{me.name}/pg" in err and "failed" in err
    assert cli(["connections", "rm", "pg"]) == 0
    assert cli(["connections", "show", "pg"]) == 1
    assert "not found" in capsys.readouterr().err


def test_a_refused_create_echoes_no_secret_in_its_answer_or_the_logs(stack, alice, caplog, capsys):
    caplog.set_level("DEBUG")
    secret = "pw-" + uuid.uuid4().hex
    bodies = [
        {"name": "bad", "type": "postgresql", "credentials": {"host": "h", "password": {"nested": secret}}},
        {"name": "bad name", "type": "postgresql", "credentials": {"host": "h", "password": secret}},
        {"name": "bad", "type": "mysql", "credentials": {"user": "u", "password": secret}},
    ]
    for body in bodies:
        response = requests.post(
            f"{stack.api_url}/connections",
            json=body,
            headers={"Authorization": f"Bearer {alice.token}"},
            timeout=30,
        )
        assert response.status_code == 422
        assert secret not in response.text
    captured = capsys.readouterr()
    assert secret not in caplog.text + captured.out + captured.err


def test_deleting_a_shared_connection_ends_its_shares_and_a_new_one_of_that_name_inherits_none(stack, trio):
    owner, grantee, _ = trio
    owned = ConnectionStore(api_for(stack, owner))
    owned.create("temp", "other", {"token": "old"})
    owned.share("temp", grantee.name)
    as_grantee = ConnectionStore(api_for(stack, grantee))
    assert as_grantee.credentials("temp", owner=owner.name).credentials["token"] == "old"
    owned.delete("temp")
    owned.create("temp", "other", {"token": "new"})
    assert owned.get("temp").shared_with == ()
    assert as_grantee.list() == []
    with pytest.raises(NotFoundError):
        as_grantee.credentials("temp", owner=owner.name)


def test_a_share_left_over_from_a_deleted_connection_opens_nothing(stack, trio):
    """As if a delete died after removing the record but before removing its shares."""
    from stepstore_functions.dal import connections as connection_store

    owner, grantee, _ = trio
    owned = ConnectionStore(api_for(stack, owner))
    owned.create("reused", "other", {"token": "old"})
    owned.share("reused", grantee.name)
    first = connection_store.get(owner.name, "reused")
    connection_store.ConnectionItem(
        pk=connection_store.connection_pk(owner.name, "reused"), sk="CONN"
    ).delete()
    assert first is not None and connection_store.shares(first) == (grantee.name,)  # the share survived

    owned.create("reused", "other", {"token": "new"})
    as_grantee = ConnectionStore(api_for(stack, grantee))
    assert owned.get("reused").shared_with == ()
    assert as_grantee.list() == []
    with pytest.raises(NotFoundError):
        as_grantee.credentials("reused", owner=owner.name)
