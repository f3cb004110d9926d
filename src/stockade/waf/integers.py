"""Integers read from rule arguments and request values the way ModSecurity reads them.

A module of its own so that the compiled rule loop calls it directly (see
stockade/native.py): TX comparisons read a number at every step.
"""

from __future__ import annotations

from typing import Final

_C_WHITESPACE: Final = b" \t\n\v\f\r"
_DIGITS: Final = b"0123456789"
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_MAX_INT64_DIGITS: Final = 19  # digits in 2**63 - 1; a longer number saturates


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
