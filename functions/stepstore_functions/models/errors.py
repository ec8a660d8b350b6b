"""Domain errors. The API maps each kind to one HTTP status in one place (handlers/api.py), in the one
error shape ``{"error": kind, "message": ..., "field": name or null}``."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the logic raises on purpose; its message is safe to show the caller.

    `field` names the request field (or path inside the body) that was wrong, when one was.
    """

    status_code = 400
    kind = "error"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class BadRequestError(DomainError):
    """The request itself cannot be read: not UTF-8, not JSON, nested too deeply, a number or string
    that cannot be stored."""

    status_code = 400
    kind = "bad_request"


class NotFoundError(DomainError):
    status_code = 404
    kind = "not_found"


class PendingInputError(NotFoundError):
    """The input is a DataSource file that its step's action took but nothing has parsed yet; the SDK
    (which has pandas, unlike the API) parses it and reads again."""

    kind = "pending_input"


class MethodNotAllowedError(DomainError):
    """The path exists, but not with this method; `allowed` lists the methods it has."""

    status_code = 405
    kind = "method_not_allowed"

    def __init__(self, message: str, allowed: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.allowed = allowed


class ConflictError(DomainError):
    status_code = 409
    kind = "conflict"


class ForbiddenError(DomainError):
    status_code = 403
    kind = "forbidden"


class PayloadTooLargeError(DomainError):
    status_code = 413
    kind = "too_large"


class UnsupportedMediaTypeError(DomainError):
    status_code = 415
    kind = "unsupported_media_type"


class InvalidInputError(DomainError):
    status_code = 422
    kind = "invalid"


class UnauthorizedError(DomainError):
    """The token is no longer good (it expired after the authorizer's answer was cached)."""

    status_code = 401
    kind = "unauthorized"
