"""The ``@endsWith`` operator."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._registry import Operator, register
from stockade.waf.operators._string_compare import StringComparison


class EndsWith(StringComparison):
    """Match when the value ends with the argument, case-sensitively.

    Argument: a string, macros expanded.
    Example: ``@endsWith .%{request_headers.host}`` matches ``a.example.test``
    when the Host header is ``example.test``.
    """

    name = "endsWith"

    def matches(self, value: bytes, target: bytes) -> bool:
        return value.endswith(target)


@register("endsWith")
def build_ends_with(argument: str, base_dir: Path | None) -> Operator:
    return EndsWith(argument)
