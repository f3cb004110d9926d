"""Operator protocols, the error type and the table of operators by SecLang name."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

MAX_SUGGESTIONS = 3  # close names listed in an unknown-operator error
MAX_ARGUMENT_IN_ERROR = 200  # characters of an argument quoted in an error message


class OperatorContext(Protocol):
    """The part of the running transaction that an operator may use."""

    capture: bool
    """True when the rule has the ``capture`` action."""

    def set_captures(self, groups: list[bytes]) -> None:
        """Store ``groups`` as TX.0, TX.1, ... (at most TX.9)."""

    def expand_macros(self, text: str) -> str:
        """Expand ``%{...}`` references in ``text``."""


class Operator(Protocol):
    """A compiled ``@name argument``; ``evaluate`` ignores the rule's ``!`` negation."""

    name: str

    def evaluate(self, value: bytes, ctx: OperatorContext) -> bool:
        """Return True when ``value`` matches."""


OperatorFactory = Callable[[str, "Path | None"], Operator]


class OperatorError(ValueError):
    """Raised when an operator cannot be built from its argument."""

    def __init__(self, operator: str, argument: str, reason: str) -> None:
        self.operator = operator
        self.argument = argument
        self.reason = reason
        quoted = argument
        if len(quoted) > MAX_ARGUMENT_IN_ERROR:
            quoted = quoted[:MAX_ARGUMENT_IN_ERROR] + "..."
        super().__init__(f"@{operator} {quoted!r}: {reason}")


_FACTORIES: dict[str, OperatorFactory] = {}
_CANONICAL_NAMES: dict[str, str] = {}


def register(*names: str) -> Callable[[OperatorFactory], OperatorFactory]:
    """Register the decorated factory under each SecLang operator name given."""

    def decorate(factory: OperatorFactory) -> OperatorFactory:
        for name in names:
            lower = name.lower()
            if lower in _FACTORIES:
                raise ValueError(f"operator @{name} is registered twice")
            _FACTORIES[lower] = factory
            _CANONICAL_NAMES[lower] = name
        return factory

    return decorate


def factory_for(name: str, argument: str) -> OperatorFactory:
    """Return the factory registered as ``name`` in any letter case, or raise OperatorError."""
    factory = _FACTORIES.get(name.lower())
    if factory is not None:
        return factory
    close = difflib.get_close_matches(name.lower(), list(_FACTORIES), n=MAX_SUGGESTIONS)
    if close:
        hint = "did you mean " + ", ".join("@" + _CANONICAL_NAMES[item] for item in close) + "?"
    else:
        hint = "see OPERATOR_NAMES for the supported operators"
    raise OperatorError(name, argument, f"unknown operator; {hint}")


def registered_names() -> frozenset[str]:
    """Return the canonical SecLang names of every registered operator."""
    return frozenset(_CANONICAL_NAMES.values())
