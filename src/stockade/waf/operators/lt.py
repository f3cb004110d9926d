"""The ``@lt`` operator."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._numeric_compare import NumericComparison
from stockade.waf.operators._registry import Operator, register


class Lt(NumericComparison):
    """Match when the value, read as an integer, is less than the argument.

    Argument: an integer, or a macro that expands to one.
    Example: ``@lt %{tx.detection_paranoia_level}`` matches ``1`` at paranoia level 2.
    """

    name = "lt"

    def compare(self, value: int, target: int) -> bool:
        return value < target


@register("lt")
def build_lt(argument: str, base_dir: Path | None) -> Operator:
    return Lt(argument)
