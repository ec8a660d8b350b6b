"""StoreInterface's connections, SQL and fixtures: db_to_pandas, pandas_to_db, get_s3_asset, ..."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from stepstore.connections import (
    ConnectionStore,
    ConnectionType,
    read_sql,
    s3_client,
    str_2_connection_type,
    write_sql,
)
from stepstore.errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

    from stepstore.client import ApiClient


class ConnectionMethods:
    """Mixed into StoreInterface; uses its `_api`, `flow_id`, `step_name` and `bucket_name`."""

    _api: ApiClient
    flow_id: str
    step_name: str
    bucket_name: str | None

    @property
    def connections(self) -> ConnectionStore:
        """The connection store as this StoreInterface's user sees it (create, share, list, ...)."""
        store = getattr(self, "_connection_store", None)
        if store is None:
            store = self._connection_store = ConnectionStore(self._api)
        return store

    def db_to_pandas(
        self, query: str, conn_name: str, connection_owner: str | None = None, **kwargs: Any
    ) -> Any:
        """Run a SQL query on a stored connection and return the result as a DataFrame.

        Args:
            query: the SQL to run.
            conn_name: the connection's name in the connection store.
            connection_owner: whose connection it is; None means the caller's. A connection neither
                owned by nor shared with the caller is refused (NotFoundError), as if it did not exist.
            **kwargs: ``chunksize=N`` returns an iterator of DataFrames of up to N rows instead of one
                DataFrame (the connection stays open until it is exhausted); ``http_path`` overrides a
                Databricks connection's stored one; ``params``, ``index_col``, ``dtype`` and the rest go
                to the driver's awswrangler reader.

        A database error raises DatabaseError with the driver's message and the connection's name.
        """
        stored = self.connections.credentials(conn_name, connection_owner)
        return read_sql(stored, query, dict(kwargs))

    def pandas_to_db(
        self,
        _df: pd.DataFrame,
        table: str,
        conn_name: str,
        connection_owner: str | None = None,
        if_exists: str = "fail",
        **kwargs: Any,
    ) -> None:
        """Write a DataFrame to a table on a stored connection.

        Args:
            _df: the DataFrame.
            table: ``table`` or ``schema.table``; the schema defaults to the connection's (PostgreSQL:
                public, MySQL/MariaDB: the connection's database).
            conn_name, connection_owner: the connection, as for `db_to_pandas`.
            if_exists: ``fail`` (an existing table raises ConflictError naming it, and is left untouched),
                ``replace`` (drop and recreate it) or ``append`` (create it if missing). Anything else is
                a ValueError.
            **kwargs: ``http_path`` for Databricks; ``dtype``, ``index``, ``chunksize`` and the rest go
                to the driver's awswrangler writer.

        Types survive the round trip: integers, floats, text, booleans, nulls, and timestamps with and
        without a zone (MySQL and MariaDB have no zoned type: zoned timestamps are stored in UTC and
        come back naive).
        """
        if if_exists not in ("fail", "replace", "append"):
            raise InvalidInputError(
                f"if_exists must be one of fail, replace, append, got {if_exists!r}", field="if_exists"
            )
        stored = self.connections.credentials(conn_name, connection_owner)
        write_sql(stored, _df, table, if_exists, dict(kwargs))

    def get_boto3_s3_client_from_connection_store(self, connection_id: str, **kwargs: Any) -> Any:
        """A boto3 S3 client built from an S3 connection's stored credentials.

        Args:
            connection_id: the connection's id, its name (the caller's), or ``owner/name``.
            **kwargs: go to the boto3 Session (``region_name``, ``profile_name``, keys) or the client
                (``endpoint_url``, ``config``, ...), overriding what is stored.
        """
        return s3_client(self.connections.resolve(connection_id), **kwargs)

    @staticmethod
    def str_2_connection_type(list_connection_type: list[str]) -> list[ConnectionType]:
        """Strings to ConnectionType members; an unknown string is a ValueError listing the valid ones."""
        return str_2_connection_type(list_connection_type)

    @staticmethod
    def list_fixture_data(prefix: str | None = None) -> list[str]:
        """The keys under the deployment's fixture area, ``fixture/{prefix}`` in its fixtures bucket.

        Configured from the environment (``STEPSTORE_API_URL``, ``STEPSTORE_TOKEN``). A prefix that
        contains '..' or is absolute is refused with a ValueError.
        """
        from stepstore.fixtures import Fixtures

        return [f.key for f in Fixtures().list(prefix)]

    def get_s3_asset(self, path: str) -> io.BytesIO:
        """The object at `path` in the bucket named by ``bucket_name`` at construction, as BytesIO.

        The deployment presigns reads only of buckets it allows (its fixtures bucket and those in
        ``STEPSTORE_READABLE_BUCKETS``); others raise ForbiddenError. Without a bucket: ValueError.
        """
        from stepstore import transfer

        if not self.bucket_name:
            raise InvalidInputError(
                "get_s3_asset needs a bucket: construct StoreInterface(..., bucket_name=...)",
                field="bucket_name",
            )
        if not isinstance(path, str) or not path.strip("/"):
            raise InvalidInputError(f"path {path!r} is not an object key", field="path")
        found = self._api.get("/objects", bucket=self.bucket_name, key=path.lstrip("/"))
        return io.BytesIO(transfer.download(found["url"], found["size"], found["etag"]))
