"""The one HTTP client: connection reuse, timeouts, bounded retries, typed errors."""

from __future__ import annotations

import os
import random
import time
from typing import Any
from urllib.parse import quote

import requests
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

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 60.0
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
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def settle_environment(session: requests.Session, url: str) -> None:
    """Resolve proxy and CA settings for `url` once, instead of on every request.

    requests otherwise scans the whole environment per call, a measurable share of a small round trip.
    """
    session.proxies.update(requests.utils.get_environ_proxies(url))  # honours NO_PROXY for this host
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if ca_bundle:
        session.verify = ca_bundle
    session.trust_env = False


class ApiClient:
    """Calls the StepStore API as one user. Reuses connections; safe to share between threads."""

    def __init__(self, api_url: str, token: str, user: str | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self.user = user
        self._session = new_session()
        settle_environment(self._session, self.api_url)
        self._session.headers["Authorization"] = f"Bearer {token}"
        if user:
            self._session.headers[ACT_AS_HEADER] = user

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

    def put(self, path: str, body: Any = None) -> Any:
        return self.request("PUT", path, body=body)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, body=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def request(self, method: str, path: str, *, body: Any = None, params: dict | None = None) -> Any:
        url = self.api_url + path
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                response = self._session.request(
                    method, url, json=body, params=params, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
                )
            except requests.ConnectionError as error:
                if method not in _IDEMPOTENT or attempt == MAX_ATTEMPTS:
                    raise ServiceError(
                        f"{method} {path}: cannot reach StepStore at {self.api_url}: {error}"
                    ) from error
                _backoff(attempt, None)
                continue
            if response.status_code < 400:
                return response.json() if response.content else None
            retryable = response.status_code in _RETRY_ANY_METHOD or (
                response.status_code in _RETRY_IDEMPOTENT and method in _IDEMPOTENT
            )
            if retryable and attempt < MAX_ATTEMPTS:
                _backoff(attempt, response.headers.get("Retry-After"))
                continue
            raise _error(method, path, response)
        raise AssertionError("unreachable")


def _backoff(attempt: int, retry_after: str | None) -> None:
    if retry_after and retry_after.isdigit():
        delay = min(float(retry_after), 10.0)
    else:
        delay = min(0.05 * 2**attempt, 2.0) * (0.5 + random.random())  # full jitter around the bound
    time.sleep(delay)


def _error(method: str, path: str, response: requests.Response) -> StepStoreError:
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    message = payload.get("message") or response.reason or "request failed"
    kind = _ERRORS_BY_STATUS.get(response.status_code, ServiceError)
    return kind(
        f"{message} ({method} {path}: {response.status_code})",
        status=response.status_code,
        field=payload.get("field"),
    )
