"""A local stand-in for API Gateway: each HTTP request becomes the REST proxy event that the real
handlers take, after the TOKEN authorizer has allowed it (its context passed on, its answer cached)."""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import json
import logging
import socket
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from stepstore.local.console import ConsoleFiles, content_security_policy
from stepstore.local.cors import origin_headers, preflight
from stepstore_functions.models.limits import GATEWAY_MAX_BODY_BYTES

logger = logging.getLogger("stepstore.local.gateway")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

ACCOUNT = "000000000000"
API_ID = "local"
AUTHORIZER_CACHE_SECONDS = 300  # API Gateway's default authorizer result TTL
# Answers kept at most; past it, expired answers go first, then the least recently used.
AUTHORIZER_CACHE_ENTRIES = 10_000
# The methods an API Gateway `ANY` method takes; anything else is refused before the authorizer runs.
HTTP_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


@dataclass
class LambdaContext:
    """The parts of the Lambda context object that Powertools reads."""

    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    log_group_name: str = "local"
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


class LocalFunction:
    """One Lambda function: its handler runs one invocation at a time, as one execution
    environment would (Powertools keeps per-request state in module globals), signing its AWS
    requests with `credentials` (its role's, when the local stack enforces IAM)."""

    def __init__(self, name: str, handler: Handler, credentials: Any = None) -> None:
        self.name = name
        self.handler = handler
        self.credentials = credentials
        self._lock = threading.Lock()

    def invoke(self, event: dict[str, Any]) -> Any:
        from stepstore.local.iam import acting_as

        with self._lock, acting_as(self.credentials):
            return self.handler(event, LambdaContext(self.name, str(uuid.uuid4())))


class Gateway:
    def __init__(
        self,
        api: LocalFunction,
        authorizer: LocalFunction,
        public_routes: frozenset[tuple[str, str]],
        stage: str,
        region: str,
        allowed_origins: frozenset[str] = frozenset(),
        console: ConsoleFiles | None = None,
        storage_origins: list[str] | None = None,
    ) -> None:
        self.allowed_origins = allowed_origins
        self.console = console
        self.csp = content_security_policy(storage_origins or [])
        self.api = api
        self.authorizer = authorizer
        self.public_routes = public_routes
        self.stage = stage
        self.region = region
        self.cache_entries = AUTHORIZER_CACHE_ENTRIES
        self._cache: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._cache_lock = threading.Lock()

    @property
    def cached_answers(self) -> int:
        """How many authorizer answers the cache holds now (at most `cache_entries`)."""
        return len(self._cache)

    def _remember(self, header: str, expires: float, policy: dict[str, Any]) -> None:
        with self._cache_lock:
            self._cache[header] = (expires, policy)
            self._cache.move_to_end(header)
            if len(self._cache) > self.cache_entries:
                now = time.monotonic()
                for key in [k for k, (until, _) in self._cache.items() if until < now]:
                    del self._cache[key]
                while len(self._cache) > self.cache_entries:
                    self._cache.popitem(last=False)

    def forget_authorizations(self) -> None:
        """Drop every cached authorizer answer: the next request with each token is authorized afresh."""
        with self._cache_lock:
            self._cache.clear()

    def authorize(self, method: str, path: str, header: str | None) -> tuple[int, dict[str, Any] | None]:
        """(status, authorizer context): 401 without a valid token, 403 when the policy denies."""
        if not header:
            return 401, None
        method_arn = f"arn:aws:execute-api:{self.region}:{ACCOUNT}:{API_ID}/{self.stage}/{method}{path}"
        now = time.monotonic()
        with self._cache_lock:
            cached = self._cache.get(header)
            if cached is not None:
                self._cache.move_to_end(header)
        if cached is None or cached[0] < now:
            try:
                policy = self.authorizer.invoke(
                    {"type": "TOKEN", "authorizationToken": header, "methodArn": method_arn}
                )
            except Exception as error:  # the authorizer says no by raising, as in AWS
                if str(error) != "Unauthorized":
                    logger.exception("authorizer failed")
                return 401, None
            self._remember(header, now + AUTHORIZER_CACHE_SECONDS, policy)
        else:
            policy = cached[1]
        if not _allows(policy, method_arn):
            return 403, None
        return 200, {**(policy.get("context") or {}), "principalId": policy.get("principalId")}

    def event(
        self,
        method: str,
        raw_path: str,
        query: str,
        headers: dict[str, list[str]],
        body: bytes,
        source_ip: str,
        authorizer: dict[str, Any] | None,
    ) -> dict[str, Any]:
        is_text = True
        try:
            text = body.decode() if body else None
        except UnicodeDecodeError:
            text, is_text = base64.b64encode(body).decode(), False
        multi_query = parse_qs(query, keep_blank_values=True) if query else {}
        return {
            "resource": raw_path,
            "path": raw_path,
            "httpMethod": method,
            "headers": {k: v[-1] for k, v in headers.items()},
            "multiValueHeaders": headers,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": None,
            "stageVariables": None,
            "requestContext": {
                "accountId": ACCOUNT,
                "apiId": API_ID,
                "stage": self.stage,
                "httpMethod": method,
                "path": f"/{self.stage}{raw_path}",
                "resourcePath": raw_path,
                "requestId": str(uuid.uuid4()),
                "requestTimeEpoch": int(time.time() * 1000),
                "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", [""])[-1]},
                "authorizer": authorizer,
            },
            "body": text,
            "isBase64Encoded": not is_text,
        }


def _allows(policy: dict[str, Any], method_arn: str) -> bool:
    allowed = False
    for statement in policy.get("policyDocument", {}).get("Statement", []):
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if any(fnmatch.fnmatchcase(method_arn, pattern) for pattern in resources):
            if statement.get("Effect") == "Deny":
                return False
            allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _json(status: int, payload: dict[str, Any], **headers: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **headers},
        "body": json.dumps(payload),
    }


def _refusal(
    status: int, kind: str, message: str, field: str | None = None, **headers: str
) -> dict[str, Any]:
    """The gateway's own answers, in the API's error shape (as the CDK app's gateway responses are)."""
    return _json(status, {"error": kind, "message": message, "field": field}, **headers)


class _Refused(Exception):
    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__(response.get("body"))
        self.response = response


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's pooled connections expect
    server_version = "StepStoreLocalGateway"
    gateway: Gateway

    def setup(self) -> None:
        super().setup()
        # Without this a keep-alive client waits on delayed ACKs (~40 ms) for each small response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a malformed request line, headers too long) as JSON, not HTML."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self._send(_refusal(code, "bad_request", message or "bad request"), Connection="close")

    def _read_body(self) -> bytes:
        """The body, refused past API Gateway's 10 MB before it is read (never buffered whole)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        declared = self.headers.get("Content-Length")
        if not declared:
            return b""
        if not declared.strip().isdigit():
            raise _Refused(_refusal(400, "bad_request", "Content-Length is not a number", "Content-Length"))
        length = int(declared)
        if length > GATEWAY_MAX_BODY_BYTES:
            raise _Refused(_too_long())
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip() or b"x", 16)
            except ValueError:
                raise _Refused(_refusal(400, "bad_request", "malformed chunked body", "body")) from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > GATEWAY_MAX_BODY_BYTES:
                raise _Refused(_too_long())
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _handle(self) -> None:
        try:
            answer = self._answer()
            if answer is not None:  # None: answered already (a console file)
                self._send(answer)
        except _Refused as refused:  # the body was not read: this connection cannot carry another request
            self.close_connection = True
            self._send(refused.response, Connection="close")

    def _answer(self) -> dict[str, Any] | None:
        split = urlsplit(self.path)
        method = self.command
        if method not in HTTP_METHODS:
            raise _Refused(
                _refusal(
                    405,
                    "method_not_allowed",
                    f"{method[:20]} is not an HTTP method the API takes",
                    Allow=", ".join(HTTP_METHODS),
                )
            )
        body = self._read_body()
        headers: dict[str, list[str]] = {}
        for key, value in self.headers.items():
            headers.setdefault(key, []).append(value)
        if method == "OPTIONS":  # a CORS preflight: answered here, without the authorizer
            return preflight(self.headers, self.gateway.allowed_origins)
        console = self.gateway.console
        if console is not None and method in ("GET", "HEAD") and console.serves(split.path):
            self._send_console_file(split.path, head=method == "HEAD")
            return None
        public_paths = {path for _, path in self.gateway.public_routes}
        if (method, split.path) in self.gateway.public_routes:
            authorizer: dict[str, Any] | None = None
        elif split.path in public_paths:
            # A resource with its own methods and not this one: API Gateway answers for itself.
            return _refusal(403, "forbidden", "Missing Authentication Token")
        else:
            status, authorizer = self.gateway.authorize(method, split.path, self.headers.get("Authorization"))
            if status != 200:
                message = (
                    "Unauthorized" if status == 401 else "User is not authorized to access this resource"
                )
                refusal = _refusal(status, "unauthorized", message)
                origin = self.headers.get("Origin")
                refusal["headers"].update(origin_headers(origin, self.gateway.allowed_origins))
                return refusal
        event = self.gateway.event(
            method, split.path, split.query, headers, body, self.client_address[0], authorizer
        )
        try:
            response = self.gateway.api.invoke(event)
        except Exception:
            logger.exception("API function failed")
            return _refusal(502, "internal", "Internal server error")
        if (
            method == "DELETE"
            and split.path.startswith("/users/")
            and int(response.get("statusCode", 200)) < 400
        ):
            # A token was revoked or a user removed: unlike API Gateway (which keeps its answer for the
            # authorizer TTL), the local gateway forgets every cached answer, so the change holds at once.
            self.gateway.forget_authorizations()
        return response

    def _send(self, response: dict[str, Any], **extra_headers: str) -> None:
        body = response.get("body") or ""
        payload = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
        self.send_response(int(response.get("statusCode", 200)))
        sent = set()
        for key, value in {**(response.get("headers") or {}), **extra_headers}.items():
            self.send_header(key, str(value))
            sent.add(key.lower())
        for key, values in (response.get("multiValueHeaders") or {}).items():
            if key.lower() not in sent:
                for value in values:
                    self.send_header(key, str(value))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _send_console_file(self, path: str, head: bool) -> None:
        """The console's files: no token needed (they hold no data), a strict CSP on each."""
        console = self.gateway.console
        assert console is not None
        found = console.read(path)
        if found is None:
            message = (
                b"Not found.\n"
                if console.built
                else b"The web console is not built: run `make console` (needs Node 20), then restart.\n"
            )
            status, body, content_type, cache = 404, message, "text/plain; charset=utf-8", "no-cache"
        else:
            status, body, content_type, cache = 200, found.body, found.content_type, found.cache_control
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Security-Policy", self.gateway.csp)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Cache-Control", cache)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def __getattr__(self, name: str) -> Any:
        # http.server looks up do_<METHOD>; every method gets an answer (JSON), none http.server's HTML 501.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)


def _too_long() -> dict[str, Any]:
    return _refusal(
        413,
        "too_large",
        f"Request Too Long: API Gateway takes bodies up to {GATEWAY_MAX_BODY_BYTES} bytes",
        "body",
    )


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(gateway: Gateway, host: str, port: int) -> GatewayServer:
    handler = type("BoundRequestHandler", (_RequestHandler,), {"gateway": gateway})
    server = GatewayServer((host, port), handler)
    threading.Thread(target=server.serve_forever, name="stepstore-gateway", daemon=True).start()
    return server
