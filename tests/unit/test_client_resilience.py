"""The client against a real local HTTP server that fails on purpose.

The server drops connections, throttles, and answers with errors, and counts every request it
receives; the tests check what the client did about it (how many times it asked, how long it chose
to wait, which error a caller gets), never the client's constants.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from stepstore import StoreInterface
from stepstore import client as client_module
from stepstore.client import ApiClient, segment
from stepstore.errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    ServiceError,
)

DROP = "drop"  # close the connection without answering


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FailingServer:
    """Answers each request with the next scripted reply: (status, body, headers), raw bytes, or DROP."""

    url: str
    script: list = field(default_factory=list)
    received: list[Request] = field(default_factory=list)

    def answer(self, *replies) -> None:
        self.script[:] = list(replies)

    @property
    def methods(self) -> list[str]:
        return [r.method for r in self.received]


@pytest.fixture
def server() -> Iterator[FailingServer]:
    state = FailingServer(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            state.received.append(Request(self.command, self.path, dict(self.headers), body))
            reply = state.script.pop(0) if state.script else (500, {"message": "script ran out"}, {})
            if reply == DROP:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            status, payload, headers = reply
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _reply

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The pauses the client chose between attempts (recorded instead of slept)."""
    chosen: list[float] = []
    monkeypatch.setattr(client_module.time, "sleep", chosen.append)
    return chosen


def ok(body=None, **headers):
    return (200, {} if body is None else body, headers)


def status(code: int, body=None, **headers):
    return (code, {} if body is None else body, {k.replace("_", "-"): v for k, v in headers.items()})


# Connection failures: an idempotent request is tried again, a POST never is.


def test_a_get_whose_connection_drops_is_tried_again(server, waits):
    server.answer(DROP, DROP, ok({"user": "alice"}))
    assert ApiClient(server.url, "sst_t").get("/me") == {"user": "alice"}
    assert server.methods == ["GET", "GET", "GET"]
    assert len(waits) == 2


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_other_idempotent_requests_are_tried_again_after_a_drop(server, waits, method):
    server.answer(DROP, ok({"done": True}))
    assert ApiClient(server.url, "sst_t").request(method, "/x") == {"done": True}
    assert server.methods == [method, method]


def test_a_post_whose_connection_drops_is_not_sent_again(server, waits):
    server.answer(DROP, ok({"created": 1}))
    with pytest.raises(ServiceError, match=f"POST /things: cannot reach StepStore at {server.url}"):
        ApiClient(server.url, "sst_t").post("/things", {"a": 1})
    assert server.methods == ["POST"]  # the work may have been done: sending it again could do it twice
    assert waits == []


def test_a_get_that_keeps_dropping_gives_up_after_five_attempts(server, waits):
    server.answer(*[DROP] * 6)
    with pytest.raises(ServiceError, match="cannot reach StepStore"):
        ApiClient(server.url, "sst_t").get("/flows")
    assert len(server.received) == 5
    assert len(waits) == 4  # no pause after the last attempt


# Throttling and refusals before the work was done: retried for every method, a bounded number of times.


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
@pytest.mark.parametrize("code", [429, 503])
def test_throttling_is_retried_for_every_method(server, waits, method, code):
    server.answer(status(code), status(code), ok({"n": 1}))
    assert ApiClient(server.url, "sst_t").request(method, "/x") == {"n": 1}
    assert server.methods == [method] * 3


@pytest.mark.parametrize("code", [429, 503])
def test_throttling_gives_up_after_five_attempts_with_the_servers_message(server, waits, code):
    server.answer(*[status(code, {"message": "slow down"})] * 6)
    with pytest.raises(ServiceError, match=rf"slow down \(POST /x: {code}\)") as caught:
        ApiClient(server.url, "sst_t").post("/x", {})
    assert len(server.received) == 5
    assert caught.value.status == code


@pytest.mark.parametrize("code", [500, 502, 504])
def test_server_errors_are_retried_for_idempotent_requests_only(server, waits, code):
    server.answer(status(code), ok({"n": 1}))
    assert ApiClient(server.url, "sst_t").put("/x", {}) == {"n": 1}
    assert server.methods == ["PUT", "PUT"]
    server.received.clear()
    server.answer(status(code, {"message": "broke"}), ok({"n": 2}))
    with pytest.raises(ServiceError, match="broke"):
        ApiClient(server.url, "sst_t").post("/x", {})
    assert server.methods == ["POST"]


@pytest.mark.parametrize("code", [400, 401, 403, 404, 409, 422, 501])
def test_other_errors_are_not_retried(server, waits, code):
    server.answer(status(code), ok())
    with pytest.raises(client_module.StepStoreError):
        ApiClient(server.url, "sst_t").get("/x")
    assert len(server.received) == 1
    assert waits == []


# How long the client waits.


def test_retry_after_in_seconds_is_honoured(server, waits):
    server.answer(status(503, Retry_After="3"), status(429, Retry_After="1"), ok())
    ApiClient(server.url, "sst_t").get("/x")
    assert waits == [3.0, 1.0]


def test_a_long_retry_after_is_capped_at_ten_seconds(server, waits):
    server.answer(
        status(503, Retry_After="10"), status(503, Retry_After="11"), status(503, Retry_After="3600"), ok()
    )
    ApiClient(server.url, "sst_t").get("/x")
    assert waits == [10.0, 10.0, 10.0]


@pytest.mark.parametrize("header", [None, "", "soon", "Wed, 21 Oct 2037 07:28:00 GMT", "-1"])
def test_without_a_usable_retry_after_the_wait_grows_with_jitter(server, waits, header, monkeypatch):
    replies = [status(503, **({"Retry_After": header} if header is not None else {}))] * 4
    for jitter, bounds in ((0.0, (0.05, 0.1, 0.2, 0.4)), (0.999999, (0.15, 0.3, 0.6, 1.2))):
        server.answer(*replies, ok())
        waits.clear()
        monkeypatch.setattr(client_module.random, "random", lambda jitter=jitter: jitter)
        ApiClient(server.url, "sst_t").get("/x")
        assert waits == pytest.approx(bounds, rel=1e-4)


def test_the_jittered_wait_is_capped(server, waits, monkeypatch):
    # With no jitter the wait is the bound itself: 0.05 s doubling per attempt, at most 2 s.
    monkeypatch.setattr(client_module.random, "random", lambda: 0.5)
    for attempt, bound in ((1, 0.1), (4, 0.8), (5, 1.6), (6, 2.0), (9, 2.0)):
        waits.clear()
        client_module._backoff(attempt, None)
        assert waits == pytest.approx([bound])


# Errors a caller can catch by kind, saying what was asked.


@pytest.mark.parametrize(
    ("code", "kind", "base"),
    [
        (400, InvalidInputError, ValueError),
        (401, AuthenticationError, PermissionError),
        (403, ForbiddenError, PermissionError),
        (404, NotFoundError, ValueError),
        (409, ConflictError, ValueError),
        (422, InvalidInputError, ValueError),
        (418, ServiceError, client_module.StepStoreError),
    ],
)
def test_each_status_is_its_own_kind_of_error(server, code, kind, base):
    server.answer(status(code, {"error": "why", "message": "what went wrong", "field": "name"}))
    with pytest.raises(kind) as caught:
        ApiClient(server.url, "sst_t").put("/flows/f", {"x": 1})
    error = caught.value
    assert type(error) is kind and isinstance(error, base)
    assert str(error) == f"what went wrong (PUT /flows/f: {code})"
    assert (error.status, error.field, error.code) == (code, "name", "why")


@pytest.mark.parametrize("body", [b"not json <html>", b"[1, 2]", b"", b'{"message": ""}'])
def test_an_error_without_a_json_message_says_the_http_reason(server, body):
    server.answer((400, body, {"Content-Type": "text/html"}))
    with pytest.raises(InvalidInputError) as caught:
        ApiClient(server.url, "sst_t").get("/x")
    assert str(caught.value) == "Bad Request (GET /x: 400)"
    assert caught.value.field is None


# The environment.


@pytest.mark.parametrize(
    ("url", "token", "missing"),
    [
        (None, "sst_t", "STEPSTORE_API_URL not set"),
        ("", "sst_t", "STEPSTORE_API_URL not set"),
        ("http://127.0.0.1:9", None, "STEPSTORE_TOKEN not set"),
        ("http://127.0.0.1:9", "", "STEPSTORE_TOKEN not set"),
        (None, None, "STEPSTORE_API_URL and STEPSTORE_TOKEN not set"),
    ],
)
def test_a_missing_address_or_token_is_a_clear_error(monkeypatch, url, token, missing):
    for name, value in (("STEPSTORE_API_URL", url), ("STEPSTORE_TOKEN", token)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    for make in (ApiClient.from_environment, lambda: StoreInterface("flow-1", step_name="s")):
        with pytest.raises(ConfigurationError, match=missing) as caught:
            make()
        assert "stepstore local up" in str(caught.value)
        assert isinstance(caught.value, ValueError)


def test_the_environment_names_the_server_and_the_token(server, monkeypatch):
    monkeypatch.setenv("STEPSTORE_API_URL", server.url + "/")
    monkeypatch.setenv("STEPSTORE_TOKEN", "sst_secret")
    server.answer(ok({"user": "alice"}))
    api = ApiClient.from_environment(user="bob")
    assert api.get("/me") == {"user": "alice"}
    sent = server.received[0]
    assert sent.path == "/me"
    assert sent.headers["Authorization"] == "Bearer sst_secret"
    assert sent.headers["X-StepStore-User"] == "bob"
    assert "sst_secret" not in api.identity


# What is sent.


def test_bodies_go_as_json_and_empty_answers_come_back_as_none(server):
    server.answer((200, b"", {}), ok({"id": 7}))
    api = ApiClient(server.url, "sst_t")
    assert api.delete("/things/1") is None
    assert api.post("/things", {"name": "ü", "n": [1, 2]}) == {"id": 7}
    posted = server.received[1]
    assert json.loads(posted.body) == {"name": "ü", "n": [1, 2]}
    assert posted.headers["Content-Type"] == "application/json"
    assert posted.headers["Accept"] == "application/json"
    assert server.received[0].body == b""


def test_query_parameters_skip_none_and_repeat_lists(server):
    server.answer(ok(), ok())
    api = ApiClient(server.url, "sst_t")
    api.get("/assets", label="a b", type=None, ids=["x", "y"])
    api.get("/assets")
    assert [r.path for r in server.received] == ["/assets?label=a+b&ids=x&ids=y", "/assets"]


def test_the_caller_is_asked_once_and_remembered(server):
    server.answer(ok({"user": "alice"}), ok({"user": "someone else"}))
    api = ApiClient(server.url, "sst_t")
    assert api.caller() == "alice"
    assert api.caller() == "alice"
    assert len(server.received) == 1
    assert ApiClient(server.url, "sst_t", user="bob").caller() == "bob"
    assert len(server.received) == 1


def test_identity_differs_by_server_token_and_user_without_showing_the_token():
    identities = {
        ApiClient("http://a", "sst_1").identity,
        ApiClient("http://a/", "sst_1").identity,
        ApiClient("http://a", "sst_2").identity,
        ApiClient("http://b", "sst_1").identity,
        ApiClient("http://a", "sst_1", user="bob").identity,
    }
    assert len(identities) == 4  # a trailing slash is the same server
    assert not any("sst_" in i for i in identities)


def test_a_name_is_one_path_segment():
    assert segment("a/b c?d#e%") == "a%2Fb%20c%3Fd%23e%25"
    assert segment(12) == "12"


def test_requests_go_through_the_proxy_the_environment_names(server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", server.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    server.answer(ok({"via": "proxy"}))
    assert ApiClient("http://stepstore.invalid", "sst_t").get("/me") == {"via": "proxy"}
    assert server.received[0].path == "http://stepstore.invalid/me"  # a proxy gets the absolute URL
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    server.answer(ok({"via": "direct"}))
    assert ApiClient(server.url, "sst_t").get("/me") == {"via": "direct"}
    assert server.received[1].path == "/me"


def test_the_data_path_session_hides_no_retries_of_its_own(server):
    # Presigned S3 transfers count their own attempts; the session must not silently add more.
    server.answer(DROP, ok({"late": True}))
    with pytest.raises(requests.ConnectionError):
        client_module.new_session().put(f"{server.url}/bucket/key", data=b"part", timeout=10)
    assert server.methods == ["PUT"]


@pytest.fixture
def tls_server(server, tmp_path) -> Iterator[tuple[str, str]]:
    """An HTTPS server whose certificate only a private CA file vouches for: (url, CA file)."""
    import datetime
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    localhost = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stepstore test CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(localhost, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "ca.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    plain = socket.create_server(("127.0.0.1", 0))
    port = plain.getsockname()[1]
    stop = threading.Event()

    def relay() -> None:
        # Terminate TLS here and pass each request on to the scripted plain-HTTP server.
        import http.client

        plain.settimeout(0.2)
        while not stop.is_set():
            try:
                raw, _ = plain.accept()
            except TimeoutError:
                continue
            try:
                with context.wrap_socket(raw, server_side=True) as tls:
                    request = tls.recv(65536)
                    upstream = http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=10)
                    line = request.split(b"\r\n", 1)[0].decode().split()
                    upstream.request(line[0], line[1])
                    answer = upstream.getresponse()
                    body = answer.read()
                    tls.sendall(
                        f"HTTP/1.1 {answer.status} {answer.reason}\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                        + body
                    )
            except (ssl.SSLError, OSError):
                continue

    thread = threading.Thread(target=relay, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{port}", str(cert_file)
    stop.set()
    thread.join(timeout=5)
    plain.close()


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_private_ca_named_by_the_environment_is_trusted(server, tls_server, waits, monkeypatch, variable):
    url, ca_file = tls_server
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ServiceError, match="cannot reach StepStore"):
        ApiClient(url, "sst_t").get("/me")  # the certificate is not one the system trusts
    monkeypatch.setenv(variable, ca_file)
    server.answer(ok({"user": "alice"}))
    assert ApiClient(url, "sst_t").get("/me") == {"user": "alice"}
