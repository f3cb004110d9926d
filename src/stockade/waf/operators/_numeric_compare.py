"""Shared shape of ``@eq``, ``@ge``, ``@gt``, ``@le`` and ``@lt``."""

from __future__ import annotations

from stockade.waf.operators._registry import OperatorContext
from stockade.waf.operators._text import MacroText

_C_WHITESPACE = b" \t\n\v\f\r"
_DIGITS = b"0123456789"
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_MAX_INT64_DIGITS = 19  # digits in 2**63 - 1; a longer number saturates


def parse_integer(text: bytes) -> int:
    """Read an integer the way C's atoll() does.

    Leading whitespace and one sign are allowed, digits are read up to the
    first other byte, text without digits is 0, and values beyond 64 bits
    saturate. So ``" 12abc"`` is 12 and ``"abc"`` is 0.
    """
    if text.isdigit() and len(text) < _MAX_INT64_DIGITS:
        return int(text)  # the usual case: a plain number that fits
    text = text.lstrip(_C_WHITESPACE)
    sign = 1
    if text[:1] in (b"-", b"+"):
        sign = -1 if text[:1] == b"-" else 1
        text = text[1:]
    digits = text[: len(text) - len(text.lstrip(_DIGITS))].lstrip(b"0")
    if not digits:
        return 0
    if len(digits) > _MAX_INT64_DIGITS:
        return _INT64_MIN if sign < 0 else _INT64_MAX
    return max(_INT64_MIN, min(_INT64_MAX, sign * int(digits)))


class NumericComparison:
    """Base of the operators that compare the value and the argument as integers.

    Both sides are read with :func:`parse_integer`, so a value that is not a
    number counts as 0. Subclasses set ``name`` and implement ``compare``.
    """

    name = ""

    def __init__(self, argument: str) -> None:
        self.argument = MacroText(argument.strip())
        constant = self.argument.constant
        self.operand = parse_integer(constant) if constant is not None else None

    def compare(self, value: int, target: int) -> bool:
        raise NotImplementedError

    def evaluate(self, value: bytes, ctx: OperatorContext) -> bool:
        operand = self.operand
        if operand is None:
            operand = parse_integer(self.argument.resolve(ctx))
        return self.compare(parse_integer(value), operand)
