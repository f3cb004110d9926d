"""The ``@le`` operator."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._numeric_compare import NumericComparison
from stockade.waf.operators._registry import Operator, register


class Le(NumericComparison):
    """Match when the value, read as an integer, is less than or equal to the argument.

    Argument: an integer, or a macro that expands to one.
    Example: ``@le 3`` matches ``3`` and ``-1``.
    """

    name = "le"

    def compare(self, value: int, target: int) -> bool:
        return value <= target


@register("le")
def build_le(argument: str, base_dir: Path | None) -> Operator:
    return Le(argument)
