"""The ``cssDecode`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._hex import HEX_VALUE, hex_pair
from stockade.waf.transformations._registry import register
from stockade.waf.transformations._scan import HEX_DIGITS, span_of

_MAX_HEX_DIGITS = 6  # CSS escapes carry at most six hex digits
_FULL_WIDTH_SHIFT = 0x20  # U+FF01..U+FF5E are full-width copies of ASCII 0x21..0x7e
_FULL_WIDTH_LIMIT = 0x5F
_C_WHITESPACE = b" \t\n\v\f\r"  # one of these may end a hex escape and is dropped


def _hex_escape_byte(digits: bytes) -> int:
    """Return the byte a CSS hex escape of 1 to 6 digits decodes to.

    Only the last two digits count, but a code point of the form FFxx,
    written with four digits (or padded with zeros to five or six), is
    full-width ASCII and maps to its ASCII letter.
    """
    count = len(digits)
    if count == 1:
        return HEX_VALUE[digits[0]]
    byte = hex_pair(digits[-2], digits[-1])
    full_width_candidate = (
        count == 4 or (count == 5 and digits[0] == ord("0")) or (count == 6 and digits[:2] == b"00")
    )
    if (
        full_width_candidate
        and 0 < byte < _FULL_WIDTH_LIMIT
        and digits[-4:-2] in (b"ff", b"fF", b"Ff", b"FF")
    ):
        byte += _FULL_WIDTH_SHIFT
    return byte


@register("cssDecode")
def css_decode(value: bytes) -> bytes:
    """Decode CSS 2.1 escapes: ``\\`` followed by 1 to 6 hex digits, or by any byte.

    A hex escape keeps its last two digits as one byte (full-width ASCII
    becomes ASCII) and swallows one whitespace byte after it. A backslash
    before a newline, or at the end of the value, is dropped with it. Before
    any other byte it only drops the backslash. NUL bytes stay, whereas
    ModSecurity 3.0.9 cuts the value at the first NUL.

    Argument: none.
    Example: ``t:cssDecode`` turns ``j\\61 vasc\\ript\\3a`` into ``javascript:``.
    """
    backslash = value.find(b"\\")
    if backslash < 0:
        return value
    output = bytearray()
    index = 0
    length = len(value)
    while backslash >= 0:
        output += value[index:backslash]
        start = backslash + 1
        if start >= length:
            index = length
            break
        digits_end = min(span_of(value, start, HEX_DIGITS), start + _MAX_HEX_DIGITS)
        if digits_end > start:
            output.append(_hex_escape_byte(value[start:digits_end]))
            index = digits_end
            if index < length and value[index] in _C_WHITESPACE:
                index += 1
        elif value[start] == ord("\n"):
            index = start + 1
        else:
            output.append(value[start])
            index = start + 1
        backslash = value.find(b"\\", index)
    output += value[index:]
    return bytes(output)
