"""Run each mutant's tests in a fork of a process that has already imported the heavy libraries.

A fresh `python -m pytest` per mutant spends most of its time importing pandas, pyarrow, boto3, moto
and pydantic, and that is the same for every mutant. The server imports those once; for each test
run it forks, and the child (which has imported nothing of StepStore's) runs pytest, importing the
project's modules, mutated one included, fresh from disk. cosmic-ray's test command is the small
client below, which hands the pytest arguments to the server and exits with the tests' status.

    python -m mutation.forkserver serve SOCKET
    python -m mutation.forkserver run SOCKET TIMEOUT -- PYTEST-ARGS...
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import socket
import sys
import time

# Libraries the tests import; never StepStore's own modules (the child must import those fresh).
PRELOAD = (
    "pytest",
    "hypothesis",
    "requests",
    "urllib3",
    "numpy",
    "pandas",
    "pyarrow",
    "pyarrow.parquet",
    "boto3",
    "botocore",
    "moto",
    "moto.server",
    "pydantic",
    "pynamodb",
    "aws_lambda_powertools",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.event_handler.openapi.models",
)


def _receive(connection: socket.socket) -> dict:
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    return json.loads(data)


def _run_child(request: dict) -> None:
    """In the forked child: become the test process and exit with pytest's status."""
    os.setsid()
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.chdir(request["cwd"])
    import pytest

    status = 1
    try:
        status = int(pytest.main(request["args"]))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def serve(path: str) -> None:
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    if any(m == "stepstore" or m.startswith(("stepstore.", "stepstore_functions")) for m in sys.modules):
        raise SystemExit("a preloaded library imported StepStore itself; the mutants would not be seen")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    print("ready", flush=True)
    while True:
        connection, _ = server.accept()
        with connection:
            request = _receive(connection)
            if request.get("stop"):
                return
            child = os.fork()
            if child == 0:
                server.close()
                connection.close()
                _run_child(request)
            deadline = time.monotonic() + float(request["timeout"])
            status = None
            while status is None:
                done, code = os.waitpid(child, os.WNOHANG)
                if done:
                    status = os.waitstatus_to_exitcode(code)
                elif time.monotonic() > deadline:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(child, signal.SIGKILL)
                    os.waitpid(child, 0)
                    status = -9
                else:
                    time.sleep(0.05)
            with contextlib.suppress(OSError):
                connection.sendall(f"{status}\n".encode())


def run(path: str, timeout: float, args: list[str]) -> int:
    log = os.environ.get("MUTATION_TEST_LOG", os.devnull)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(path)
    with client:
        request = {"args": args, "cwd": os.getcwd(), "timeout": timeout, "log": log}
        client.sendall(json.dumps(request).encode() + b"\n")
        answer = b""
        while not answer.endswith(b"\n"):
            chunk = client.recv(64)
            if not chunk:
                return 1
            answer += chunk
    status = int(answer)
    if log != os.devnull:
        with open(log, encoding="utf-8", errors="replace") as output:
            sys.stdout.write(output.read()[-4000:])
    return 0 if status == 0 else 1


def stop(path: str) -> None:
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.connect(path)
        client.sendall(b'{"stop": true}\n')


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2])
    elif sys.argv[1] == "run":
        separator = sys.argv.index("--")
        sys.exit(run(sys.argv[2], float(sys.argv[3]), sys.argv[separator + 1 :]))
    else:
        raise SystemExit(__doc__)
