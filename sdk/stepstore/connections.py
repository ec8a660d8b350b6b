"""Connections: named credentials for data stores, kept by StepStore, and the SQL and S3 clients built
from them.

Credentials live in the deployment's Secrets Manager; the API hands them only to a connection's owner
and the users it is shared with. This module keeps them in memory for `CREDENTIALS_CACHE_SECONDS`
(so a loop of queries does not ask the API each time) and forgets them when they change through it.
Nothing here logs a credential or puts one in an error message.

Drivers are imported when first used: ``pip install 'stepstore[db]'`` for PostgreSQL, Redshift and
MySQL/MariaDB, ``'stepstore[snowflake]'`` and ``'stepstore[databricks]'`` for those, and pyodbc with
Microsoft's ODBC driver for SQL Server.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from stepstore.client import PAGE, ApiClient, segment
from stepstore.errors import InvalidInputError, StepStoreError

if TYPE_CHECKING:
    import pandas as pd

CREDENTIALS_CACHE_SECONDS = 60.0


class ConnectionType(StrEnum):
    """What a connection connects to."""

    postgresql = "postgresql"
    mysql = "mysql"
    mariadb = "mariadb"
    mssql = "mssql"
    mssql_pyodbc = "mssql_pyodbc"
    mssql_pymysql = "mssql_pymysql"
    redshift = "redshift"
    snowflake = "snowflake"
    databricks = "databricks"
    spark = "spark"
    s3 = "s3"
    api = "api"
    other = "other"

    @classmethod
    def parse(cls, value: str | ConnectionType) -> ConnectionType:
        """The member named `value` (any case); anything else is a ValueError listing the valid ones."""
        if isinstance(value, ConnectionType):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            valid = ", ".join(member.value for member in cls)
            raise InvalidInputError(
                f"unknown connection type {value!r}; valid types: {valid}", field="type"
            ) from None


def str_2_connection_type(list_connection_type: list[str]) -> list[ConnectionType]:
    """Strings to ConnectionType members; an unknown string is a ValueError listing the valid ones."""
    if isinstance(list_connection_type, str):
        list_connection_type = [list_connection_type]
    return [ConnectionType.parse(value) for value in list_connection_type]


class MissingDriverError(StepStoreError, ImportError):
    """The connection needs a driver that is not installed; the message says what to install."""


class DatabaseError(StepStoreError):
    """The database (or its driver) refused: the driver's message, with the connection's name.

    Never carries a password: the message is the driver's, scrubbed of every stored secret.
    """


# Credential fields whose values are secret; every other field (host, port, user, ...) is not.
_SECRET_WORDS = ("password", "passwd", "pwd", "secret", "token", "key", "private")


def is_secret_field(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


class Credentials(Mapping[str, Any]):
    """A connection's stored credentials: a read-only mapping whose repr never shows a secret value."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        shown = {k: ("***" if is_secret_field(k) else v) for k, v in self._values.items()}
        return f"Credentials({shown})"

    def first(self, *names: str, default: Any = None) -> Any:
        """The value of the first of `names` that is set (drivers disagree on 'user' vs 'username')."""
        for name in names:
            value = self._values.get(name)
            if value not in (None, ""):
                return value
        return default

    def scrub(self, text: str) -> str:
        """`text` with every secret value replaced by ***."""
        for name, value in self._values.items():
            if isinstance(value, str) and len(value) >= 3 and is_secret_field(name):
                text = text.replace(value, "***")
        return text


@dataclass(frozen=True)
class ConnectionInfo:
    """A connection as listed or shown: everything but its credentials."""

    connection_id: str
    name: str
    owner: str
    type: ConnectionType
    description: str
    version: int
    credential_fields: tuple[str, ...]
    shared_with: tuple[str, ...] | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> ConnectionInfo:
        shared = body.get("shared_with")
        return cls(
            connection_id=body["connection_id"],
            name=body["name"],
            owner=body["owner"],
            type=ConnectionType.parse(body["type"]),
            description=body.get("description") or "",
            version=int(body["version"]),
            credential_fields=tuple(body.get("credential_fields") or ()),
            shared_with=tuple(shared) if shared is not None else None,
            created_at=datetime.fromisoformat(body["created_at"]),
            updated_at=datetime.fromisoformat(body["updated_at"]),
        )


@dataclass(frozen=True)
class StoredConnection:
    """A connection with its credentials, as its owner or a grantee receives them."""

    connection_id: str
    name: str
    owner: str
    type: ConnectionType
    version: int
    credentials: Credentials

    @property
    def label(self) -> str:
        """How errors name it: owner/name."""
        return f"{self.owner}/{self.name}"

    def __repr__(self) -> str:
        return f"StoredConnection({self.label!r}, type={self.type.value!r}, version={self.version})"

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> StoredConnection:
        return cls(
            connection_id=body["connection_id"],
            name=body["name"],
            owner=body["owner"],
            type=ConnectionType.parse(body["type"]),
            version=int(body["version"]),
            credentials=Credentials(body.get("credentials") or {}),
        )


# (caller, owner-or-"", name-or-id) -> (expires at, connection). Shared by every ConnectionStore in
# the process, so flows that open a StoreInterface per step still reuse what they fetched.
_cache: dict[tuple[str, str, str], tuple[float, StoredConnection]] = {}
_cache_lock = threading.Lock()


def _caller_key(api: ApiClient) -> str:
    # The token itself is not kept as a key, only a digest of it, with the user it acts for.
    return api.identity


def forget_credentials(owner: str | None = None, name: str | None = None) -> None:
    """Drop cached credentials: all of them, or those of one connection (any caller, by name or id)."""
    with _cache_lock:
        if owner is None and name is None:
            _cache.clear()
            return
        for key, (_, stored) in list(_cache.items()):
            if (owner is None or stored.owner == owner) and (name is None or stored.name == name):
                _cache.pop(key, None)


class ConnectionStore:
    """The connections the caller owns or that are shared with the caller, through the StepStore API.

    Args:
        api: the HTTP client to call the API with; None builds one from the environment
            (``STEPSTORE_API_URL``, ``STEPSTORE_TOKEN``).
    """

    def __init__(self, api: ApiClient | None = None) -> None:
        self._api = api or ApiClient.from_environment()

    def create(
        self,
        name: str,
        type: ConnectionType | str,
        credentials: Mapping[str, Any],
        description: str = "",
    ) -> ConnectionInfo:
        """Store a new connection owned by the caller. A taken name raises ConflictError."""
        body = {
            "name": name,
            "type": ConnectionType.parse(type).value,
            "description": description,
            "credentials": dict(credentials),
        }
        return ConnectionInfo.from_api(self._api.post("/connections", body))

    def update(
        self,
        name: str,
        *,
        type: ConnectionType | str | None = None,
        credentials: Mapping[str, Any] | None = None,
        description: str | None = None,
    ) -> ConnectionInfo:
        """Change the caller's own connection; given credentials replace all the stored ones."""
        body: dict[str, Any] = {}
        if type is not None:
            body["type"] = ConnectionType.parse(type).value
        if credentials is not None:
            body["credentials"] = dict(credentials)
        if description is not None:
            body["description"] = description
        try:
            return ConnectionInfo.from_api(self._api.put(f"/connections/{segment(name)}", body))
        finally:
            forget_credentials(name=name)

    def list(self) -> list[ConnectionInfo]:
        """The caller's connections, then those shared with the caller; never their credentials."""
        return [
            ConnectionInfo.from_api(c) for c in self._api.get_all("/connections", "connections", limit=PAGE)
        ]

    def get(self, name: str, owner: str | None = None) -> ConnectionInfo:
        """One connection, without its credentials. Not found, or not visible: NotFoundError."""
        return ConnectionInfo.from_api(self._api.get(f"/connections/{segment(name)}", owner=owner))

    def get_by_id(self, connection_id: str) -> ConnectionInfo:
        """One connection found by its id, without its credentials."""
        return ConnectionInfo.from_api(self._api.get(f"/connection-ids/{segment(connection_id)}"))

    def delete(self, name: str) -> None:
        """Delete the caller's own connection, with its shares and its stored secret."""
        try:
            self._api.delete(f"/connections/{segment(name)}")
        finally:
            forget_credentials(name=name)

    def share(self, name: str, user: str) -> ConnectionInfo:
        """Let `user` use the caller's connection (its credentials included)."""
        return ConnectionInfo.from_api(self._api.put(f"/connections/{segment(name)}/shares/{segment(user)}"))

    def unshare(self, name: str, user: str) -> ConnectionInfo:
        """Take back `user`'s access to the caller's connection."""
        try:
            return ConnectionInfo.from_api(
                self._api.delete(f"/connections/{segment(name)}/shares/{segment(user)}")
            )
        finally:
            forget_credentials(name=name)

    def credentials(self, name: str, owner: str | None = None) -> StoredConnection:
        """The connection with its credentials (cached for a minute). Owner defaults to the caller."""
        return self._cached(
            (owner or "", name),
            lambda: self._api.get(f"/connections/{segment(name)}/credentials", owner=owner),
        )

    def credentials_by_id(self, connection_id: str) -> StoredConnection:
        """The connection with that id, with its credentials (cached for a minute)."""
        return self._cached(
            ("#id", connection_id),
            lambda: self._api.get(f"/connection-ids/{segment(connection_id)}/credentials"),
        )

    def resolve(self, connection: str, owner: str | None = None) -> StoredConnection:
        """A connection named by its id, by its name (the caller's, or `owner`'s), or as 'owner/name'."""
        if owner is None and len(connection) == 32 and all(c in "0123456789abcdef" for c in connection):
            return self.credentials_by_id(connection)
        if owner is None and "/" in connection:
            owner, connection = connection.split("/", 1)
        return self.credentials(connection, owner)

    def _cached(self, what: tuple[str, str], fetch: Any) -> StoredConnection:
        key = (_caller_key(self._api), *what)
        now = time.monotonic()
        with _cache_lock:
            hit = _cache.get(key)  # type: ignore[call-overload]
        if hit is not None and hit[0] > now:
            return hit[1]
        stored = StoredConnection.from_api(fetch())
        with _cache_lock:
            _cache[key] = (now + CREDENTIALS_CACHE_SECONDS, stored)  # type: ignore[index]
        return stored

    def test(self, name: str, owner: str | None = None) -> str:
        """Connect and run a trivial request; returns what succeeded, or raises the driver's error."""
        stored = self.credentials(name, owner)
        if stored.type is ConnectionType.s3:
            s3 = s3_client(stored)
            bucket = stored.credentials.first("bucket", "bucket_name")
            try:
                if bucket:
                    s3.head_bucket(Bucket=bucket)
                else:
                    s3.list_buckets()
            except Exception as error:
                raise _database_error("S3 request", stored, error) from None
            return f"connection {stored.label}: S3 reachable" + (
                f", bucket {bucket!r} found" if bucket else ""
            )
        dialect = dialect_for(stored)
        with dialect.session(stored, {}) as con:
            _guard("test query", stored, lambda: dialect.probe(con))
        return f"connection {stored.label}: connected to {stored.type.value} and ran a test query"


# SQL through awswrangler's connectors (and the Snowflake and Databricks connectors).


def _driver_message(error: BaseException) -> str:
    # pg8000 raises with the server's fields as a dict: show its code, message and detail.
    fields = error.args[0] if error.args and isinstance(error.args[0], dict) else None
    if fields and "M" in fields:
        text = f"{fields.get('C', '')}: {fields['M']}".lstrip(": ")
        return f"{text} ({fields['D']})" if fields.get("D") else text
    return str(error) or type(error).__name__


def _database_error(what: str, stored: StoredConnection, error: BaseException) -> DatabaseError:
    message = stored.credentials.scrub(_driver_message(error))
    return DatabaseError(f"{what} on connection {stored.label} ({stored.type.value}) failed: {message}")


def _guard(what: str, stored: StoredConnection, call: Any) -> Any:
    """Run `call`, turning a driver's error into DatabaseError (with no chained traceback to leak from)."""
    try:
        return call()
    except StepStoreError:
        raise
    except Exception as error:
        raise _database_error(what, stored, error) from None


def split_table(table: str, default_schema: str) -> tuple[str, str]:
    """'schema.table' or 'table' (in `default_schema`)."""
    if not isinstance(table, str) or not table.strip():
        raise InvalidInputError(f"table {table!r} is not a table name", field="table")
    schema, _, name = table.rpartition(".")
    return (schema or default_schema), name


# Loggers of the SQL layer: awswrangler and the drivers it calls log errors of their own.
_DRIVER_LOGGERS = (
    "awswrangler",
    "pg8000",
    "pymysql",
    "redshift_connector",
    "pyodbc",
    "snowflake",
    "databricks",
)


class _ScrubSecrets(logging.Filter):
    """Rewrites each record with the connection's secrets replaced by ***, as DatabaseError does."""

    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self._credentials = credentials

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose args do not fit its message: keep what can be shown
            message = str(record.msg)
        record.msg, record.args = self._credentials.scrub(message), None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = self._credentials.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self._credentials.scrub(record.stack_info)
        return True


class _ScrubbedDriverLogs:
    """While a session is open, every SQL-layer logger passes its records through `_ScrubSecrets`.

    A logger's filter sees only records logged to that very logger, so each one is filtered: awswrangler
    is imported first (its modules' loggers exist from then on), and the drivers' are covered again once
    the connection has imported them.
    """

    def __init__(self, credentials: Credentials) -> None:
        self._filter = _ScrubSecrets(credentials)
        self._filtered: list[logging.Logger] = []

    def cover(self) -> None:
        with suppress(ImportError):
            import awswrangler  # noqa: F401  (creates its modules' loggers, so they can be filtered now)
        names = [n for n in list(logging.root.manager.loggerDict) if n.split(".")[0] in _DRIVER_LOGGERS]
        for name in (*_DRIVER_LOGGERS, *names):
            found = logging.getLogger(name)
            if found not in self._filtered:
                found.addFilter(self._filter)
                self._filtered.append(found)

    def release(self) -> None:
        for found in self._filtered:
            found.removeFilter(self._filter)
        self._filtered.clear()


class SqlDialect:
    """How one kind of database is connected to, read and written."""

    kind = "sql"
    install = "pip install 'stepstore[db]'"

    def connect(self, creds: Credentials, options: dict[str, Any]) -> Any:
        raise NotImplementedError

    @contextmanager
    def session(self, stored: StoredConnection, options: dict[str, Any]) -> Iterator[Any]:
        scrubbed = _ScrubbedDriverLogs(stored.credentials)
        scrubbed.cover()
        try:
            con = _guard("connecting", stored, lambda: self.connect(stored.credentials, options))
            try:
                scrubbed.cover()  # the driver and awswrangler modules the connection imported
                yield con
            finally:
                with suppress(Exception):  # closing a broken connection may fail too; nothing to add
                    con.close()
        finally:
            scrubbed.release()

    def default_schema(self, creds: Credentials) -> str:
        return str(creds.first("schema", default="public"))

    def probe(self, con: Any) -> None:
        cursor = con.cursor()
        cursor.execute("SELECT 1")
        cursor.fetchall()

    def table_exists(self, con: Any, schema: str, table: str) -> bool:
        cursor = con.cursor()
        cursor.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
            (schema, table),
        )
        return bool(cursor.fetchall())

    def read(self, con: Any, query: str, chunksize: int | None, kwargs: dict[str, Any]) -> Any:
        raise NotImplementedError

    def write(
        self, con: Any, df: pd.DataFrame, schema: str, table: str, mode: str, kwargs: dict[str, Any]
    ) -> None:
        raise NotImplementedError


def _import(module: str, install: str, what: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDriverError(
            f"{what} connections need {module!r}, which is not installed: {install}"
        ) from None


def _zoned_columns(df: pd.DataFrame) -> list[str]:
    import pandas as pd

    return [str(c) for c, dtype in df.dtypes.items() if isinstance(dtype, pd.DatetimeTZDtype)]


def _naive_columns(df: pd.DataFrame) -> list[str]:
    import pandas as pd

    return [
        str(c)
        for c, dtype in df.dtypes.items()
        if pd.api.types.is_datetime64_dtype(dtype) and not isinstance(dtype, pd.DatetimeTZDtype)
    ]


class PostgresDialect(SqlDialect):
    """PostgreSQL (and Redshift, which speaks its protocol) through pg8000 and awswrangler."""

    kind = "postgresql"
    default_port = 5432

    def connect(self, creds: Credentials, options: dict[str, Any]) -> Any:
        pg8000 = _import("pg8000", self.install, self.kind)
        ssl = creds.first("ssl", "sslmode")
        return pg8000.connect(
            user=creds.first("user", "username"),
            host=creds.first("host"),
            database=creds.first("database", "dbname", "db"),
            port=int(creds.first("port", default=self.default_port)),
            password=creds.first("password"),
            ssl_context=True if ssl in (True, "true", "require", "verify-full") else None,
            timeout=options.get("timeout", creds.first("timeout", default=30)),
        )

    def read(self, con: Any, query: str, chunksize: int | None, kwargs: dict[str, Any]) -> Any:
        wr = _import("awswrangler", self.install, self.kind)
        if not chunksize:
            return wr.postgresql.read_sql_query(query, con, **kwargs)
        return self._stream(wr, con, query, chunksize, kwargs)

    @staticmethod
    def _stream(
        wr: Any, con: Any, query: str, chunksize: int, kwargs: dict[str, Any]
    ) -> Iterator[pd.DataFrame]:
        # pg8000 reads a whole result set at once; a server-side cursor makes the server send it in chunks.
        name = f"stepstore_{uuid.uuid4().hex[:12]}"
        cursor = con.cursor()
        cursor.execute(
            f"DECLARE {name} NO SCROLL CURSOR FOR {query.rstrip().rstrip(';')}",
            kwargs.pop("params", None) or (),
        )
        try:
            first = True
            while True:
                frame = wr.postgresql.read_sql_query(
                    f"FETCH FORWARD {int(chunksize)} FROM {name}", con, **kwargs
                )
                if len(frame) or first:  # an empty result still yields one frame, with its columns
                    yield frame
                first = False
                if len(frame) < chunksize:
                    return
        finally:
            with suppress(Exception):
                con.rollback()  # ends the transaction the cursor lived in, and the cursor with it

    def write(
        self, con: Any, df: pd.DataFrame, schema: str, table: str, mode: str, kwargs: dict[str, Any]
    ) -> None:
        wr = _import("awswrangler", self.install, self.kind)
        # awswrangler would store zoned timestamps as TIMESTAMP, losing the zone; TIMESTAMPTZ keeps it.
        dtype = {c: "TIMESTAMPTZ" for c in _zoned_columns(df)} | dict(kwargs.pop("dtype", None) or {})
        wr.postgresql.to_sql(df, con, table=table, schema=schema, mode=mode, dtype=dtype or None, **kwargs)


class RedshiftDialect(PostgresDialect):
    kind = "redshift"
    default_port = 5439


class MySqlDialect(SqlDialect):
    """MySQL and MariaDB through pymysql and awswrangler.

    They have no zoned timestamp type: zoned timestamps are stored in UTC (DATETIME(6)) and come back
    as naive UTC. BOOLEAN is TINYINT(1) to them; such columns come back as booleans.
    """

    kind = "mysql"

    def connect(self, creds: Credentials, options: dict[str, Any]) -> Any:
        pymysql = _import("pymysql", self.install, self.kind)
        ssl = creds.first("ssl")
        return pymysql.connect(
            host=creds.first("host"),
            port=int(creds.first("port", default=3306)),
            user=creds.first("user", "username"),
            password=creds.first("password", default="") or "",
            database=creds.first("database", "dbname", "db"),
            connect_timeout=int(options.get("timeout", creds.first("timeout", default=30))),
            ssl={"ssl": {}} if ssl in (True, "true", "required") else None,
            # Chunked reads use an unbuffered cursor, so rows come from the server as they are read.
            cursorclass=pymysql.cursors.SSCursor if options.get("stream") else pymysql.cursors.Cursor,
        )

    def default_schema(self, creds: Credentials) -> str:
        return str(creds.first("database", "dbname", "db", "schema", default=""))

    def read(self, con: Any, query: str, chunksize: int | None, kwargs: dict[str, Any]) -> Any:
        wr = _import("awswrangler", self.install, self.kind)
        dtype = self._boolean_columns(con, query) | dict(kwargs.pop("dtype", None) or {})
        if not chunksize:
            return wr.mysql.read_sql_query(query, con, dtype=dtype or None, **kwargs)
        return self._stream(wr, con, query, chunksize, dtype, kwargs)

    @staticmethod
    def _stream(
        wr: Any, con: Any, query: str, chunksize: int, dtype: dict[str, Any], kwargs: dict[str, Any]
    ) -> Iterator[pd.DataFrame]:
        empty = True
        for frame in wr.mysql.read_sql_query(query, con, chunksize=chunksize, dtype=dtype or None, **kwargs):
            empty = False
            yield frame
        if empty:  # awswrangler yields nothing for no rows; one empty frame keeps the columns
            yield wr.mysql.read_sql_query(query, con, dtype=dtype or None, **kwargs)

    @staticmethod
    def _boolean_columns(con: Any, query: str) -> dict[str, Any]:
        """TINYINT(1) columns of the query's result, found without running it (LIMIT 0)."""
        if not query.lstrip().lower().startswith(("select", "with", "(")):
            return {}
        import pyarrow as pa

        cursor = con.cursor()
        try:
            cursor.execute(f"SELECT * FROM ({query.rstrip().rstrip(';')}) AS stepstore_probe LIMIT 0")
            description = cursor.description or ()
        except Exception:
            con.rollback()
            return {}
        finally:
            cursor.close()
        tiny = 1  # pymysql.constants.FIELD_TYPE.TINY
        return {column[0]: pa.bool_() for column in description if column[1] == tiny and column[3] == 1}

    def write(
        self, con: Any, df: pd.DataFrame, schema: str, table: str, mode: str, kwargs: dict[str, Any]
    ) -> None:
        wr = _import("awswrangler", self.install, self.kind)
        zoned = _zoned_columns(df)
        if zoned:
            df = df.copy()
            for column in zoned:
                df[column] = df[column].dt.tz_convert("UTC").dt.tz_localize(None)
        # DATETIME(6), not awswrangler's TIMESTAMP: no 1970-2038 range, no session zone, microseconds kept.
        dtype = {c: "DATETIME(6)" for c in (*zoned, *_naive_columns(df))}
        dtype |= dict(kwargs.pop("dtype", None) or {})
        wr.mysql.to_sql(df, con, table=table, schema=schema, mode=mode, dtype=dtype or None, **kwargs)


class SqlServerDialect(SqlDialect):
    """SQL Server through pyodbc (with Microsoft's ODBC driver) and awswrangler."""

    kind = "mssql"
    install = "pip install pyodbc, and Microsoft's 'ODBC Driver 18 for SQL Server'"

    def connect(self, creds: Credentials, options: dict[str, Any]) -> Any:
        pyodbc = _import("pyodbc", self.install, "SQL Server")
        driver = creds.first("driver", default="ODBC Driver 18 for SQL Server")
        parts = {
            "DRIVER": "{" + str(driver) + "}",
            "SERVER": f"{creds.first('host')},{creds.first('port', default=1433)}",
            "DATABASE": creds.first("database", "dbname", "db", default=""),
            "UID": creds.first("user", "username", default=""),
            "PWD": creds.first("password", default=""),
            "TrustServerCertificate": "yes" if creds.first("trust_server_certificate") else "no",
        }
        return pyodbc.connect(
            ";".join(f"{k}={v}" for k, v in parts.items()), timeout=int(options.get("timeout", 30))
        )

    def default_schema(self, creds: Credentials) -> str:
        return str(creds.first("schema", default="dbo"))

    def table_exists(self, con: Any, schema: str, table: str) -> bool:
        cursor = con.cursor()
        cursor.execute(
            "SELECT 1 FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            (schema, table),
        )
        return bool(cursor.fetchall())

    def read(self, con: Any, query: str, chunksize: int | None, kwargs: dict[str, Any]) -> Any:
        wr = _import("awswrangler", "pip install 'stepstore[db]'", "SQL Server")
        return wr.sqlserver.read_sql_query(query, con, chunksize=chunksize, **kwargs)

    def write(
        self, con: Any, df: pd.DataFrame, schema: str, table: str, mode: str, kwargs: dict[str, Any]
    ) -> None:
        wr = _import("awswrangler", "pip install 'stepstore[db]'", "SQL Server")
        dtype = {c: "DATETIMEOFFSET" for c in _zoned_columns(df)} | dict(kwargs.pop("dtype", None) or {})
        wr.sqlserver.to_sql(df, con, table=table, schema=schema, mode=mode, dtype=dtype or None, **kwargs)


class SnowflakeDialect(SqlDialect):
    """Snowflake through snowflake-connector-python (``pip install 'stepstore[snowflake]'``)."""

    kind = "snowflake"
    install = "pip install 'stepstore[snowflake]'"

    def connect(self, creds: Credentials, options: dict[str, Any]) -> Any:
        connector = _import("snowflake.connector", self.install, self.kind)
        settings = {
            "account": creds.first("account"),
            "user": creds.first("user", "username"),
            "password": creds.first("password"),
            "warehouse": creds.first("warehouse"),
            "database": creds.first("database", "dbname"),
            "schema": creds.first("schema"),
            "role": creds.first("role"),
        }
        return connector.connect(**{k: v for k, v in settings.items() if v not in (None, "")})

    def default_schema(self, creds: Credentials) -> str:
        return str(creds.first("schema", default="PUBLIC"))

    def table_exists(self, con: Any, schema: str, table: str) -> bool:
        cursor = con.cursor()
        cursor.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema ILIKE %s AND table_name ILIKE %s",
            (schema, table),
        )
        return bool(cursor.fetchall())

    def read(self, con: Any, query: str, chunksize: int | None, kwargs: dict[str, Any]) -> Any:
        cursor = con.cursor()
        cursor.execute(query, kwargs.pop("params", None))
        if chunksize:
            return _rechunk(cursor.fetch_pandas_batches(), chunksize)
        return cursor.fetch_pandas_all()

    def write(
        self, con: Any, df: pd.DataFrame, schema: str, table: str, mode: str, kwargs: dict[str, Any]
    ) -> None:
        tools = _import("snowflake.connector.pandas_tools", self.install, self.kind)
        tools.write_pandas(
            con, df, table, schema=schema, auto_create_table=True, overwrite=mode == "overwrite", **kwargs
        )


class DatabricksDialect(SqlDialect):
    """Databricks SQL warehouses through databricks-sql-connector (``pip install 'stepstore[databricks]'``).

    `http_path` given to db_to_pandas or pandas_to_db overrides the stored one.
    """

    kind = "databricks"
    install = "pip install 'stepstore[databricks]'"

    def connect(self, creds: Credentials, options: dict[str, Any]) -> Any:
        sql = _import("databricks.sql", self.install, self.kind)
        return sql.connect(
            server_hostname=creds.first("server_hostname", "host"),
            http_path=options.get("http_path") or creds.first("http_path"),
            access_token=creds.first("access_token", "token", "password"),
        )

    def default_schema(self, creds: Credentials) -> str:
        return str(creds.first("schema", default="default"))

    def table_exists(self, con: Any, schema: str, table: str) -> bool:
        cursor = con.cursor()
        cursor.tables(schema_name=schema, table_name=table)
        return bool(cursor.fetchall())

    def read(self, con: Any, query: str, chunksize: int | None, kwargs: dict[str, Any]) -> Any:
        cursor = con.cursor()
        cursor.execute(query, kwargs.pop("params", None))
        if chunksize:
            return _arrow_batches(cursor, chunksize)
        return cursor.fetchall_arrow().to_pandas()

    def write(
        self, con: Any, df: pd.DataFrame, schema: str, table: str, mode: str, kwargs: dict[str, Any]
    ) -> None:
        target = f"`{schema}`.`{table}`"
        columns = ", ".join(f"`{c}` {_databricks_type(dtype)}" for c, dtype in df.dtypes.items())
        cursor = con.cursor()
        if mode == "overwrite":
            cursor.execute(f"DROP TABLE IF EXISTS {target}")
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {target} ({columns})")
        names = [f"p{i}" for i in range(len(df.columns))]
        statement = f"INSERT INTO {target} VALUES ({', '.join(':' + n for n in names)})"
        for row in df.astype(object).where(df.notna(), None).itertuples(index=False):
            cursor.execute(statement, dict(zip(names, row, strict=True)))


def _databricks_type(dtype: Any) -> str:
    import pandas as pd

    if pd.api.types.is_bool_dtype(dtype):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(dtype):
        return "BIGINT"
    if pd.api.types.is_float_dtype(dtype):
        return "DOUBLE"
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "TIMESTAMP"
    if pd.api.types.is_datetime64_dtype(dtype):
        return "TIMESTAMP_NTZ"
    return "STRING"


def _arrow_batches(cursor: Any, chunksize: int) -> Iterator[pd.DataFrame]:
    while True:
        batch = cursor.fetchmany_arrow(chunksize)
        if batch.num_rows == 0:
            return
        yield batch.to_pandas()


def _rechunk(frames: Any, chunksize: int) -> Iterator[pd.DataFrame]:
    import pandas as pd

    pending: list[pd.DataFrame] = []
    rows = 0
    for frame in frames:
        pending.append(frame)
        rows += len(frame)
        while rows >= chunksize:
            merged = pd.concat(pending, ignore_index=True)
            yield merged.iloc[:chunksize].reset_index(drop=True)
            rest = merged.iloc[chunksize:]
            pending, rows = [rest], len(rest)
    if rows:
        yield pd.concat(pending, ignore_index=True)


_DIALECTS: dict[ConnectionType, type[SqlDialect]] = {
    ConnectionType.postgresql: PostgresDialect,
    ConnectionType.redshift: RedshiftDialect,
    ConnectionType.mysql: MySqlDialect,
    ConnectionType.mariadb: MySqlDialect,
    ConnectionType.mssql: SqlServerDialect,
    ConnectionType.mssql_pyodbc: SqlServerDialect,
    ConnectionType.mssql_pymysql: SqlServerDialect,
    ConnectionType.snowflake: SnowflakeDialect,
    ConnectionType.databricks: DatabricksDialect,
}


def dialect_for(stored: StoredConnection) -> SqlDialect:
    """The SQL dialect of a connection; a connection that is not a database is an InvalidInputError."""
    dialect = _DIALECTS.get(stored.type)
    if dialect is None:
        sql_types = ", ".join(t.value for t in _DIALECTS)
        raise InvalidInputError(
            f"connection {stored.label} is of type {stored.type.value!r}, which does not run SQL; "
            f"SQL connection types: {sql_types}",
            field="conn_name",
        )
    return dialect()


# Arguments that shape the connection rather than the query.
CONNECT_OPTIONS = ("http_path", "timeout")


def read_sql(stored: StoredConnection, query: str, kwargs: dict[str, Any]) -> Any:
    """Run `query`; a DataFrame, or with `chunksize=N` an iterator of DataFrames of up to N rows."""
    dialect = dialect_for(stored)
    options = {k: kwargs.pop(k) for k in CONNECT_OPTIONS if k in kwargs}
    chunksize = kwargs.pop("chunksize", None)
    if chunksize is not None and (
        isinstance(chunksize, bool) or not isinstance(chunksize, int) or chunksize < 1
    ):
        raise InvalidInputError(f"chunksize must be a positive integer, got {chunksize!r}", field="chunksize")
    if not chunksize:
        with dialect.session(stored, options) as con:
            return _guard("query", stored, lambda: dialect.read(con, query, None, kwargs))
    options["stream"] = True
    return _chunks(dialect, stored, options, query, chunksize, kwargs)


def _chunks(
    dialect: SqlDialect,
    stored: StoredConnection,
    options: dict[str, Any],
    query: str,
    size: int,
    kwargs: dict,
) -> Iterator[pd.DataFrame]:
    # The connection stays open while the caller iterates and closes when the iterator ends or is dropped.
    with dialect.session(stored, options) as con:
        frames = iter(_guard("query", stored, lambda: dialect.read(con, query, size, kwargs)))
        while True:
            frame = _guard("query", stored, lambda: next(frames, None))
            if frame is None:
                return
            yield frame


IF_EXISTS = ("fail", "replace", "append")


def write_sql(
    stored: StoredConnection, df: pd.DataFrame, table: str, if_exists: str, kwargs: dict[str, Any]
) -> None:
    """Write `df` to `table`: fail if it exists, replace it, or append to it (creating it if missing)."""
    import pandas as pd

    if if_exists not in IF_EXISTS:
        raise InvalidInputError(
            f"if_exists must be one of {', '.join(IF_EXISTS)}, got {if_exists!r}", field="if_exists"
        )
    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError(f"pandas_to_db needs a DataFrame, got {type(df).__name__}", field="_df")
    dialect = dialect_for(stored)
    options = {k: kwargs.pop(k) for k in CONNECT_OPTIONS if k in kwargs}
    schema, name = split_table(
        table, kwargs.pop("schema", None) or dialect.default_schema(stored.credentials)
    )
    with dialect.session(stored, options) as con:
        if if_exists == "fail" and _guard(
            "checking the table", stored, lambda: dialect.table_exists(con, schema, name)
        ):
            from stepstore.errors import ConflictError

            raise ConflictError(
                f"table {table!r} already exists on connection {stored.label}; nothing was written "
                "(pass if_exists='replace' or 'append')",
                field="table",
            )
        mode = "overwrite" if if_exists == "replace" else "append"
        _guard(f"writing table {table!r}", stored, lambda: dialect.write(con, df, schema, name, mode, kwargs))


# S3 connections.

_SESSION_ARGS = (
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "region_name",
    "profile_name",
)


def s3_client(stored: StoredConnection, **kwargs: Any) -> Any:
    """A boto3 S3 client from an S3 connection's stored access key, secret, session token, region and
    endpoint; `kwargs` override them and go to the boto3 Session or client as they belong."""
    if stored.type is not ConnectionType.s3:
        raise InvalidInputError(
            f"connection {stored.label} is of type {stored.type.value!r}, not 's3'", field="connection_id"
        )
    boto3 = _import("boto3", "pip install boto3 (or 'stepstore[db]')", "S3")
    creds = stored.credentials
    session_args = {
        "aws_access_key_id": creds.first("aws_access_key_id", "access_key_id", "access_key"),
        "aws_secret_access_key": creds.first("aws_secret_access_key", "secret_access_key", "secret_key"),
        "aws_session_token": creds.first("aws_session_token", "session_token"),
        "region_name": creds.first("region_name", "region"),
    }
    client_args = {"endpoint_url": creds.first("endpoint_url", "endpoint")}
    for key, value in kwargs.items():
        (session_args if key in _SESSION_ARGS else client_args)[key] = value
    session = boto3.session.Session(**{k: v for k, v in session_args.items() if v is not None})
    return session.client("s3", **{k: v for k, v in client_args.items() if v is not None})
