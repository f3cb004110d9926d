"""The ``utf8toUnicode`` transformation."""

from __future__ import annotations

import codecs

from stockade.waf.transformations._registry import register

_ERROR_HANDLER = "stockade-percent-u"


def _percent_u(code_point: int) -> bytes:
    """Write a code point as ``%u`` and at least four lowercase hex digits."""
    return b"%%u%04x" % code_point


def _percent_u_errors(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler that writes each non-ASCII character as ``%uXXXX``."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start : error.end]
    return "".join(f"%u{ord(char):04x}" for char in text), error.end


codecs.register_error(_ERROR_HANDLER, _percent_u_errors)

# Lead byte of a multi-byte sequence -> (sequence length, payload bit mask).
_LEADS = (
    (0xE0, 0xC0, 2, 0x1F),
    (0xF0, 0xE0, 3, 0x0F),
    (0xF8, 0xF0, 4, 0x07),
)
_MIN_CODE_POINT = {2: 0x80, 3: 0x800, 4: 0x10000}  # smaller values are overlong
_SURROGATES = range(0xD800, 0xE000)
_FIRST_INVALID_4_BYTE_LEAD = 0xF5  # leads from 0xF5 give code points above U+10FFFF


def _sequence_length(lead: int) -> tuple[int, int]:
    for mask, pattern, length, payload in _LEADS:
        if lead & mask == pattern:
            return length, payload
    return 1, 0


def _convert_slowly(value: bytes) -> bytes:
    """Convert byte by byte, reproducing ModSecurity's handling of invalid input."""
    output = bytearray()
    index = 0
    total = len(value)
    while index < total:
        lead = value[index]
        if lead == 0:
            # ModSecurity works on a C string here and loses NUL bytes.
            index += 1
            continue
        length, payload = _sequence_length(lead)
        if lead < 0x80 or length == 1:
            output.append(lead)
            index += 1
            continue
        if length == 4 and lead >= _FIRST_INVALID_4_BYTE_LEAD:
            output.append(lead)
        tail = value[index + 1 : index + length]
        if len(tail) < length - 1 or any(byte & 0xC0 != 0x80 for byte in tail):
            # A broken sequence loses its lead byte; the rest is read again.
            index += 1
            continue
        code_point = lead & payload
        for byte in tail:
            code_point = (code_point << 6) | (byte & 0x3F)
        output += _percent_u(code_point)
        # Surrogates and overlong forms are flagged by repeating the lead byte.
        if code_point in _SURROGATES:
            output.append(lead)
        if code_point < _MIN_CODE_POINT[length]:
            output.append(lead)
        index += length
    return bytes(output)


@register("utf8toUnicode")
def utf8_to_unicode(value: bytes) -> bytes:
    """Write every multi-byte UTF-8 character as ``%uXXXX`` (lowercase hex, four or more digits).

    ASCII stays. As in ModSecurity v3, NUL bytes are dropped, a lead byte
    whose sequence is broken or truncated is dropped, stray continuation
    bytes and 0xF8..0xFF stay, and an overlong or surrogate sequence is
    converted and then followed by its lead byte.

    Argument: none.
    Example: ``t:utf8toUnicode`` turns ``caf\\xc3\\xa9 \\xf0\\x9f\\x98\\x80`` into
    ``caf%u00e9 %u1f600``.
    """
    if value.isascii() and b"\x00" not in value:
        return value
    if b"\x00" not in value:
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            # Strictly valid UTF-8 has no overlong forms or surrogates, so the
            # codec's conversion matches the byte loop and runs in C.
            return text.encode("ascii", errors=_ERROR_HANDLER)
    return _convert_slowly(value)
