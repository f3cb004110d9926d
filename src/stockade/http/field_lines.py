"""Field lines (RFC 9112 section 5) of a header section or a trailer section.

The caller has already split the section at CRLF and checked that it contains no
control characters, bare CR or bare LF. This module checks each line's shape:
a token name, a colon right after it, and a value with its optional whitespace
removed. Values are not echoed in error reasons, because they may carry
credentials.
"""

from __future__ import annotations

from stockade.http.charsets import TOKEN_CHARS, is_token
from stockade.http.errors import ProtocolError

FRAMING_FIELD_NAMES = frozenset(
    {b"content-length", b"transfer-encoding", b"host", b"connection", b"expect"}
)
"""Lower-cased names whose values the parser interprets while reading a head."""

MAX_NAME_IN_REASON = 40
"""Bytes of a bad field name quoted in an error reason, so reasons stay one short line."""

_NAME_LIST_CHARS = TOKEN_CHARS + b"\n"

FieldItems = list[tuple[bytes, bytes]]
FramingValues = dict[bytes, list[bytes]]


def parse_field_lines(lines: list[bytes], section: str) -> tuple[FieldItems, FramingValues]:
    """Split field lines into (name, value) pairs and collect the framing fields.

    ``section`` names the section in error reasons ("header" or "trailer").
    Returns the pairs in received order and, for each lower-cased name in
    ``FRAMING_FIELD_NAMES``, the list of its values.
    """
    items: FieldItems = []
    names: list[bytes] = []
    framing: FramingValues = {}
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon:
            _raise_bad_line(line, name, colon, section, is_first=not items)
        value = value.strip(b" \t")
        items.append((name, value))
        names.append(name)
        lowered = name.lower()
        if lowered in FRAMING_FIELD_NAMES:
            framing.setdefault(lowered, []).append(value)
    # One translate over all names joined by LF (which no line contains) is
    # cheaper than one per name. The slow path below then finds the bad line.
    if b"" in names or b"\n".join(names).translate(None, _NAME_LIST_CHARS):
        for line, name in zip(lines, names, strict=True):
            if not is_token(name):
                _raise_bad_line(line, name, b":", section, is_first=line is lines[0])
    return items, framing


def _raise_bad_line(line: bytes, name: bytes, colon: bytes, section: str, is_first: bool) -> None:
    if line[:1] in (b" ", b"\t"):
        if is_first:
            # RFC 9112 section 2.2: a line starting with whitespace right after
            # the start line must be rejected or ignored, because some servers
            # read it as a field and others as part of the start line.
            raise ProtocolError(f"the first {section} field line starts with whitespace")
        # RFC 9112 section 5.2: obs-fold is rejected with 400 (or replaced by
        # SP); rejecting means no folded line is ever forwarded.
        raise ProtocolError(f"obs-fold line folding in the {section} section is not accepted")
    quoted = name[:MAX_NAME_IN_REASON]
    if not colon:
        raise ProtocolError(f"{section} field line without a colon, starting {quoted!r}")
    if not name:
        raise ProtocolError(f"{section} field line with an empty field name")
    if name.rstrip(b" \t") != name:
        # RFC 9112 section 5.1: no whitespace is allowed between the field
        # name and the colon, and a server must reject such a message with 400.
        stripped = quoted.rstrip()
        raise ProtocolError(f"whitespace between {section} field name {stripped!r} and colon")
    raise ProtocolError(f"{section} field name {quoted!r} is not a token")
