"""The table of transformations, keyed by SecLang name.

Each transformation module calls :func:`register` at import time. Names are
stored lowercased because SecLang matches ``t:`` names case-insensitively.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

Transformation = Callable[[bytes], bytes]

_BY_LOWER_NAME: dict[str, Transformation] = {}
_CANONICAL_NAMES: dict[str, str] = {}

MAX_SUGGESTIONS = 3  # close names listed in an unknown-name error


class UnknownTransformationError(KeyError):
    """Raised for a ``t:`` name that no transformation registered."""

    def __init__(self, name: str) -> None:
        self.name = name
        close = difflib.get_close_matches(
            name.lower(), list(_BY_LOWER_NAME), n=MAX_SUGGESTIONS, cutoff=0.6
        )
        hint = ", ".join(_CANONICAL_NAMES[lower] for lower in close)
        message = f"unknown transformation t:{name}"
        if hint:
            message += f"; did you mean {hint}?"
        else:
            message += "; see TRANSFORMATION_NAMES for the supported ones"
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def register(*names: str) -> Callable[[Transformation], Transformation]:
    """Register the decorated function under each SecLang name given."""

    def decorate(function: Transformation) -> Transformation:
        for name in names:
            lower = name.lower()
            if lower in _BY_LOWER_NAME:
                raise ValueError(f"transformation {name} is registered twice")
            _BY_LOWER_NAME[lower] = function
            _CANONICAL_NAMES[lower] = name
        return function

    return decorate


def lookup(name: str) -> Transformation:
    """Return the transformation registered as ``name``, in any letter case."""
    try:
        return _BY_LOWER_NAME[name.lower()]
    except KeyError:
        raise UnknownTransformationError(name) from None


def registered_names() -> frozenset[str]:
    """Return the canonical SecLang names of every registered transformation."""
    return frozenset(_CANONICAL_NAMES.values())
