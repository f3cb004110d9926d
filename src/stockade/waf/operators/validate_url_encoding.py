"""The ``@validateUrlEncoding`` operator."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._registry import Operator, OperatorContext, register

_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")


class ValidateUrlEncoding:
    """Match when the value contains an invalid ``%`` escape.

    An escape is invalid when the two bytes after ``%`` are missing or are
    not both hex digits.

    Argument: none.
    Example: ``@validateUrlEncoding`` matches ``a%2`` and ``%zz`` but not ``a%2Fb``.
    """

    name = "validateUrlEncoding"

    def evaluate(self, value: bytes, ctx: OperatorContext) -> bool:
        if b"%" not in value:
            return False
        for piece in value.split(b"%")[1:]:
            if len(piece) < 2 or piece[0] not in _HEX_DIGITS or piece[1] not in _HEX_DIGITS:
                return True
        return False


@register("validateUrlEncoding")
def build_validate_url_encoding(argument: str, base_dir: Path | None) -> Operator:
    return ValidateUrlEncoding()
