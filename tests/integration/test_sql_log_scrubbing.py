"""awswrangler's and the drivers' own log lines go through the same scrubbing as DatabaseError.

Against the real servers: MariaDB refusing a wrong password, and PostgreSQL (trust auth: any password
connects) refusing a write whose duplicate key echoes a value equal to the stored secret, which
awswrangler logs with `_logger.error(ex)` before re-raising.
"""

from __future__ import annotations

import logging
import uuid

import pandas as pd
import pg8000
import pytest

from stepstore import StoreInterface
from stepstore.connections import DatabaseError
from tests.integration.test_sql import MARIA, PG, _pg_user


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    lines = []
    for record in caplog.records:
        lines.append(record.getMessage())
        if record.exc_info:
            lines.append(logging.Formatter().formatException(record.exc_info))
        lines.append(record.exc_text or "")
    return "\n".join(lines)


def test_a_wrong_password_leaves_no_trace_in_any_log(stack, alice, flow_id, caplog):
    secret = f"wrong-{uuid.uuid4().hex}"
    store = StoreInterface(flow_id, step_name="s")
    store.connections.create("maria", "mariadb", {**MARIA, "password": secret})
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DatabaseError, match="Access denied") as refused:
        store.db_to_pandas("SELECT 1", "maria")
    assert secret not in str(refused.value)
    logged = everything_logged(caplog)
    assert logged and secret not in logged
    # the filters are gone once the session is over
    assert not any(logging.getLogger(n).filters for n in ("awswrangler", "pymysql", "pg8000"))


def test_awswranglers_error_log_lines_are_scrubbed(stack, alice, flow_id, caplog):
    secret = f"s3cr3t-{uuid.uuid4().hex}"
    user = _pg_user()
    table = f"scrub_{uuid.uuid4().hex[:8]}"
    admin = pg8000.connect(user=user, **PG)
    admin.run(f"CREATE TABLE public.{table} (k text PRIMARY KEY)")
    admin.commit()
    try:
        store = StoreInterface(flow_id, step_name="s")
        store.connections.create("pg", "postgresql", {**PG, "user": user, "password": secret})
        caplog.set_level(logging.DEBUG)
        with pytest.raises(DatabaseError, match="duplicate key") as refused:
            store.pandas_to_db(pd.DataFrame({"k": [secret, secret]}), table, "pg", if_exists="append")
        assert secret not in str(refused.value) and "***" in str(refused.value)
        errors = [
            r for r in caplog.records if r.name.startswith("awswrangler") and r.levelno >= logging.ERROR
        ]
        assert errors, "awswrangler logged no error of its own: the test no longer exercises its log lines"
        assert all("***" in r.getMessage() for r in errors)
        assert secret not in everything_logged(caplog)
    finally:
        admin.run(f"DROP TABLE IF EXISTS public.{table}")
        admin.commit()
        admin.close()
