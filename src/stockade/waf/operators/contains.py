"""The ``@contains`` operator."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._registry import Operator, register
from stockade.waf.operators._string_compare import StringComparison


class Contains(StringComparison):
    """Match when the argument occurs anywhere in the value, case-sensitively.

    An empty argument matches every value.

    Argument: a string, macros expanded.
    Example: ``@contains -->`` matches ``a --> b``.
    """

    name = "contains"

    def matches(self, value: bytes, target: bytes) -> bool:
        return target in value


@register("contains")
def build_contains(argument: str, base_dir: Path | None) -> Operator:
    return Contains(argument)
