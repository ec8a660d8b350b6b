"""Domain errors. The API maps each kind to one HTTP status in one place (handlers/api.py)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the logic raises on purpose; its message is safe to show the caller."""

    status_code = 400
    kind = "error"


class NotFoundError(DomainError):
    status_code = 404
    kind = "not_found"


class PendingInputError(NotFoundError):
    """The input is a DataSource file that its step's action took but nothing has parsed yet; the SDK
    (which has pandas, unlike the API) parses it and reads again."""

    kind = "pending_input"


class ConflictError(DomainError):
    status_code = 409
    kind = "conflict"


class ForbiddenError(DomainError):
    status_code = 403
    kind = "forbidden"


class InvalidInputError(DomainError):
    status_code = 422
    kind = "invalid"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
