"""Exceptions the SDK raises, by kind. Each says what was asked and why it failed."""

from __future__ import annotations


class StepStoreError(Exception):
    """Base of every StepStore error."""

    def __init__(
        self, message: str, *, status: int | None = None, field: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.field = field
        self.code = code  # the API's error kind, e.g. "not_found" or "pending_input"


class NotFoundError(StepStoreError, ValueError):
    """What was asked for does not exist, or is not visible to the caller."""


class ConflictError(StepStoreError, ValueError):
    """The write would clobber something that exists (or lost a race to it)."""


class InvalidInputError(StepStoreError, ValueError):
    """A name, value or data type the store cannot take."""


class ForbiddenError(StepStoreError, PermissionError):
    """The caller's token may not do this."""


class AuthenticationError(StepStoreError, PermissionError):
    """No token, or one the store does not know."""


class ServiceError(StepStoreError):
    """The store failed or kept throttling after the client's retries."""


class IntegrityError(StepStoreError):
    """Bytes that came back are not the bytes that were stored."""


class ConfigurationError(StepStoreError, ValueError):
    """The environment does not say where the store is or who the caller is."""


class UploadLimitError(InvalidInputError):
    """An uploaded file would decode past a limit (bytes, rows, nesting); it names the file and the limit."""
