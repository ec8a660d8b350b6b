"""The one HTTP client: connection reuse, timeouts, bounded retries, typed errors."""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from stepstore.errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    ServiceError,
    StepStoreError,
)

API_URL_ENV = "STEPSTORE_API_URL"
TOKEN_ENV = "STEPSTORE_TOKEN"
ACT_AS_HEADER = "X-StepStore-User"

# Items asked for per page when following a list route's cursors (the most the API gives at once).
PAGE = 1000

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 60.0
_TIMEOUT = urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT)
MAX_ATTEMPTS = 5
_IDEMPOTENT = frozenset({"GET", "PUT", "DELETE", "HEAD"})
_RETRY_ANY_METHOD = frozenset({429, 503})  # throttled or refused before the work was done
_RETRY_IDEMPOTENT = frozenset({500, 502, 504})

_ERRORS_BY_STATUS: dict[int, type[StepStoreError]] = {
    400: InvalidInputError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: InvalidInputError,
}


def segment(name: str) -> str:
    """A name as one URL path segment."""
    return quote(str(name), safe="")


def new_session(pool_size: int = 16) -> requests.Session:
    """A requests session for the data path (presigned S3 URLs): pooled, no retries of its own."""
    session = requests.Session()
    adapter = HTTPAdapter(
        pool_connections=4,
        pool_maxsize=pool_size,
        max_retries=0,  # the transfer module retries each part itself, counted and with backoff
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _pool_for(url: str, pool_size: int) -> urllib3.PoolManager:
    """A connection pool for `url`, through the proxy the environment names for it (if any).

    Proxy and CA settings are read once here: requests would read them on every call, which on
    small metadata round trips costs as much as the server's own work.
    """
    options: dict[str, Any] = {"maxsize": pool_size, "retries": False}
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if ca_bundle:
        options["ca_certs"] = ca_bundle
    proxy = requests.utils.get_environ_proxies(url).get(urlsplit(url).scheme)  # honours NO_PROXY
    return urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options)


class ApiClient:
    """Calls the StepStore API as one user. Reuses connections; safe to share between threads."""

    def __init__(self, api_url: str, token: str, user: str | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self.user = user
        self._pool = _pool_for(self.api_url, pool_size=16)
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": "stepstore-sdk",
        }
        if user:
            self._headers[ACT_AS_HEADER] = user
        # Who calls, for caches keyed by caller: a digest, never the token itself.
        self.identity = f"{self.api_url}|{hashlib.sha256(token.encode()).hexdigest()[:16]}|{user or ''}"
        self._caller: str | None = user

    def caller(self) -> str:
        """The user this client acts for: the one it was given, or the token's (asked once)."""
        if self._caller is None:
            self._caller = self.get("/me")["user"]
        return self._caller

    @classmethod
    def from_environment(cls, user: str | None = None) -> ApiClient:
        api_url = os.environ.get(API_URL_ENV)
        token = os.environ.get(TOKEN_ENV)
        if not api_url or not token:
            missing = [n for n, v in ((API_URL_ENV, api_url), (TOKEN_ENV, token)) if not v]
            raise ConfigurationError(
                f"{' and '.join(missing)} not set: StepStore needs the API address and a token "
                "(run `stepstore local up` for a local stack)"
            )
        return cls(api_url, token, user)

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def pages(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Each page of a list route, following its `next` cursor until the last page."""
        cursor = None
        while True:
            body = self.get(path, **params, cursor=cursor)
            yield body
            cursor = body.get("next")
            if not cursor:
                return

    def get_all(self, path: str, key: str, **params: Any) -> Any:
        """Every item of a list route: the `key` lists (or mappings) of all its pages, joined."""
        joined: Any = None
        for body in self.pages(path, **params):
            part = body[key]
            if joined is None:
                joined = type(part)()
            if isinstance(part, dict):
                joined.update(part)
            else:
                joined.extend(part)
        return joined

    def put(self, path: str, body: Any = None) -> Any:
        return self.request("PUT", path, body=body)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, body=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def request(self, method: str, path: str, *, body: Any = None, params: dict | None = None) -> Any:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        url = self.api_url + path + (f"?{urlencode(query, doseq=True)}" if query else "")
        payload = json.dumps(body).encode() if body is not None else None
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                response = self._pool.request(
                    method, url, body=payload, headers=self._headers, timeout=_TIMEOUT
                )
            except urllib3.exceptions.HTTPError as error:  # could not connect, or the connection broke
                if method not in _IDEMPOTENT or attempt == MAX_ATTEMPTS:
                    raise ServiceError(
                        f"{method} {path}: cannot reach StepStore at {self.api_url}: {error}"
                    ) from error
                _backoff(attempt, None)
                continue
            if response.status < 400:
                return json.loads(response.data) if response.data else None
            retryable = response.status in _RETRY_ANY_METHOD or (
                response.status in _RETRY_IDEMPOTENT and method in _IDEMPOTENT
            )
            if retryable and attempt < MAX_ATTEMPTS:
                _backoff(attempt, response.headers.get("Retry-After"))
                continue
            raise _error(method, path, response.status, response.reason, response.data)
        raise AssertionError("unreachable")


def _backoff(attempt: int, retry_after: str | None) -> None:
    if retry_after and retry_after.isdigit():
        delay = min(float(retry_after), 10.0)
    else:
        delay = min(0.05 * 2**attempt, 2.0) * (0.5 + random.random())  # full jitter around the bound
    time.sleep(delay)


def _error(method: str, path: str, status: int, reason: str | None, data: bytes) -> StepStoreError:
    try:
        payload = json.loads(data) if data else {}
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    message = payload.get("message") or reason or "request failed"
    kind = _ERRORS_BY_STATUS.get(status, ServiceError)
    return kind(
        f"{message} ({method} {path}: {status})",
        status=status,
        field=payload.get("field"),
        code=payload.get("error"),
    )
