"""The ``@strmatch`` operator."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._registry import Operator, register
from stockade.waf.operators._string_compare import StringComparison


class Strmatch(StringComparison):
    """Match when the argument occurs anywhere in the value, case-sensitively.

    ModSecurity implements it with Boyer-Moore-Horspool; the result is the
    same as ``@contains``.

    Argument: a string, macros expanded.
    Example: ``@strmatch WebZIP`` matches ``Mozilla/4.0 (compatible; WebZIP)``.
    """

    name = "strmatch"

    def matches(self, value: bytes, target: bytes) -> bool:
        return target in value


@register("strmatch")
def build_strmatch(argument: str, base_dir: Path | None) -> Operator:
    return Strmatch(argument)
