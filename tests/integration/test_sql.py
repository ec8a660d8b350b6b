"""db_to_pandas and pandas_to_db against the real PostgreSQL and MariaDB servers on this machine.

Every test writes its own uniquely named table and drops it afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
import pg8000
import pymysql
import pytest

from stepstore import ConflictError, StoreInterface
from stepstore.connections import DatabaseError

PG = {"host": "127.0.0.1", "port": 5432, "database": "test"}
MARIA = {"host": "127.0.0.1", "port": 3306, "user": "root", "database": "test"}


def _pg_user() -> str:
    for user in ("postgres", "root"):
        try:
            pg8000.connect(user=user, **PG).close()
            return user
        except Exception:
            continue
    raise RuntimeError("PostgreSQL at 127.0.0.1:5432 accepts neither user postgres nor root")


@dataclass
class Database:
    engine: str
    credentials: dict

    def run(self, sql: str) -> list:
        """Run SQL straight through the driver (not through StepStore), to check what is really there."""
        if self.engine == "postgresql":
            con = pg8000.connect(**{k: v for k, v in self.credentials.items() if k != "password"})
            try:
                rows = con.run(sql)
                con.commit()
                return [list(r) for r in rows or []]
            finally:
                con.close()
        con = pymysql.connect(**{k: v for k, v in self.credentials.items() if k != "password"})
        try:
            with con.cursor() as cursor:
                cursor.execute(sql)
                rows = cursor.fetchall()
            con.commit()
            return [list(r) for r in rows]
        finally:
            con.close()


@pytest.fixture(scope="module", params=["postgresql", "mariadb"])
def database(request) -> Database:
    if request.param == "postgresql":
        return Database("postgresql", {**PG, "user": _pg_user()})
    return Database("mariadb", dict(MARIA))


@pytest.fixture
def store(alice, flow_id) -> StoreInterface:
    return StoreInterface(flow_id, step_name="sql")


@pytest.fixture
def conn(store, database) -> str:
    """A connection of the database's type owned by the test's user."""
    name = f"{database.engine}-{uuid.uuid4().hex[:6]}"
    credentials = dict(database.credentials)
    if database.engine == "postgresql":
        credentials["password"] = "pg-secret-" + uuid.uuid4().hex  # trust auth ignores it; errors must too
    store.connections.create(name, database.engine, credentials)
    return name


@pytest.fixture
def table(database) -> Iterator[str]:
    name = f"ss_{uuid.uuid4().hex[:12]}"
    yield name
    database.run(f"DROP TABLE IF EXISTS {name}")


def typed_frame(first_id: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": pd.array([first_id, first_id + 1, first_id + 2], dtype="Int64"),
            "ratio": [0.25, None, -3.5],
            "label": pd.array(["naïve ✓", None, "c"], dtype="string"),
            "flag": pd.array([True, None, False], dtype="boolean"),
            "at": pd.to_datetime(
                ["2026-01-02 03:04:05.123456", None, "1969-07-20 20:17:40"], format="ISO8601"
            ),
            "at_zoned": pd.to_datetime(
                ["2026-01-02 03:04:05", None, "2040-06-01 12:00:00"], format="ISO8601"
            ).tz_localize("Europe/Paris"),
        }
    )


def expected_back(frame: pd.DataFrame, engine: str) -> pd.DataFrame:
    """What a round trip promises: the same values; zoned timestamps as the same instant in UTC
    (naive UTC on MariaDB, which has no zoned type)."""
    expected = frame.copy()
    expected["at_zoned"] = expected["at_zoned"].dt.tz_convert("UTC")
    if engine == "mariadb":
        expected["at_zoned"] = expected["at_zoned"].dt.tz_localize(None)
    return expected


def read_table(store: StoreInterface, table: str, conn: str) -> pd.DataFrame:
    return store.db_to_pandas(f"SELECT * FROM {table} ORDER BY id", conn).reset_index(drop=True)


def assert_round_trip(back: pd.DataFrame, frame: pd.DataFrame, engine: str) -> None:
    expected = expected_back(frame, engine).reset_index(drop=True)
    assert list(back.columns) == list(expected.columns)
    assert pd.api.types.is_integer_dtype(back["id"])
    assert pd.api.types.is_float_dtype(back["ratio"])
    assert pd.api.types.is_string_dtype(back["label"])
    assert pd.api.types.is_bool_dtype(back["flag"])
    assert pd.api.types.is_datetime64_dtype(back["at"]) and not isinstance(
        back["at"].dtype, pd.DatetimeTZDtype
    )
    zoned = isinstance(back["at_zoned"].dtype, pd.DatetimeTZDtype)
    assert zoned == (engine == "postgresql")
    for column in ("at", "at_zoned"):
        back[column] = back[column].astype(expected[column].dtype)
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    assert back.isna().sum().to_dict() == expected.isna().sum().to_dict()


def test_fail_mode_creates_a_new_table_and_types_survive(store, database, conn, table):
    frame = typed_frame()
    store.pandas_to_db(frame, table, conn)  # if_exists='fail' by default
    assert_round_trip(read_table(store, table, conn), frame, database.engine)


def test_fail_mode_on_an_existing_table_names_it_and_leaves_it_untouched(store, database, conn, table):
    store.pandas_to_db(typed_frame(), table, conn, if_exists="fail")
    with pytest.raises(ConflictError) as raised:
        store.pandas_to_db(typed_frame(first_id=100), table, conn, if_exists="fail")
    assert isinstance(raised.value, ValueError)
    assert table in str(raised.value)
    assert_round_trip(read_table(store, table, conn), typed_frame(), database.engine)


def test_replace_mode_replaces_the_rows_and_types_survive(store, database, conn, table):
    store.pandas_to_db(typed_frame(), table, conn)
    replacement = typed_frame(first_id=10)
    store.pandas_to_db(replacement, table, conn, if_exists="replace")
    assert_round_trip(read_table(store, table, conn), replacement, database.engine)


def test_append_mode_adds_rows_and_creates_a_missing_table(store, database, conn, table):
    store.pandas_to_db(typed_frame(), table, conn, if_exists="append")  # creates it
    store.pandas_to_db(typed_frame(first_id=3), table, conn, if_exists="append")
    both = pd.concat([typed_frame(), typed_frame(first_id=3)], ignore_index=True)
    assert_round_trip(read_table(store, table, conn), both, database.engine)


@pytest.mark.parametrize("bad", ["overwrite", "upsert", "", None, "FAIL"])
def test_if_exists_outside_fail_replace_append_is_a_value_error_and_writes_nothing(
    store, database, conn, table, bad
):
    with pytest.raises(ValueError, match="if_exists"):
        store.pandas_to_db(typed_frame(), table, conn, if_exists=bad)
    exists = database.run(f"SELECT COUNT(*) FROM information_schema.tables WHERE table_name = '{table}'")
    assert exists == [[0]]


def test_chunked_read_streams_frames_of_the_requested_size(store, database, conn, table):
    frame = pd.DataFrame({"id": pd.array(range(25), dtype="Int64"), "value": [i * 1.5 for i in range(25)]})
    store.pandas_to_db(frame, table, conn)
    chunks = store.db_to_pandas(f"SELECT * FROM {table} ORDER BY id", conn, chunksize=10)
    assert not isinstance(chunks, pd.DataFrame)
    frames = list(chunks)
    assert [len(f) for f in frames] == [10, 10, 5]
    joined = pd.concat(frames, ignore_index=True)
    pd.testing.assert_frame_equal(joined, frame, check_dtype=False)


# Row 1000 of each query fails on the server; only a reader that streams gets the first chunks first.
FAILS_AT_ROW_1000 = {
    "postgresql": "SELECT 1 / (i - 1000) AS x FROM generate_series(1, 5000) AS i",
    "mariadb": "SELECT IF(seq < 1000, seq, (SELECT 1 UNION SELECT 2)) AS x FROM seq_1_to_5000",
}


def test_chunked_read_streams_rows_from_the_server_as_they_are_read(store, database, conn):
    chunks = store.db_to_pandas(FAILS_AT_ROW_1000[database.engine], conn, chunksize=10)
    first = next(chunks)
    assert len(first) == 10  # delivered before the server reached the failing row
    with pytest.raises(DatabaseError) as raised:
        for _ in chunks:
            pass
    assert conn in str(raised.value)
    # The connection is usable again afterwards (the cursor and its transaction were closed).
    assert store.db_to_pandas("SELECT 7 AS seven", conn)["seven"].tolist() == [7]


def test_chunked_read_of_an_empty_result_yields_one_empty_frame_with_its_columns(
    store, database, conn, table
):
    store.pandas_to_db(typed_frame(), table, conn)
    frames = list(store.db_to_pandas(f"SELECT id, label FROM {table} WHERE id < 0", conn, chunksize=5))
    assert sum(len(f) for f in frames) == 0
    assert frames and list(frames[0].columns) == ["id", "label"]


def test_query_parameters_reach_the_driver(store, database, conn, table):
    store.pandas_to_db(typed_frame(), table, conn)
    back = store.db_to_pandas(f"SELECT id FROM {table} WHERE id >= %s ORDER BY id", conn, params=[1])
    assert back["id"].tolist() == [1, 2]


def test_schema_qualified_table_names_work(store, database, conn, table):
    schema = "public" if database.engine == "postgresql" else "test"
    store.pandas_to_db(typed_frame(), f"{schema}.{table}", conn)
    assert database.run(f"SELECT COUNT(*) FROM {table}") == [[3]]


def test_sql_error_carries_the_driver_message_and_connection_name_but_never_the_password(
    store, database, conn, capsys, caplog
):
    caplog.set_level("DEBUG")
    secret = store.connections.credentials(conn).credentials.get("password")
    with pytest.raises(DatabaseError) as raised:
        store.db_to_pandas("SELECT * FROM no_such_table_anywhere", conn)
    message = str(raised.value)
    assert conn in message
    assert "no_such_table_anywhere" in message
    assert ("does not exist" in message) or ("doesn't exist" in message)
    # The driver's exception is not chained into tracebacks (its arguments are not ours to vet).
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    if database.engine == "postgresql":
        assert secret and secret.startswith("pg-secret-")
        captured = capsys.readouterr()
        for text in (message, repr(raised.value), caplog.text, captured.out, captured.err):
            assert secret not in text


def test_wrong_password_is_the_drivers_refusal_without_the_password(store, make_user, capsys, caplog):
    # MariaDB's root has no password here, so any password is refused: the refusal must not echo it.
    caplog.set_level("DEBUG")
    secret = "maria-secret-" + uuid.uuid4().hex
    name = f"bad-{uuid.uuid4().hex[:6]}"
    store.connections.create(name, "mariadb", {**MARIA, "password": secret})
    with pytest.raises(DatabaseError) as raised:
        store.db_to_pandas("SELECT 1", name)
    message = str(raised.value)
    assert name in message and "Access denied" in message
    captured = capsys.readouterr()
    for text in (message, repr(raised.value), caplog.text, captured.out, captured.err):
        assert secret not in text
