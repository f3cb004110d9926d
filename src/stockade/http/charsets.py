"""Byte sets of the HTTP/1.1 grammar, shaped for ``bytes.translate``.

Validation deletes every allowed byte with ``data.translate(None, SET)``: an
empty result means every byte was allowed. The deletion runs in C, which keeps
the parser's hot path free of per-byte Python loops and of regular expressions.
"""

from __future__ import annotations

import string
from typing import Final

_DIGITS: Final = string.digits.encode("ascii")
_LETTERS: Final = string.ascii_letters.encode("ascii")

TOKEN_CHARS: Final = b"!#$%&'*+-.^_`|~" + _DIGITS + _LETTERS
"""tchar of RFC 9110 section 5.6.2: field names, methods, codings, extension names."""

HEX_DIGITS: Final = b"0123456789abcdefABCDEF"
"""HEXDIG of RFC 5234, the alphabet of chunk-size."""

VISIBLE_CHARS: Final = bytes(range(0x21, 0x7F))
"""VCHAR of RFC 5234."""

OBS_TEXT: Final = bytes(range(0x80, 0x100))
"""obs-text of RFC 9110 section 5.5: bytes above ASCII, allowed in values."""

LINE_TEXT_CHARS: Final = VISIBLE_CHARS + OBS_TEXT + b" \t"
"""Bytes allowed inside one start line, field line or chunk line: no control characters."""

HEAD_TEXT_CHARS: Final = LINE_TEXT_CHARS + b"\r\n"
"""Bytes allowed in a whole message head; CR and LF are checked to come as CRLF pairs."""

QDTEXT_CHARS: Final = bytes(sorted(set(LINE_TEXT_CHARS) - set(b'"\\')))
"""qdtext of RFC 9110 section 5.6.4: what a quoted-string holds besides quoted-pairs."""

REG_NAME_CHARS: Final = _LETTERS + _DIGITS + b"-._~"
"""Host names: RFC 3986 unreserved characters only.

RFC 3986 also allows sub-delims and percent-encoding in a reg-name; no DNS name
needs them, and a Host such as ``a.example,b.example`` means different hosts to
different servers, so they are rejected.
"""

IP_LITERAL_CHARS: Final = HEX_DIGITS + b":."
"""Characters inside the brackets of an IPv6 address literal."""


def is_token(data: bytes) -> bool:
    """Return True when ``data`` is a non-empty token."""
    return bool(data) and not data.translate(None, TOKEN_CHARS)


def first_invalid_byte(data: bytes, allowed: bytes) -> int:
    """Return the offset of the first byte of ``data`` not in ``allowed``, or -1."""
    invalid = data.translate(None, allowed)
    if not invalid:
        return -1
    return min(data.find(bytes([byte])) for byte in set(invalid))
