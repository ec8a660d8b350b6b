"""The web console's built files, served by the local gateway at its root with a strict CSP.

The console is a static single-page app (``console/`` in the repository, built into
``stepstore/console_dist``); it calls only the public API, on the same origin here.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

ASSET_PREFIX = "/_console/"  # no API route starts with it (a test checks the OpenAPI document)
_ROOT_FILES = frozenset({"/favicon.svg", "/config.json"})


def content_security_policy(storage_origins: list[str]) -> str:
    """No inline script and no eval; data comes from this origin and the object store's
    presigned URLs only (uploads, large pages, downloads). Plotly injects <style> elements,
    hence inline styles are allowed (styles cannot run code)."""
    storage = " ".join(storage_origins)
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: blob: {storage}".rstrip(),
            f"connect-src 'self' {storage}".rstrip(),
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


@dataclass(frozen=True)
class ConsoleFile:
    body: bytes
    content_type: str
    cache_control: str


class ConsoleFiles:
    """Answers GET for the console's paths: `/`, the files at its root and `/_console/*`."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else default_root()

    @property
    def built(self) -> bool:
        return (self.root / "index.html").is_file()

    @staticmethod
    def serves(path: str) -> bool:
        return path in ("/", "/index.html") or path in _ROOT_FILES or path.startswith(ASSET_PREFIX)

    def read(self, path: str) -> ConsoleFile | None:
        """The file for `path`, or None when there is none (never a file outside the build)."""
        relative = "index.html" if path in ("/", "/index.html") else path.lstrip("/")
        candidate = (self.root / relative).resolve()
        root = self.root.resolve()
        if root not in candidate.parents or not candidate.is_file():
            return None
        content_type = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in ("application/javascript", "application/json"):
            content_type += "; charset=utf-8"
        # Files under /_console/ carry a content hash in their names; the rest must be revalidated.
        immutable = path.startswith(ASSET_PREFIX)
        return ConsoleFile(
            candidate.read_bytes(),
            content_type,
            "public, max-age=31536000, immutable" if immutable else "no-cache",
        )


def default_root() -> Path:
    return Path(str(resources.files("stepstore").joinpath("console_dist")))
