"""The commands a person types: the demo, `stepstore local up`, `stepstore users create`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from stepstore.local.stack import free_port

STEPSTORE = [sys.executable, "-m", "stepstore.cli"]


def test_demo_runs_the_example_flow_and_exits_zero():
    result = subprocess.run([*STEPSTORE, "demo"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert ": completed" in out.splitlines()[0]
    for step in ("load", "transform", "summarise"):
        assert f"{step:<12} completed" in out
    assert "revenue_by_region" in out and "total_revenue: " in out
    total = float(out.split("total_revenue: ")[1].split()[0])
    assert total > 0


def test_local_up_prints_its_address_and_admin_token_and_serves_users(tmp_path: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STEPSTORE_"))}
    server = subprocess.Popen(
        [*STEPSTORE, "local", "up", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        url_line = server.stdout.readline().strip()
        token_line = server.stdout.readline().strip()
        assert url_line == f"STEPSTORE_API_URL=http://127.0.0.1:{port}"
        assert token_line.startswith("STEPSTORE_ADMIN_TOKEN=sst_")
        admin_env = {
            **env,
            "STEPSTORE_API_URL": url_line.split("=", 1)[1],
            "STEPSTORE_TOKEN": token_line.split("=", 1)[1],
        }
        created = subprocess.run(
            [*STEPSTORE, "users", "create", "carol"],
            capture_output=True,
            text=True,
            env=admin_env,
            timeout=60,
        )
        assert created.returncode == 0, created.stderr
        token = created.stdout.strip()
        assert token.startswith("sst_")
        again = subprocess.run(
            [*STEPSTORE, "users", "create", "carol"],
            capture_output=True,
            text=True,
            env=admin_env,
            timeout=60,
        )
        assert again.returncode == 1 and "already exists" in again.stderr
        flows = subprocess.run(
            [*STEPSTORE, "flows", "ls"],
            capture_output=True,
            text=True,
            env={**admin_env, "STEPSTORE_TOKEN": token},
            timeout=60,
        )
        assert flows.returncode == 0 and flows.stdout == ""
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert server.returncode == 0
