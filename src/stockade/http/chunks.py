"""Chunk lines of the chunked transfer coding (RFC 9112 section 7.1).

    chunk-line = chunk-size [ chunk-ext ] CRLF
    chunk-size = 1*HEXDIG
    chunk-ext  = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
    chunk-ext-val = token / quoted-string

Extensions are checked against this grammar and then dropped: no chunk
extension has a registered meaning the gateway acts on, and a proxy that
forwards them lets the upstream read a line the gateway did not.
"""

from __future__ import annotations

from typing import Final

from stockade.http.charsets import HEX_DIGITS, LINE_TEXT_CHARS, QDTEXT_CHARS, is_token
from stockade.http.errors import ProtocolError

MAX_CHUNK_SIZE_DIGITS: Final = 16
"""Hex digits of a chunk size: 16 digits fill 64 bits, more is an overflow attempt."""

_WHITESPACE: Final = b" \t"


def parse_chunk_line(line: bytes, max_extension_bytes: int) -> int:
    """Return the chunk size of ``line`` (without its CRLF), checking its extensions."""
    size_text, semicolon, extensions = line.partition(b";")
    if (
        not size_text
        or len(size_text) > MAX_CHUNK_SIZE_DIGITS
        or size_text.translate(None, HEX_DIGITS)
    ):
        # Whitespace after the size is rejected too, although the grammar's BWS
        # allows it before ";". Parsers disagree on it, and no client needs it.
        raise ProtocolError(
            f"invalid chunk size {size_text[:MAX_CHUNK_SIZE_DIGITS + 4]!r}; "
            f"expected 1 to {MAX_CHUNK_SIZE_DIGITS} hex digits"
        )
    if semicolon:
        # NOTE: the cap is per chunk line, not per message, because signed
        # uploads carry an extension on every chunk. Many tiny chunks with long
        # extensions therefore cost parsing work that the body limit ignores.
        if len(extensions) + 1 > max_extension_bytes:
            raise ProtocolError(
                f"chunk extensions of {len(extensions) + 1} bytes exceed the limit "
                f"of {max_extension_bytes} bytes"
            )
        check_chunk_extensions(extensions)
    return int(size_text, 16)


def check_chunk_extensions(text: bytes) -> None:
    """Check the extensions that follow a chunk size's first ";" against the grammar."""
    rest = text
    while True:
        name_end = _find_first(rest, b"=", b";")
        segment = rest[:name_end]
        name = segment.lstrip(_WHITESPACE)
        if name_end < len(rest):
            name = name.rstrip(_WHITESPACE)
        if not is_token(name):
            raise ProtocolError(f"invalid chunk extension name {name[:32]!r}")
        if name_end == len(rest):
            return
        if rest[name_end:name_end + 1] == b";":
            rest = rest[name_end + 1:]
            continue
        value_and_tail = rest[name_end + 1:].lstrip(_WHITESPACE)
        if value_and_tail[:1] == b'"':
            value_end = _quoted_string_end(value_and_tail)
            tail = value_and_tail[value_end:]
        else:
            value_end = _find_first(value_and_tail, b";")
            value = value_and_tail[:value_end]
            if value_end < len(value_and_tail):
                value = value.rstrip(_WHITESPACE)
            if not is_token(value):
                raise ProtocolError(f"invalid chunk extension value {value[:32]!r}")
            tail = value_and_tail[value_end:]
        if not tail:
            return
        next_separator = tail.lstrip(_WHITESPACE)
        if next_separator[:1] != b";":
            raise ProtocolError("chunk extension value followed by something other than ';'")
        rest = next_separator[1:]


def _find_first(text: bytes, *needles: bytes) -> int:
    """Return the offset of the first of ``needles`` in ``text``, or ``len(text)``."""
    first = len(text)
    for needle in needles:
        position = text.find(needle, 0, first)
        if position != -1:
            first = position
    return first


def _quoted_string_end(text: bytes) -> int:
    """Return the offset just past the quoted-string that starts ``text``."""
    position = 1
    while True:
        quote = text.find(b'"', position)
        if quote == -1:
            raise ProtocolError("unterminated quoted-string in a chunk extension")
        backslash = text.find(b"\\", position, quote)
        end = quote if backslash == -1 else backslash
        if text[position:end].translate(None, QDTEXT_CHARS):
            raise ProtocolError("invalid character in a chunk extension quoted-string")
        if backslash == -1:
            return quote + 1
        escaped = text[backslash + 1:backslash + 2]
        if not escaped or escaped.translate(None, LINE_TEXT_CHARS):
            raise ProtocolError("invalid quoted-pair in a chunk extension")
        position = backslash + 2
