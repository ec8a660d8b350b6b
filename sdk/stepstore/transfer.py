"""Moving bytes straight to and from S3 through presigned URLs; the API only sees their metadata."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from stepstore.client import CONNECT_TIMEOUT, READ_TIMEOUT, ApiClient, new_session
from stepstore.errors import IntegrityError, ServiceError

SINGLE_PUT_MAX = 16 * 1024 * 1024
PART_SIZE = 8 * 1024 * 1024
MAX_PARTS = 10_000
PARALLEL_PARTS = 8
_ATTEMPTS = 4

_local = threading.local()


def _s3_session() -> requests.Session:
    # Presigned URLs carry their own authority: this session never holds the StepStore token.
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = new_session(pool_size=PARALLEL_PARTS)
    return session


def plan_parts(size: int) -> int | None:
    """The part size for a multipart upload of `size` bytes, or None for a single PUT."""
    if size <= SINGLE_PUT_MAX:
        return None
    part_size = PART_SIZE
    while -(-size // part_size) > MAX_PARTS:
        part_size *= 2
    return part_size


def expected_etag(payload: memoryview, part_size: int | None) -> str:
    """The ETag S3 gives the object: MD5 of the bytes, or MD5 of the parts' MD5s, '-N'."""
    if part_size is None:
        return hashlib.md5(payload, usedforsecurity=False).hexdigest()
    digests = [
        hashlib.md5(payload[offset : offset + part_size], usedforsecurity=False).digest()
        for offset in range(0, len(payload), part_size)
    ]
    return f"{hashlib.md5(b''.join(digests), usedforsecurity=False).hexdigest()}-{len(digests)}"


def upload(
    api: ApiClient,
    prefix: str,
    kind: str,
    data_format: str,
    payload: bytes,
    *,
    fields: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Upload `payload` for the resource at `prefix` and commit it; returns the committed pointer.

    `fields` go into the start request beside the size and ETag (an asset's label, say);
    `progress` is called with the number of bytes each finished PUT sent.
    """
    view = memoryview(payload)
    part_size = plan_parts(len(view))
    ticket = api.post(
        f"{prefix}/uploads",
        {
            **(fields or {}),
            "kind": kind,
            "format": data_format,
            "size": len(view),
            "etag": expected_etag(view, part_size),
            "part_size": part_size,
        },
    )
    headers = ticket.get("headers") or {}
    urls = ticket["urls"]
    if len(urls) == 1:
        _put(urls[0], view, headers, progress)
        parts: list[dict[str, Any]] = []
    else:
        size = ticket["part_size"]
        chunks = [(n, url, view[(n - 1) * size : n * size]) for n, url in enumerate(urls, start=1)]
        with ThreadPoolExecutor(max_workers=min(PARALLEL_PARTS, len(chunks))) as pool:
            etags = list(pool.map(lambda c: _put(c[1], c[2], headers, progress), chunks))
        parts = [{"part_number": n, "etag": etag} for (n, _, _), etag in zip(chunks, etags, strict=True)]
    return api.post(f"{prefix}/uploads/{ticket['upload_id']}/commit", {"parts": parts})


def _put(
    url: str, body: memoryview, headers: dict[str, str], progress: Callable[[int], None] | None = None
) -> str:
    def attempt() -> requests.Response:
        return _s3_session().put(
            url, data=body.tobytes(), headers=headers, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
        )

    etag = _with_retries("upload", attempt).headers.get("ETag", "").strip('"')
    if progress is not None:
        progress(len(body))
    return etag


def download(url: str, size: int, etag: str, *, progress: Callable[[int], None] | None = None) -> bytes:
    """The object's bytes, checked against the size and ETag its pointer recorded.

    With `progress`, the body streams in and `progress` is called with each chunk's length.
    """
    response = _with_retries(
        "download",
        lambda: _s3_session().get(url, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), stream=True),
    )
    if progress is None:
        # One read of the whole body: requests' .content would join it from 10 KB chunks.
        body = response.raw.read(decode_content=True)
    else:
        chunks = []
        for chunk in response.iter_content(chunk_size=1024 * 1024):
            chunks.append(chunk)
            progress(len(chunk))
        body = b"".join(chunks)
    got_etag = response.headers.get("ETag", "").strip('"')
    if len(body) != size or (got_etag and got_etag != etag):
        raise IntegrityError(
            f"downloaded object does not match its pointer: {len(body)} bytes with ETag {got_etag!r}, "
            f"expected {size} bytes with ETag {etag!r}"
        )
    return body


def _redacted(error: Exception) -> str:
    """The error's text with every query string (a URL's signature, credential, token) cut off."""
    return re.sub(r"\?[^\s'\")]*", "?<signed>", str(error))[:300]


def _with_retries(what: str, call: Callable[[], requests.Response]) -> requests.Response:
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            response = call()
        except requests.ConnectionError as error:
            if attempt == _ATTEMPTS:
                # Not chained: the driver's message holds the presigned URL, a bearer grant to the object.
                raise ServiceError(f"S3 {what} failed: {type(error).__name__} ({_redacted(error)})") from None
        else:
            if response.status_code < 400:
                return response
            if response.status_code not in (429, 500, 502, 503, 504) or attempt == _ATTEMPTS:
                code = re.search(r"<Code>([^<]{1,64})</Code>", response.text)
                reason = code.group(1) if code else response.reason
                raise ServiceError(f"S3 {what} failed: HTTP {response.status_code} {reason}")
        time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")
