"""The mutations that are tried: a focused subset of cosmic-ray's core operators, plus two of ours.

Cosmic-ray's full set swaps every operator for every other one (`+` for `>>`, `==` for `is`, the `|`
of a type annotation for `&`), which multiplies the mutants without testing any rule a person
wrote. The subset keeps the changes the rules are made of: a comparison moved across its boundary
or negated, `and`/`or` swapped, a condition negated, a constant moved by one, arithmetic turned
around, an `except` that no longer catches, a loop that never runs, a decorator dropped. Ours add
what the core set lacks: a `raise` deleted, and a validation constraint (`ge=`, `max_length=`,
`pattern=`, ...) dropped from a call.
"""

from __future__ import annotations

from collections.abc import Iterator

from cosmic_ray.operators.operator import Example, Operator
from cosmic_ray.operators.provider import OperatorProvider as CoreProvider
from parso.python.tree import Keyword, KeywordStatement, Name, PythonNode
from parso.python.tree import Operator as Token

_COMPARISONS = {
    "Lt": ("LtE", "GtE"),
    "LtE": ("Lt", "Gt"),
    "Gt": ("GtE", "LtE"),
    "GtE": ("Gt", "Lt"),
    "Eq": ("NotEq",),
    "NotEq": ("Eq",),
    "Is": ("IsNot",),
    "IsNot": ("Is",),
}
_ARITHMETIC = ("Add_Sub", "Sub_Add", "Mul_Div", "Div_Mul", "FloorDiv_Mul", "Pow_Mul")

CORE = (
    *(f"ReplaceComparisonOperator_{a}_{b}" for a, bs in _COMPARISONS.items() for b in bs),
    *(f"ReplaceBinaryOperator_{pair}" for pair in _ARITHMETIC),
    "ReplaceUnaryOperator_Delete_Not",
    "ReplaceUnaryOperator_USub_UAdd",
    "AddNot",
    "ReplaceTrueWithFalse",
    "ReplaceFalseWithTrue",
    "ReplaceAndWithOr",
    "ReplaceOrWithAnd",
    "ReplaceBreakWithContinue",
    "ReplaceContinueWithBreak",
    "ExceptionReplacer",
    "NumberReplacer",
    "RemoveDecorator",
    "ZeroIterationForLoop",
)

# Keyword arguments that state a validation rule (pydantic's Field and the route's Query/Path).
CONSTRAINTS = frozenset({"ge", "gt", "le", "lt", "min_length", "max_length", "pattern", "multiple_of"})


class RemoveRaise(Operator):
    """Delete a `raise` statement (it becomes `pass`): the refusal it made no longer happens."""

    def mutation_positions(self, node):
        if _is_raise(node):
            yield (node.start_pos, node.end_pos)

    def mutate(self, node, index):
        return Keyword("pass", node.start_pos, prefix=node.get_first_leaf().prefix)

    @classmethod
    def examples(cls):
        return (
            Example("if x:\n    raise ValueError('no') from None\n", "if x:\n    pass\n"),
            Example("try:\n    f()\nexcept E:\n    raise\n", "try:\n    f()\nexcept E:\n    pass\n"),
        )


def _is_raise(node) -> bool:
    if isinstance(node, KeywordStatement) and node.type == "raise_stmt":
        return True
    # A bare `raise` (re-raise) is a lone keyword, not a raise statement.
    return isinstance(node, Keyword) and node.value == "raise" and node.parent.type != "raise_stmt"


class DropConstraint(Operator):
    """Drop one constraint keyword (`ge=0`, `pattern=...`) from a call: the rule it stated is gone."""

    def mutation_positions(self, node):
        if _is_constraint(node):
            yield (node.start_pos, node.end_pos)

    def mutate(self, node, index):
        # Unpacking an empty dict stands in for the argument: the call stays well formed, commas and all.
        return Name("**{}", node.start_pos, prefix=node.get_first_leaf().prefix)

    @classmethod
    def examples(cls):
        return (
            Example("Field(default=None, ge=0, le=9)", "Field(default=None, **{}, le=9)"),
            Example("Field(default=None, ge=0, le=9)", "Field(default=None, ge=0, **{})", occurrence=1),
        )


def _is_constraint(node) -> bool:
    if not (isinstance(node, PythonNode) and node.type == "argument" and len(node.children) == 3):
        return False
    name, equals = node.children[0], node.children[1]
    return (
        isinstance(name, Name)
        and name.value in CONSTRAINTS
        and isinstance(equals, Token)
        and equals.value == "="
        and node.parent is not None
        and node.parent.type == "arglist"
    )


class FocusedCore:
    """cosmic-ray's core provider narrowed to CORE."""

    def __init__(self) -> None:
        self._core = CoreProvider()

    def __iter__(self) -> Iterator[str]:
        return iter(CORE)

    def __getitem__(self, name: str):
        return self._core[name]


class StepStoreOperators:
    """The two operators the core set lacks."""

    _operators = {"RemoveRaise": RemoveRaise, "DropConstraint": DropConstraint}

    def __iter__(self) -> Iterator[str]:
        return iter(self._operators)

    def __getitem__(self, name: str):
        return self._operators[name]


def install() -> None:
    """Make these the only operators cosmic-ray knows in this process."""
    from cosmic_ray import plugins

    plugins.OPERATOR_PROVIDERS.clear()
    plugins.OPERATOR_PROVIDERS.update({"core": FocusedCore(), "stepstore": StepStoreOperators()})
