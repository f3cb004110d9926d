"""The ``escapeSeqDecode`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._hex import hex_pair, is_hex
from stockade.waf.transformations._registry import register
from stockade.waf.transformations._scan import OCTAL_DIGITS, span_of

# ANSI C escapes that name one byte.
_NAMED_ESCAPES = {
    ord("a"): 0x07,
    ord("b"): 0x08,
    ord("f"): 0x0C,
    ord("n"): 0x0A,
    ord("r"): 0x0D,
    ord("t"): 0x09,
    ord("v"): 0x0B,
    ord("\\"): ord("\\"),
    ord("?"): ord("?"),
    ord("'"): ord("'"),
    ord('"'): ord('"'),
}
_MAX_OCTAL_DIGITS = 3


def _decode_escape(value: bytes, index: int) -> tuple[int, int]:
    """Decode the escape whose backslash is at ``index`` (not the last byte).

    Return the output byte and the index after the escape.
    """
    after = value[index + 1]
    named = _NAMED_ESCAPES.get(after)
    if named is not None:
        return named, index + 2
    if after in b"xX":
        if index + 3 < len(value) and is_hex(value[index + 2]) and is_hex(value[index + 3]):
            return hex_pair(value[index + 2], value[index + 3]), index + 4
    elif after in OCTAL_DIGITS:
        digits_end = min(span_of(value, index + 1, OCTAL_DIGITS), index + 1 + _MAX_OCTAL_DIGITS)
        # \400..\777 overflow a byte and keep only the low eight bits, as C does.
        return int(value[index + 1 : digits_end], 8) & 0xFF, digits_end
    # An unknown escape drops the backslash and keeps the byte after it.
    return after, index + 2


@register("escapeSeqDecode")
def escape_seq_decode(value: bytes) -> bytes:
    """Decode ANSI C escapes.

    The escapes are ``\\a \\b \\f \\n \\r \\t \\v \\\\ \\? \\' \\"``, ``\\xHH`` and
    octal ``\\OOO`` (at most three digits, keeping the low byte).

    An unknown or invalid escape drops the backslash and keeps the next byte,
    and a backslash at the end stays.

    Argument: none.
    Example: ``t:escapeSeqDecode`` turns ``\\x41\\102\\n\\q`` into ``AB\\nq`` (with a real LF).
    """
    backslash = value.find(b"\\")
    if backslash < 0:
        return value
    output = bytearray()
    index = 0
    last = len(value) - 1
    while 0 <= backslash < last:
        output += value[index:backslash]
        byte, index = _decode_escape(value, backslash)
        output.append(byte)
        backslash = value.find(b"\\", index)
    output += value[index:]
    return bytes(output)
