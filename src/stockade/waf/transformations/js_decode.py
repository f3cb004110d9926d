"""The ``jsDecode`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._hex import hex_pair, is_hex
from stockade.waf.transformations._registry import register
from stockade.waf.transformations._scan import OCTAL_DIGITS, span_of

# Single-letter escapes that stand for a control character; any other
# escaped byte (\\, \', \", \?) stands for itself.
_CONTROL_ESCAPES = {
    ord("a"): 0x07,
    ord("b"): 0x08,
    ord("f"): 0x0C,
    ord("n"): 0x0A,
    ord("r"): 0x0D,
    ord("t"): 0x09,
    ord("v"): 0x0B,
}
_FULL_WIDTH_SHIFT = 0x20  # \uff01..\uff5e are full-width copies of ASCII 0x21..0x7e
_FULL_WIDTH_LIMIT = 0x5F
_MAX_OCTAL_DIGITS = 3
_FULL_WIDTH_HIGH = (b"ff", b"fF", b"Ff", b"FF")


def _decode_escape(value: bytes, index: int) -> tuple[int | None, int]:
    """Decode the escape whose backslash is at ``index``; return the byte and the next index."""
    length = len(value)
    after = value[index + 1] if index + 1 < length else None
    if after == ord("u") and index + 5 < length and all(map(is_hex, value[index + 2 : index + 6])):
        byte = hex_pair(value[index + 4], value[index + 5])
        if 0 < byte < _FULL_WIDTH_LIMIT and value[index + 2 : index + 4] in _FULL_WIDTH_HIGH:
            byte += _FULL_WIDTH_SHIFT
        return byte, index + 6
    if (
        after == ord("x")
        and index + 3 < length
        and is_hex(value[index + 2])
        and is_hex(value[index + 3])
    ):
        return hex_pair(value[index + 2], value[index + 3]), index + 4
    if after is None:
        return None, index + 1
    if after in OCTAL_DIGITS:
        digits_end = min(span_of(value, index + 1, OCTAL_DIGITS), index + 1 + _MAX_OCTAL_DIGITS)
        # Three digits above \377 would not fit in a byte, so only two are used.
        if digits_end - index - 1 == _MAX_OCTAL_DIGITS and after > ord("3"):
            digits_end -= 1
        return int(value[index + 1 : digits_end], 8), digits_end
    return _CONTROL_ESCAPES.get(after, after), index + 2


@register("jsDecode")
def js_decode(value: bytes) -> bytes:
    """Decode JavaScript escapes: ``\\uHHHH``, ``\\xHH``, ``\\OOO`` and ``\\C``.

    ``\\uHHHH`` keeps the low byte, except that full-width ASCII
    (``\\uff01``..``\\uff5e``) becomes its ASCII letter. Octal takes at most
    three digits, and only two when the first is above 3. ``\\a``, ``\\b``,
    ``\\f``, ``\\n``, ``\\r``, ``\\t``, ``\\v`` become control characters and
    any other escaped byte stands for itself. A backslash at the end stays.

    Argument: none.
    Example: ``t:jsDecode`` turns ``\\x3cscr\\u0069pt\\076\\'`` into ``<script>'``.
    """
    backslash = value.find(b"\\")
    if backslash < 0:
        return value
    output = bytearray(value[:backslash])
    index = backslash
    while backslash >= 0:
        output += value[index:backslash]
        byte, index = _decode_escape(value, backslash)
        if byte is None:
            output.append(ord("\\"))
        else:
            output.append(byte)
        backslash = value.find(b"\\", index)
    output += value[index:]
    return bytes(output)
