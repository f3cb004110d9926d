"""The ``@validateUtf8Encoding`` operator."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._registry import Operator, OperatorContext, register


class ValidateUtf8Encoding:
    """Match when the value is not valid UTF-8.

    Truncated and broken sequences, overlong forms, surrogates (U+D800 to
    U+DFFF) and code points above U+10FFFF are invalid, as RFC 3629 defines.

    Argument: none.
    Example: ``@validateUtf8Encoding`` matches ``\\xc0\\xaf`` (an overlong ``/``)
    but not ``caf\\xc3\\xa9``.
    """

    name = "validateUtf8Encoding"

    def evaluate(self, value: bytes, ctx: OperatorContext) -> bool:
        if value.isascii():
            return False
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            return True
        return False


@register("validateUtf8Encoding")
def build_validate_utf8_encoding(argument: str, base_dir: Path | None) -> Operator:
    return ValidateUtf8Encoding()
