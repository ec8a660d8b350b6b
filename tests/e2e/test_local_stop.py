"""A clean stop of `stepstore local up` (SIGTERM, as Ctrl-C's SIGINT) ends the process within 5 s,
events on, even with a client's keep-alive connection open and a trigger's flow running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import boto3
import requests

from stepstore.local.stack import free_port

STEPSTORE = [sys.executable, "-m", "stepstore.cli"]
STOP_BOUND_SECONDS = 5  # the definition of done for a clean stop


def test_sigterm_stops_local_up_with_events_within_five_seconds():
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STEPSTORE_"))}
    server = subprocess.Popen(
        [*STEPSTORE, "local", "up", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None and server.stderr is not None
        url = server.stdout.readline().strip().split("=", 1)[1]
        token = server.stdout.readline().strip().split("=", 1)[1]
        moto = server.stderr.readline().split(" at ", 1)[1].split(";", 1)[0]

        # Given a client holding a keep-alive connection, and a fixture upload that starts the trigger's flow
        client = requests.Session()
        client.headers["Authorization"] = f"Bearer {token}"
        assert client.put(f"{url}/flows/stop-test/steps/a", timeout=30).status_code == 200
        s3 = boto3.client(
            "s3", endpoint_url=moto, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if "fixtures" in b["Name"])
        s3.put_object(Bucket=bucket, Key="fixture/stop/sales.csv", Body=b"region,units\nnorth,3\n")
        time.sleep(1)  # the notification reaches the trigger

        # When the process gets SIGTERM
        sent = time.monotonic()
        server.send_signal(signal.SIGTERM)
        returncode = server.wait(timeout=STOP_BOUND_SECONDS)
        print(f"stepstore local up stopped {time.monotonic() - sent:.2f} s after SIGTERM")

        # Then it has exited cleanly
        assert returncode == 0
        client.close()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
