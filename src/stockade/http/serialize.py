"""Serialization of HTTP/1.1 heads and chunks the gateway sends.

Fields are written as given, in order, with no framing fields added: the
caller writes exactly one Content-Length or Transfer-Encoding itself. A value
holding CR, LF or NUL, or a name that is not a token, raises ``ValueError``.
Written as-is, it would end the line early or put whitespace before a colon,
so the upstream would read another field or message than the gateway meant.
"""

from __future__ import annotations

import operator
from typing import Final

from stockade.http.charsets import TOKEN_CHARS, is_token
from stockade.http.fields import Fields

try:
    from stockade.http import _heads
except ImportError:  # no compiled build: the Python code below does all the work
    _heads = None  # type: ignore[assignment]

LAST_CHUNK: Final = b"0\r\n\r\n"
"""The last chunk of a chunked body, with an empty trailer section."""

_FORBIDDEN_BYTES: Final = (b"\r", b"\n", b"\x00")
_COLON_SPACE: Final = b": "
_NAME_LIST_CHARS: Final = TOKEN_CHARS + b"\n"


def serialize_request_head(
    method: bytes,
    target: bytes,
    fields: Fields | list[tuple[bytes, bytes]],
    extra: tuple[tuple[bytes, bytes], ...] = (),
) -> bytes:
    """Return ``method target HTTP/1.1``, the field lines and the empty line.

    ``fields`` is a Fields object or a list of (name, value) pairs. ``extra``
    fields follow them; the caller passes its framing field there.
    """
    items = _item_list(fields)
    if extra:
        items += extra
    if _heads is not None:
        # The compiled module writes a valid head and returns None for any
        # other, which the code below then rejects with the precise error.
        written = _heads.request_head(method, target, items)
        if written is not None:
            return written
    head = b"%s %s HTTP/1.1\r\n%s\r\n" % (method, target, _joined_lines(items))
    # The start line must hold exactly two SP, and the head one CRLF per line.
    if (
        head.count(b" ", 0, len(method) + len(target) + _START_LINE_SPACES) != _START_LINE_SPACES
        or not _is_well_formed(head, items)
    ):
        start_line = method + b" " + target + b" HTTP/1.1"
        if _has_forbidden_byte(start_line) or b" " in method or b" " in target:
            raise ValueError(f"invalid request line {start_line[:80]!r}")
        _raise_bad_field(items)
    return head


def serialize_response_head(
    status: int, reason: bytes, fields: Fields | list[tuple[bytes, bytes]]
) -> bytes:
    """Return ``HTTP/1.1 status reason``, the field lines and the empty line.

    ``fields`` is a Fields object or a list of (name, value) pairs.
    """
    if not 100 <= status <= 999:
        raise ValueError(f"status {status} is not a three-digit code")
    # The items are only read here, so they are not copied.
    items = fields.items_view() if isinstance(fields, Fields) else fields
    if _heads is not None:
        written = _heads.response_head(_STATUS_CODES[status - 100], reason, items)
        if written is not None:
            return written
    head = b"HTTP/1.1 %d %s\r\n%s\r\n" % (status, reason, _joined_lines(items))
    if not _is_well_formed(head, items):
        if _has_forbidden_byte(reason):
            raise ValueError(f"reason phrase {reason[:80]!r} contains CR, LF or NUL")
        _raise_bad_field(items)
    return head


def serialize_fields(fields: Fields) -> bytes:
    """Return the field lines of ``fields``, each ending in CRLF, without the empty line."""
    items = fields.items()
    lines = _joined_lines(items)
    if not _is_well_formed(b"\r\n" + lines + b"\r\n", items):
        _raise_bad_field(items)
    return lines


_STATUS_CODES: Final = [b"%d" % code for code in range(100, 1000)]
"""The three-digit status codes as bytes, indexed by code - 100."""
_START_LINE_SPACES: Final = 2
_LINE_BYTES: Final = bytes(byte for byte in range(256) if byte not in b"\r\n\x00")
"""Every byte but CR, LF and NUL: what ``_is_well_formed`` deletes from a head."""
_NAME: Final = operator.itemgetter(0)


def _item_list(fields: Fields | list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Return a new list of the (name, value) pairs of ``fields``."""
    # list(Fields) would call its Python-level __len__ and __iter__.
    return fields.items() if isinstance(fields, Fields) else list(fields)


def _joined_lines(items: list[tuple[bytes, bytes]]) -> bytes:
    """Return the field lines of ``items``, each ending in CRLF, without checking them."""
    if not items:
        return b""
    # ``b": ".join`` of each (name, value) pair runs in C, with no bytecode per field.
    return b"\r\n".join(map(_COLON_SPACE.join, items)) + b"\r\n"


def _is_well_formed(head: bytes, items: list[tuple[bytes, bytes]]) -> bool:
    """Check a start line, the field lines of ``items`` and the empty line, all in ``head``.

    Deleting every byte but CR, LF and NUL leaves one CRLF per line when no
    part carries a stray one, which checks the whole head in one C-level
    pass. Field names are tokens, checked joined by LF.
    """
    if head.translate(None, _LINE_BYTES) != b"\r\n" * (len(items) + 2):
        return False
    if not items:
        return True
    return b"\r\n:" not in head and not b"\n".join(map(_NAME, items)).translate(
        None, _NAME_LIST_CHARS
    )


def encode_chunk(data: bytes) -> bytes:
    """Return ``data`` as one chunk; empty data gives b"" (an empty chunk would end the body)."""
    if not data:
        return b""
    return b"%x\r\n%s\r\n" % (len(data), data)


def encode_last_chunk(trailers: Fields | None = None) -> bytes:
    """Return the last chunk followed by ``trailers`` and the empty line."""
    if not trailers:
        return LAST_CHUNK
    return b"0\r\n" + serialize_fields(trailers) + b"\r\n"


def _has_forbidden_byte(data: bytes) -> bool:
    return b"\r" in data or b"\n" in data or b"\x00" in data


def _raise_bad_field(items: list[tuple[bytes, bytes]]) -> None:
    for name, value in items:
        if not is_token(name):
            raise ValueError(f"invalid field name {name[:40]!r}")
        if _has_forbidden_byte(value):
            raise ValueError(f"value of field {name[:40]!r} contains CR, LF or NUL")
    raise AssertionError("unreachable: a field failed the section check but none alone")
