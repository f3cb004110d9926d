"""The ``@streq`` operator."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._registry import Operator, register
from stockade.waf.operators._string_compare import StringComparison


class Streq(StringComparison):
    """Match when the value equals the argument exactly, byte for byte and in case.

    Argument: a string, macros expanded.
    Example: ``@streq POST`` matches ``POST`` but not ``post``.
    """

    name = "streq"

    def matches(self, value: bytes, target: bytes) -> bool:
        return value == target


@register("streq")
def build_streq(argument: str, base_dir: Path | None) -> Operator:
    return Streq(argument)
