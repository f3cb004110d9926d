"""The ``@beginsWith`` operator."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._registry import Operator, register
from stockade.waf.operators._string_compare import StringComparison


class BeginsWith(StringComparison):
    """Match when the value starts with the argument, case-sensitively.

    Argument: a string, macros expanded.
    Example: ``@beginsWith #:~:text=`` matches ``#:~:text=hello``.
    """

    name = "beginsWith"

    def matches(self, value: bytes, target: bytes) -> bool:
        return value.startswith(target)


@register("beginsWith")
def build_begins_with(argument: str, base_dir: Path | None) -> Operator:
    return BeginsWith(argument)
