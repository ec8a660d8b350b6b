"""Setting process environment variables for a while, and putting back what was there."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


class EnvironmentPatch:
    """Variables set in os.environ, remembered so that `restore` puts back what was there before."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def set(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def restore(self) -> None:
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved.clear()


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """`values` in os.environ for the duration of the block."""
    patch = EnvironmentPatch()
    patch.set(values)
    try:
        yield
    finally:
        patch.restore()
