"""The one gate every request passes before the resolver: a body the API can read, or a 4xx.

API Gateway hands the function text bodies as they came, and bodies it took for binary base64
encoded. Either way the API takes JSON only, as UTF-8, of at most MAX_BODY_BYTES; the JSON itself
is checked where it is parsed (`models.limits.loads_bounded`, the resolver's body deserializer).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from stepstore_functions.models.errors import BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError
from stepstore_functions.models.limits import MAX_BODY_BYTES

JSON_MEDIA_TYPE = "application/json"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def header(event: dict[str, Any], name: str) -> str | None:
    """A request header by name, whatever its case."""
    wanted = name.lower()
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == wanted:
            return value
    return None


def admit(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its body as checked UTF-8 text; raises a DomainError (400, 413, 415) otherwise."""
    method = str(event.get("httpMethod") or "").upper()
    body = event.get("body")
    media_type = (header(event, "Content-Type") or "").split(";")[0].strip().lower()
    if media_type and media_type != JSON_MEDIA_TYPE and (body or method in _BODY_METHODS):
        raise UnsupportedMediaTypeError(
            f"the API takes JSON bodies: send Content-Type: {JSON_MEDIA_TYPE}, not {media_type[:100]}",
            field="Content-Type",
        )
    if not body:
        return event
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequestError("the body is marked base64 but is not", field="body") from None
    else:
        raw = body.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(
            f"the body is {len(raw)} bytes; the API takes at most {MAX_BODY_BYTES} "
            "(larger data goes to S3 through the upload routes)",
            field="body",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequestError(f"the body is not UTF-8 (byte {error.start})", field="body") from None
    return {**event, "body": text, "isBase64Encoded": False}
