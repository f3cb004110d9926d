"""The ``@ge`` operator."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._numeric_compare import NumericComparison
from stockade.waf.operators._registry import Operator, register


class Ge(NumericComparison):
    """Match when the value, read as an integer, is greater than or equal to the argument.

    Argument: an integer, or a macro that expands to one.
    Example: ``@ge 5`` matches ``5`` and ``12``.
    """

    name = "ge"

    def compare(self, value: int, target: int) -> bool:
        return value >= target


@register("ge")
def build_ge(argument: str, base_dir: Path | None) -> Operator:
    return Ge(argument)
