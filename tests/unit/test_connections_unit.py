"""Connections without a stack: types, credential hygiene, drivers and extras, the cache, validation."""

from __future__ import annotations

import sys
import types

import pytest

from stepstore import connections as sdk
from stepstore.connections import (
    ConnectionStore,
    ConnectionType,
    Credentials,
    MissingDriverError,
    StoredConnection,
    str_2_connection_type,
)
from stepstore.errors import InvalidInputError


def stored(kind: str, **credentials) -> StoredConnection:
    return StoredConnection("0" * 32, "conn", "alice", ConnectionType(kind), 1, Credentials(credentials))


def test_connection_types_include_every_required_kind():
    for name in (
        "postgresql",
        "mysql",
        "mariadb",
        "mssql",
        "redshift",
        "snowflake",
        "databricks",
        "s3",
        "other",
    ):
        assert ConnectionType(name).value == name


def test_str_2_connection_type_converts_and_lists_valid_types_on_error():
    assert str_2_connection_type(["postgresql", " Snowflake ", "s3"]) == [
        ConnectionType.postgresql,
        ConnectionType.snowflake,
        ConnectionType.s3,
    ]
    with pytest.raises(ValueError) as raised:
        str_2_connection_type(["mysql", "oracle"])
    message = str(raised.value)
    assert "'oracle'" in message
    assert all(t.value in message for t in ConnectionType)


def test_credentials_repr_hides_secret_values_and_scrub_removes_them():
    creds = Credentials(
        {"host": "db.example", "password": "hunter22", "aws_secret_access_key": "abc/def", "token": "t0k"}
    )
    text = repr(creds)
    assert "db.example" in text
    for secret in ("hunter22", "abc/def", "t0k"):
        assert secret not in text
    assert creds.scrub("login hunter22 failed with abc/def") == "login *** failed with ***"
    assert "hunter22" not in repr(stored("postgresql", password="hunter22"))


def test_sql_server_without_pyodbc_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyodbc", None)
    with pytest.raises(MissingDriverError, match="pip install pyodbc"):
        sdk.read_sql(stored("mssql", host="h"), "SELECT 1", {})


def test_snowflake_batches_are_regrouped_to_the_requested_chunk_size():
    import pandas as pd

    batches = [pd.DataFrame({"x": range(n)}) for n in (3, 4, 5)]
    assert [len(f) for f in sdk._rechunk(iter(batches), 5)] == [5, 5, 2]
    assert list(sdk._rechunk(iter([]), 5)) == []


@pytest.mark.parametrize(
    ("kind", "module", "extra"),
    [("snowflake", "snowflake.connector", "snowflake"), ("databricks", "databricks.sql", "databricks")],
)
def test_missing_optional_connector_names_the_extra(monkeypatch, kind, module, extra):
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    with pytest.raises(MissingDriverError) as raised:
        sdk.read_sql(stored(kind, host="h", account="a"), "SELECT 1", {})
    assert isinstance(raised.value, ImportError)
    assert f"pip install 'stepstore[{extra}]'" in str(raised.value)


class _FakeArrow:
    def __init__(self, rows):
        self.rows = rows
        self.num_rows = len(rows)

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame({"x": self.rows})


class _FakeCursor:
    def __init__(self, log):
        self.log = log
        self.remaining = [1, 2, 3]

    def execute(self, query, params=None):
        self.log.append(("execute", query))

    def fetchall_arrow(self):
        return _FakeArrow(self.remaining)

    def fetchmany_arrow(self, size):
        batch, self.remaining = self.remaining[:size], self.remaining[size:]
        return _FakeArrow(batch)


def _fake_databricks(monkeypatch):
    log: list = []

    class Connection:
        def cursor(self):
            return _FakeCursor(log)

        def close(self):
            log.append(("close",))

    def connect(**kwargs):
        log.append(("connect", kwargs))
        return Connection()

    package = types.ModuleType("databricks")
    module = types.ModuleType("databricks.sql")
    module.connect = connect
    package.sql = module
    monkeypatch.setitem(sys.modules, "databricks", package)
    monkeypatch.setitem(sys.modules, "databricks.sql", module)
    return log


def test_databricks_http_path_in_kwargs_overrides_the_stored_one(monkeypatch):
    log = _fake_databricks(monkeypatch)
    conn = stored("databricks", server_hostname="dbc.example", http_path="/sql/stored", access_token="dapi")
    frame = sdk.read_sql(conn, "SELECT x", {"http_path": "/sql/override"})
    assert frame["x"].tolist() == [1, 2, 3]
    assert log[0][1] == {
        "server_hostname": "dbc.example",
        "http_path": "/sql/override",
        "access_token": "dapi",
    }
    sdk.read_sql(conn, "SELECT x", {})
    assert [e[1]["http_path"] for e in log if e[0] == "connect"] == ["/sql/override", "/sql/stored"]
    assert log.count(("close",)) == 2


def test_chunked_reads_keep_the_connection_open_until_exhausted(monkeypatch):
    log = _fake_databricks(monkeypatch)
    chunks = sdk.read_sql(stored("databricks", host="h", http_path="/p"), "SELECT x", {"chunksize": 2})
    assert ("close",) not in log
    assert [f["x"].tolist() for f in chunks] == [[1, 2], [3]]
    assert log[-1] == ("close",)


@pytest.mark.parametrize("chunksize", [0, -1, "10", True])
def test_bad_chunksize_is_refused(chunksize):
    with pytest.raises(InvalidInputError, match="chunksize"):
        sdk.read_sql(stored("postgresql", host="h"), "SELECT 1", {"chunksize": chunksize})


@pytest.mark.parametrize("if_exists", ["truncate", "", None])
def test_if_exists_is_checked_before_anything_connects(if_exists):
    import pandas as pd

    with pytest.raises(ValueError, match="fail, replace, append"):
        sdk.write_sql(
            stored("postgresql", host="no-such-host.invalid"), pd.DataFrame({"a": [1]}), "t", if_exists, {}
        )


def test_non_sql_connections_say_which_types_run_sql():
    with pytest.raises(InvalidInputError) as raised:
        sdk.read_sql(stored("s3"), "SELECT 1", {})
    assert "postgresql" in str(raised.value) and "'s3'" in str(raised.value)


def test_split_table():
    assert sdk.split_table("t", "public") == ("public", "t")
    assert sdk.split_table("sales.t", "public") == ("sales", "t")
    with pytest.raises(InvalidInputError):
        sdk.split_table(" ", "public")


class _CountingApi:
    api_url = "http://unit"
    user = None

    def __init__(self):
        self.identity = "http://unit|caller-digest|"
        self.calls: list[str] = []
        self.version = 1

    def get(self, path, **params):
        self.calls.append(path)
        return {
            "connection_id": "1" * 32,
            "name": "db",
            "owner": "alice",
            "type": "postgresql",
            "version": self.version,
            "credentials": {"host": "h", "password": f"pw{self.version}"},
        }

    def put(self, path, body=None):
        self.version += 1
        return {
            "connection_id": "1" * 32,
            "name": "db",
            "owner": "alice",
            "type": "postgresql",
            "description": "",
            "version": self.version,
            "credential_fields": ["host", "password"],
            "created_at": "2026-01-01T00:00:00+00:00",
            "updated_at": "2026-01-01T00:00:00+00:00",
        }


def test_credentials_are_cached_briefly_and_forgotten_on_update(monkeypatch):
    sdk.forget_credentials()
    api = _CountingApi()
    store = ConnectionStore(api)  # type: ignore[arg-type]
    now = [1000.0]
    monkeypatch.setattr(sdk.time, "monotonic", lambda: now[0])
    assert store.credentials("db").credentials["password"] == "pw1"
    assert store.credentials("db").credentials["password"] == "pw1"
    assert len(api.calls) == 1
    store.update("db", credentials={"host": "h", "password": "new"})
    assert store.credentials("db").credentials["password"] == "pw2"
    assert len(api.calls) == 2
    now[0] += sdk.CREDENTIALS_CACHE_SECONDS + 1
    store.credentials("db")
    assert len(api.calls) == 3


def test_sdk_fixture_prefix_check():
    from stepstore.fixtures import check_prefix, relative_key

    assert check_prefix("a/b/") == "a/b/"
    assert check_prefix(None) == ""
    for bad in ("..", "a/../b", "/abs", "C:\\x", "s3://bucket/x", "~/x"):
        with pytest.raises(ValueError, match="refused"):
            check_prefix(bad)
    assert relative_key("fixture/a.csv") == "a.csv" == relative_key("a.csv")
    with pytest.raises(ValueError):
        relative_key("fixture/")


def test_server_side_credentials_and_prefix_validation():
    from stepstore_functions.logic.connections import check_credentials
    from stepstore_functions.logic.fixtures import check_relative_path
    from stepstore_functions.models.connections import ConnectionKind, valid_connection_name
    from stepstore_functions.models.errors import InvalidInputError as DomainInvalid

    assert check_credentials(ConnectionKind.POSTGRESQL, {"host": "h", "password": "p"})
    with pytest.raises(DomainInvalid, match="'host'") as raised:
        check_credentials(ConnectionKind.MARIADB, {"user": "u", "password": "do-not-echo"})
    assert "do-not-echo" not in str(raised.value)
    with pytest.raises(DomainInvalid, match="server_hostname"):
        check_credentials(ConnectionKind.DATABRICKS, {"access_token": "x"})
    with pytest.raises(DomainInvalid, match="field name"):
        check_credentials(ConnectionKind.OTHER, {"bad key": "v"})
    for bad in ("a b", "a/b", "-lead", "x" * 129, "a#b"):
        with pytest.raises(DomainInvalid):
            valid_connection_name("name", bad)
    assert check_relative_path("prefix", "ok/sub/") == "ok/sub/"
    for bad in ("../x", "/x", "a\\b", "a\x00b"):
        with pytest.raises(DomainInvalid):
            check_relative_path("prefix", bad)


def test_secret_store_creates_updates_reads_and_deletes(stack):
    # Against the session's local stack (moto in server mode, as the operator): moto's in-process
    # mock_aws would reset the backends that stack shares with this process.
    import uuid

    import boto3

    from stepstore_functions.dal.secrets import SecretStore

    client = boto3.client("secretsmanager", region_name="us-east-1", endpoint_url=stack.aws_endpoint_url)
    prefix = f"stepstore/unit-{uuid.uuid4().hex[:8]}/connections/"
    secrets = SecretStore(prefix, client)
    assert secrets.secret_name("alice", "db") == f"{prefix}alice/db"
    assert secrets.get("alice", "db") is None
    secrets.put("alice", "db", {"password": "one"})
    secrets.put("alice", "db", {"password": "two"})
    assert secrets.get("alice", "db") == {"password": "two"}
    secrets.delete("alice", "db")
    secrets.delete("alice", "db")  # already gone is fine
    assert secrets.get("alice", "db") is None
    secrets.put("alice", "db", {"password": "three"})
    assert secrets.get("alice", "db") == {"password": "three"}
