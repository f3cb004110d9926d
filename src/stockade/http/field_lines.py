"""Field lines (RFC 9112 section 5) of a header section or a trailer section.

``split_section`` splits a complete section at CRLF and rejects control
characters, bare CR and bare LF. ``parse_field_lines`` then checks each
line's shape: a token name, a colon right after it, and a value with its
optional whitespace removed. Values are not echoed in error reasons, because
they may carry credentials.
"""

from __future__ import annotations

from typing import Final

from stockade.http.charsets import (
    HEAD_TEXT_CHARS,
    LINE_TEXT_CHARS,
    TOKEN_CHARS,
    first_invalid_byte,
    is_token,
)
from stockade.http.errors import ProtocolError

try:
    from stockade.http import _heads
except ImportError:  # no compiled build: the Python functions below do all the work
    _heads = None  # type: ignore[assignment]

FRAMING_FIELD_NAMES: Final = frozenset(
    {b"content-length", b"transfer-encoding", b"host", b"connection", b"expect"}
)
"""Lower-cased names whose values the parser interprets while reading a head."""

MAX_NAME_IN_REASON: Final = 40
"""Bytes of a bad field name quoted in an error reason, so reasons stay one short line."""

_NAME_LIST_CHARS: Final = TOKEN_CHARS + b"\n"

FieldItems = list[tuple[bytes, bytes]]
FramingValues = dict[bytes, list[bytes]]


def scan_head(
    head: bytes, max_field_count: int
) -> tuple[bytes, FieldItems, list[bytes], FramingValues] | None:
    """Return the start line of a valid head and what ``parse_field_lines`` returns for it.

    ``head`` ends before the CRLF CRLF. The compiled ``_heads`` module reads
    it in one pass. None means a head that may be invalid, or no compiled
    build: the caller then reads it with ``split_section`` and
    ``parse_field_lines``, which raise the precise ProtocolError.
    """
    if _heads is None:
        return None
    return _heads.scan_head(head, max_field_count)


def scan_request_head(
    head: bytes, max_field_count: int, max_target_bytes: int
) -> tuple[bytes, bytes, bytes, FieldItems, list[bytes], FramingValues] | None:
    """Return the method, target and version of a valid request head, then its fields.

    The fields are what ``parse_field_lines`` returns, and the version is
    b"1.1" or b"1.0". None has the meaning it has for ``scan_head``, and
    also covers a request line that the parser rejects.
    """
    if _heads is None:
        return None
    return _heads.scan_request_head(head, max_field_count, max_target_bytes)


def split_section(
    section: bytes, section_name: str, max_field_count: int, *, start_line: bool
) -> list[bytes]:
    """Split a complete head or trailer section into lines, rejecting stray bytes.

    ``start_line`` is True when the first line is a start line rather than a
    field line. RFC 9112 section 2.2 and RFC 9110 section 5.5: a bare CR, a
    bare LF, or a NUL or other control character (HTAB aside) makes the
    message invalid. More than ``max_field_count`` field lines gets 431.
    """
    lines = section.split(b"\r\n")
    line_ends = len(lines) - 1
    # Deleting every byte allowed inside a line leaves only CR, LF and
    # control characters, so a valid section leaves exactly its CRLF pairs.
    if section.translate(None, LINE_TEXT_CHARS) != b"\r\n" * line_ends:
        _raise_stray_bytes(section, section_name)
    field_count = line_ends if start_line else line_ends + 1
    if field_count > max_field_count:
        raise ProtocolError(
            f"{field_count} field lines in the {section_name}, more than the limit of "
            f"{max_field_count}",
            431,
        )
    return lines


def _raise_stray_bytes(section: bytes, section_name: str) -> None:
    """Raise the error for a section containing a control character, bare CR or bare LF."""
    offset = first_invalid_byte(section, HEAD_TEXT_CHARS)
    if offset != -1:
        line_number = section.count(b"\n", 0, offset) + 1
        raise ProtocolError(
            f"control character 0x{section[offset]:02x} in line {line_number} of the {section_name}"
        )
    if section.count(b"\n") != section.count(b"\r\n"):
        raise ProtocolError(f"bare LF in the {section_name}; HTTP/1.1 lines end with CRLF")
    raise ProtocolError(f"bare CR in the {section_name}")


def parse_field_lines(
    lines: list[bytes], section: str
) -> tuple[FieldItems, list[bytes], FramingValues]:
    """Split field lines into (name, value) pairs and collect the framing fields.

    ``section`` names the section in error reasons ("header" or "trailer").
    Returns the pairs in received order, their lower-cased names in the same
    order, and, for each lower-cased name in ``FRAMING_FIELD_NAMES``, the
    list of its values.
    """
    items: FieldItems = []
    lowered_names: list[bytes] = []
    framing: FramingValues = {}
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon:
            _raise_bad_line(line, name, colon, section, is_first=not items)
        value = value.strip(b" \t")
        items.append((name, value))
        lowered = name.lower()
        lowered_names.append(lowered)
        if lowered in FRAMING_FIELD_NAMES:
            framing.setdefault(lowered, []).append(value)
    # One translate over all names joined by LF (which no line contains) is
    # cheaper than one per name. Lower-casing keeps a name a token or not,
    # so checking the lower-cased names is enough. The slow path below finds
    # the bad line.
    if b"" in lowered_names or b"\n".join(lowered_names).translate(None, _NAME_LIST_CHARS):
        for line, (name, _) in zip(lines, items, strict=True):
            if not is_token(name):
                _raise_bad_line(line, name, b":", section, is_first=line is lines[0])
    return items, lowered_names, framing


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
