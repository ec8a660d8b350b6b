"""The HTTP client's retries and errors, against a scripted local server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from stepstore import client as client_module
from stepstore.client import ApiClient
from stepstore.errors import ConflictError, NotFoundError, ServiceError


class Script:
    def __init__(self) -> None:
        self.responses: list[tuple[int, dict]] = []
        self.seen: list[tuple[str, str, str | None]] = []
        self.acting: list[str | None] = []


@pytest.fixture
def server(monkeypatch) -> Iterator[tuple[str, Script]]:
    monkeypatch.setattr(client_module, "_backoff", lambda attempt, retry_after: None)  # no sleeping in tests
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            script.seen.append((self.command, self.path, self.headers.get("Authorization")))
            script.acting.append(self.headers.get("X-StepStore-User"))
            status, body = script.responses.pop(0)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _reply

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    httpd.shutdown()
    httpd.server_close()


def test_throttling_and_server_errors_are_retried_then_succeed(server):
    url, script = server
    script.responses = [(429, {}), (503, {}), (502, {}), (200, {"ok": True})]
    assert ApiClient(url, "sst_t").get("/thing") == {"ok": True}
    assert len(script.seen) == 4
    assert all(auth == "Bearer sst_t" for _, _, auth in script.seen)


def test_retries_are_bounded(server):
    url, script = server
    script.responses = [(503, {"message": "busy"})] * client_module.MAX_ATTEMPTS
    with pytest.raises(ServiceError, match="busy"):
        ApiClient(url, "sst_t").get("/thing")
    assert len(script.seen) == client_module.MAX_ATTEMPTS


def test_a_post_is_not_repeated_after_a_500_but_is_after_a_throttle(server):
    url, script = server
    script.responses = [(500, {"message": "boom"})]
    with pytest.raises(ServiceError, match="boom"):
        ApiClient(url, "sst_t").post("/things", {"a": 1})
    assert len(script.seen) == 1
    script.responses = [(429, {}), (200, {"id": 1})]
    assert ApiClient(url, "sst_t").post("/things", {"a": 1}) == {"id": 1}


def test_errors_are_typed_and_say_what_was_asked(server):
    url, script = server
    script.responses = [(404, {"error": "not_found", "message": "flow 'x' not found"})]
    with pytest.raises(NotFoundError, match=r"flow 'x' not found \(GET /flows/x: 404\)") as caught:
        ApiClient(url, "sst_t").get("/flows/x")
    assert isinstance(caught.value, ValueError)
    script.responses = [(409, {"error": "conflict", "message": "exists", "field": "name"})]
    with pytest.raises(ConflictError) as conflict:
        ApiClient(url, "sst_t").put("/x", {})
    assert conflict.value.field == "name" and conflict.value.status == 409


def test_acting_for_another_user_sends_the_header(server):
    url, script = server
    script.responses = [(200, {}), (200, {})]
    ApiClient(url, "sst_t", user="alice").get("/me")
    ApiClient(url, "sst_t").get("/me", limit=3)
    assert script.acting == ["alice", None]
    assert [path for _, path, _ in script.seen] == ["/me", "/me?limit=3"]


def test_an_unreachable_api_is_a_service_error_naming_it(monkeypatch):
    from stepstore.local.stack import free_port

    monkeypatch.setattr(client_module, "_backoff", lambda attempt, retry_after: None)
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ServiceError, match="cannot reach StepStore at " + url):
        ApiClient(url, "sst_t").get("/flows")


def test_a_failed_transfer_never_shows_the_presigned_url(monkeypatch):
    from stepstore import transfer
    from stepstore.local.stack import free_port

    monkeypatch.setattr(transfer.time, "sleep", lambda seconds: None)
    url = (
        f"http://127.0.0.1:{free_port()}/bucket/key?X-Amz-Credential=AKIDSECRET%2F20260101"
        "&X-Amz-Security-Token=TOKENSECRET&X-Amz-Signature=abcdef0123"
    )
    with pytest.raises(ServiceError) as caught:
        transfer.download(url, 10, "0" * 32)
    text = str(caught.value)
    assert "S3 download failed" in text and "<signed>" in text
    for secret in ("AKIDSECRET", "TOKENSECRET", "abcdef0123"):
        assert secret not in text
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
