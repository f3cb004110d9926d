"""The ``@gt`` operator."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._numeric_compare import NumericComparison
from stockade.waf.operators._registry import Operator, register


class Gt(NumericComparison):
    """Match when the value, read as an integer, is greater than the argument.

    Argument: an integer, or a macro that expands to one.
    Example: ``@gt %{tx.arg_length}`` matches ``401`` when TX.arg_length is 400.
    """

    name = "gt"

    def compare(self, value: int, target: int) -> bool:
        return value > target


@register("gt")
def build_gt(argument: str, base_dir: Path | None) -> Operator:
    return Gt(argument)
