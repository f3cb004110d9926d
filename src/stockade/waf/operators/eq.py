"""The ``@eq`` operator."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._numeric_compare import NumericComparison
from stockade.waf.operators._registry import Operator, register


class Eq(NumericComparison):
    """Match when the value, read as an integer, equals the argument.

    Argument: an integer, or a macro that expands to one.
    Example: ``@eq 0`` matches ``0`` and also ``abc``, which reads as 0.
    """

    name = "eq"

    def compare(self, value: int, target: int) -> bool:
        return value == target


@register("eq")
def build_eq(argument: str, base_dir: Path | None) -> Operator:
    return Eq(argument)
