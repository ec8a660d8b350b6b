"""The request limits in one place: JSON bodies, DynamoDB numbers, and the models that store numbers."""

from __future__ import annotations

import importlib
import pkgutil
import typing

import pytest
from pydantic import BaseModel

import stepstore_functions.models as models_package
from stepstore_functions.models.errors import BadRequestError, InvalidInputError
from stepstore_functions.models.limits import MAX_JSON_DEPTH, dynamodb_number_problem, loads_bounded


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (0, True),
        (0.0, True),
        (1e-130, True),
        (1e-131, False),
        (-1e-200, False),
        (9.9e125, True),
        (1e126, False),
        (10**38 - 1, True),
        (10**38, False),
        (float("nan"), False),
        (float("inf"), False),
        (True, True),
    ],
)
def test_dynamodb_numbers(value, ok):
    assert (dynamodb_number_problem(value) is None) is ok


def test_a_body_nested_to_the_limit_parses_and_one_level_more_is_refused():
    assert loads_bounded("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) is not None
    with pytest.raises(BadRequestError, match="nests deeper"):
        loads_bounded("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))


def test_problems_inside_a_body_name_their_path():
    with pytest.raises(BadRequestError) as caught:
        loads_bounded('{"page": {"sections": [{"title": "\\udc00"}]}}')
    assert caught.value.field == "page.sections.0.title"
    with pytest.raises(BadRequestError) as caught:
        loads_bounded('{"metadata": {"auc": 1e400}}')
    assert caught.value.field == "metadata.auc"
    with pytest.raises(BadRequestError, match="Infinity"):
        loads_bounded('{"a": -Infinity}')
    with pytest.raises(BadRequestError, match="not UTF-8"):
        loads_bounded(b'{"a": "\xc3"}')


def test_values_kept_as_text_take_any_python_number_but_not_unbounded_nesting():
    assert loads_bounded("[1e-300, NaN, 123456789012345678901234567890123456789012]", dynamodb_numbers=False)
    with pytest.raises(InvalidInputError):
        loads_bounded("[" * 5000, "value_json", dynamodb_numbers=False, error=InvalidInputError)


def _request_models() -> list[type[BaseModel]]:
    found = []
    for module_info in pkgutil.iter_modules(models_package.__path__):
        module = importlib.import_module(f"{models_package.__name__}.{module_info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return found


def test_every_float_a_request_model_takes_is_one_dynamodb_can_store():
    """A float field without the DynamoDB bound is how completion=1e-200 once got stored."""
    unbounded = []
    for model in _request_models():
        for name, field in model.model_fields.items():
            if typing.get_origin(field.annotation) is None and field.annotation is float:
                checks = [getattr(m, "func", None) for m in field.metadata]
                if not any(getattr(c, "__name__", "") == "_check_dynamodb_number" for c in checks):
                    unbounded.append(f"{model.__name__}.{name}")
    # Response models carry floats the API produced itself (already stored); request models may not.
    responses = {"StepOut.progress"}
    assert sorted(set(unbounded) - responses) == []
