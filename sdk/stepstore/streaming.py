"""Uploads of bytes that are produced on the way (a DataFrame being written as Parquet).

Both kinds declare the size and ETag at commit, once known, so that no pass over the bytes
stands between producing them and sending them:

- `upload_produced` (most frames): the upload is opened while the bytes are produced, then one
  PUT goes out while the ETag is hashed beside it.
- `upload_stream` (very large frames): the bytes are cut into multipart parts that go to S3 on
  worker threads as soon as each is full, so the whole file is never held in memory and the
  upload ends shortly after the last row group is encoded.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, Any

from stepstore.client import ApiClient
from stepstore.transfer import PART_SIZE, _s3_session, _with_retries

IN_FLIGHT_PARTS = 4
URL_BATCH = 16


class PartSink:
    """A write-only file whose bytes leave as numbered multipart parts, a few in flight at a time."""

    def __init__(self, api: ApiClient, prefix: str, ticket: dict[str, Any], part_size: int) -> None:
        self._api = api
        self._prefix = prefix
        self._upload_id = ticket["upload_id"]
        self._urls: list[str] = list(ticket["urls"])
        self._part_size = part_size
        self._buffer = bytearray()
        self._size = 0
        self._futures: list[Future[tuple[str, bytes]]] = []
        self._slots = threading.BoundedSemaphore(IN_FLIGHT_PARTS)
        self._pool = ThreadPoolExecutor(max_workers=IN_FLIGHT_PARTS, thread_name_prefix="stepstore-part")
        self.closed = False

    # The file protocol pyarrow needs.
    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._size

    def flush(self) -> None:
        pass

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._buffer += view
        self._size += len(view)
        while len(self._buffer) >= self._part_size:
            self._send(bytes(self._buffer[: self._part_size]))
            del self._buffer[: self._part_size]
        return len(view)

    def close(self) -> None:
        self.closed = True

    def _url(self, number: int) -> str:
        while number > len(self._urls):
            more = self._api.post(
                f"{self._prefix}/uploads/{self._upload_id}/parts",
                {"first": len(self._urls) + 1, "count": URL_BATCH},
            )
            self._urls.extend(more["urls"])
        return self._urls[number - 1]

    def _send(self, part: bytes) -> None:
        url = self._url(len(self._futures) + 1)
        self._slots.acquire()  # bounds memory: at most IN_FLIGHT_PARTS parts wait or travel
        try:
            future = self._pool.submit(_put_part, url, part)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())
        self._futures.append(future)

    def commit(self) -> dict[str, Any]:
        """Send the last part, wait for all of them, and commit with the size and ETag they make."""
        try:
            if self._buffer or not self._futures:
                self._send(bytes(self._buffer))
                self._buffer.clear()
            results = [f.result() for f in self._futures]
        finally:
            self._pool.shutdown(wait=True)
        digests = b"".join(digest for _, digest in results)
        etag = f"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(results)}"
        parts = [{"part_number": n, "etag": part_etag} for n, (part_etag, _) in enumerate(results, start=1)]
        return self._api.post(
            f"{self._prefix}/uploads/{self._upload_id}/commit",
            {"parts": parts, "size": self._size, "etag": etag},
        )

    def abort(self) -> None:
        for future in self._futures:
            future.cancel()
        self._pool.shutdown(wait=True)


def _md5_hex(data: memoryview) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _put_part(url: str, part: bytes) -> tuple[str, bytes]:
    digest = hashlib.md5(part, usedforsecurity=False).digest()  # hashed here, beside the upload
    response = _with_retries("upload", lambda: _s3_session().put(url, data=part, timeout=(5.0, 120.0)))
    return response.headers.get("ETag", "").strip('"'), digest


# Frames larger than this in memory stream into a multipart upload as they are encoded; smaller
# ones go in one PUT, which a single S3 connection sends about as fast and with fewer requests.
STREAM_ABOVE_BYTES = 256 * 1024 * 1024


def upload_produced(
    api: ApiClient,
    prefix: str,
    kind: str,
    data_format: str,
    produce: Callable[[IO[bytes]], None],
    *,
    fields: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Upload what `produce` writes (held in memory) with one PUT, and commit it.

    `fields` go into the start request beside the kind and format (an asset's label, say);
    `progress` hears the number of bytes once the PUT is done. If `produce` raises, nothing was
    uploaded and nothing is committed.
    """
    start = {**(fields or {}), "kind": kind, "format": data_format}
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="stepstore-upload") as pool:
        opening = pool.submit(api.post, f"{prefix}/uploads", start)
        sink = io.BytesIO()
        try:
            produce(sink)
        finally:
            ticket = opening.result()
        payload = sink.getbuffer()
        hashing = pool.submit(_md5_hex, payload)
        url, headers = ticket["urls"][0], ticket.get("headers") or {}
        _with_retries(
            "upload",
            lambda: _s3_session().put(url, data=sink.getvalue(), headers=headers, timeout=(5.0, 300.0)),
        )
        etag = hashing.result()
    size = len(payload)
    if progress is not None:
        progress(size)
    del payload  # releases the buffer export before the BytesIO goes
    return api.post(
        f"{prefix}/uploads/{ticket['upload_id']}/commit", {"parts": [], "size": size, "etag": etag}
    )


def upload_stream(
    api: ApiClient,
    prefix: str,
    kind: str,
    data_format: str,
    produce: Callable[[IO[bytes]], None],
    size_hint: int,
    part_size: int = PART_SIZE,
    *,
    fields: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Upload what `produce` writes to the file it is given, committing when it returns.

    If `produce` raises, nothing is committed: the upload's parts are never assembled, and the
    bucket's lifecycle rule removes them. `fields` go into the start request (an asset's label, say).
    """
    initial = max(1, min(URL_BATCH * 4, -(-size_hint // part_size)))
    ticket = api.post(
        f"{prefix}/uploads",
        {
            **(fields or {}),
            "kind": kind,
            "format": data_format,
            "part_size": part_size,
            "part_count": initial,
        },
    )
    sink = PartSink(api, prefix, ticket, part_size)
    try:
        produce(sink)  # type: ignore[arg-type]
    except BaseException:
        sink.abort()
        raise
    return sink.commit()
