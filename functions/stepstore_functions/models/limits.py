"""What a request may carry, in one place: the API's body gate, the models and the local gateway
read their bounds from here.

Every JSON body the API takes passes `loads_bounded` before any model sees it, so that:

- it is UTF-8 and valid JSON (no NaN or Infinity, which are not JSON and which other clients,
  such as a browser's JSON.parse, cannot read back);
- it nests at most MAX_JSON_DEPTH containers deep (Python's parsers and encoders recurse);
- every string, key included, is valid Unicode (no lone surrogates: DynamoDB, S3 metadata and
  UTF-8 encoders refuse them, deep inside a transaction);
- every number is one DynamoDB can store: at most 38 significant digits, and zero or of magnitude
  1e-130 to 9.99...e125.

Values that are stored as JSON text and given back as text (an output's inline `value_json`) are
parsed with ``dynamodb_numbers=False``: any finite or non-finite float Python gives back exactly,
and integers up to Python's own 4,300-digit parsing limit.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator

from stepstore_functions.models.errors import BadRequestError, InvalidInputError

# API Gateway refuses request bodies over 10 MB (the local gateway does the same).
GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024
# The largest body any route needs: an inline page (200 KiB) with its element heads (180 KiB), with room.
# Larger payloads go to S3 through presigned URLs, never through the API.
MAX_BODY_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 64
# DynamoDB numbers: up to 38 significant digits, zero or of magnitude 1e-130 to 9.99...e125.
DYNAMODB_MAX_DIGITS = 38
DYNAMODB_MIN_MAGNITUDE = Decimal("1e-130")
DYNAMODB_MAX_MAGNITUDE = Decimal("9.9999999999999999999999999999999999999e125")
# Python refuses to parse longer integer literals (sys.get_int_max_str_digits()); refused by name first.
PYTHON_MAX_INT_DIGITS = 4300

_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_INT = 10**DYNAMODB_MAX_DIGITS


def _where(path: list[str | int], field: str) -> str:
    """`field` and the path inside it; a body's own fields are named bare, as the models name them."""
    if not path:
        return field
    inner = ".".join(map(str, path))
    return inner if field == "body" else f"{field}.{inner}"


def dynamodb_number_problem(value: float | int | Decimal) -> str | None:
    """Why DynamoDB could not store `value` as a number, or None if it can."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if -_MAX_INT < value < _MAX_INT else f"has more than {DYNAMODB_MAX_DIGITS} digits"
    if isinstance(value, float) and not math.isfinite(value):
        return "is not a finite number"
    # A float reaches DynamoDB as its shortest repr ("1e+126"), so that is what must fit.
    magnitude = abs(value) if isinstance(value, Decimal) else abs(Decimal(repr(float(value))))
    if magnitude == 0:
        return None
    if magnitude < DYNAMODB_MIN_MAGNITUDE:
        return "is too small to store (numbers are zero or at least 1e-130 in magnitude)"
    if magnitude > DYNAMODB_MAX_MAGNITUDE:
        return "is too large to store (numbers are at most 9.99e125 in magnitude)"
    return None


def _check_dynamodb_number(value: float) -> float:
    problem = dynamodb_number_problem(value)
    if problem:
        raise ValueError(f"the number {problem}")
    return value


# A float field whose value is stored as a DynamoDB number (use it on every such field of a request model).
DynamoFloat = Annotated[float, AfterValidator(_check_dynamodb_number)]


def _parse_int(literal: str, field: str) -> int:
    digits = len(literal.lstrip("-"))
    if digits > PYTHON_MAX_INT_DIGITS:
        raise BadRequestError(
            f"{field} holds an integer of {digits} digits; the limit is {PYTHON_MAX_INT_DIGITS}", field=field
        )
    return int(literal)


def _refuse_constant(name: str, field: str) -> Any:
    raise BadRequestError(f"{field} holds {name}, which is not JSON; send a finite number", field=field)


def loads_bounded(
    text: str | bytes,
    field: str = "body",
    *,
    dynamodb_numbers: bool = True,
    error: type[BadRequestError] | type[InvalidInputError] = BadRequestError,
) -> Any:
    """Parse JSON that a caller sent, refusing what StepStore cannot store or parse safely.

    Raises `error` (400 by default) naming `field` (and the path inside it) and what was wrong.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as problem:
            raise error(f"{field} is not UTF-8 (byte {problem.start})", field=field) from None
    hooks: dict[str, Any] = {"parse_int": lambda literal: _parse_int(literal, field)}
    if dynamodb_numbers:
        hooks["parse_constant"] = lambda name: _refuse_constant(name, field)
    try:
        value = json.loads(text, **hooks)
    except RecursionError:
        raise error(f"{field} nests deeper than {MAX_JSON_DEPTH} levels", field=field) from None
    except BadRequestError as problem:
        raise error(str(problem), field=field) from None
    except ValueError as problem:  # JSONDecodeError
        raise error(f"{field} is not valid JSON: {problem}", field=field) from None
    _check_tree(value, field, dynamodb_numbers, error)
    return value


def _check_tree(
    value: Any,
    field: str,
    dynamodb_numbers: bool,
    error: type[BadRequestError] | type[InvalidInputError],
) -> None:
    """Depth, strings and numbers of a parsed JSON value, without recursion."""
    stack: list[tuple[Any, list[str | int]]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        kind = type(item)
        if kind is str:
            if not item.isascii() and _SURROGATE.search(item):
                where = _where(path, field)
                raise error(f"{where} is not valid Unicode (it holds a lone surrogate)", field=where)
            continue
        if kind is dict or kind is list:
            if len(path) >= MAX_JSON_DEPTH:
                raise error(f"{field} nests deeper than {MAX_JSON_DEPTH} levels", field=field)
            if kind is dict:
                for key, child in item.items():
                    if not key.isascii() and _SURROGATE.search(key):
                        where = _where(path, field)
                        raise error(f"a key in {where} is not valid Unicode", field=where)
                    stack.append((child, [*path, key]))
            else:
                stack.extend((child, [*path, index]) for index, child in enumerate(item))
            continue
        if dynamodb_numbers and (kind is int or kind is float):
            problem = dynamodb_number_problem(item)
            if problem:
                where = _where(path, field)
                raise error(f"{where} {problem}", field=where)
