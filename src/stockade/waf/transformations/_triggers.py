"""Trigger bytes: what a value must contain for a transformation to change it.

Most request values are plain text: ``42``, ``application/json``, a token.
For such a value most transformations change nothing, or only lowercase
it, so a value scan can skip running them. This module computes, for one
value, which transformations might change it. For a chain, it computes
which values the chain leaves unchanged or only lowercases.

A trigger is a byte (``%`` for urlDecode) or a short sequence (``/*`` for
replaceComments). A value that contains none of a transformation's
triggers comes out of it unchanged, except that lowercase and cmdLine
lowercase it. No trigger is a letter, so lowercasing never adds one. The
tests check each entry against the transformation itself.
"""

from __future__ import annotations

from collections.abc import Callable

from stockade.waf.transformations._whitespace import WHITESPACE
from stockade.waf.transformations.normalize_path import needs_normalizing

ANY_VALUE = 1
"""Set in every value's mask, so that a chain with this bit changes any value."""

_NUL = b"\x00"
_NON_ASCII = bytes(range(0x80, 0x100))

_BYTE_TRIGGERS: dict[str, bytes] = {
    "urldecode": b"%+",
    "urldecodeuni": b"%+",
    "htmlentitydecode": b"&",
    "jsdecode": b"\\",
    "cssdecode": b"\\",
    "escapeseqdecode": b"\\",
    "removenulls": _NUL,
    "replacenulls": _NUL,
    "utf8tounicode": _NUL + _NON_ASCII,
    "removewhitespace": WHITESPACE,
    "compresswhitespace": WHITESPACE,
    "trim": WHITESPACE,
    "trimleft": WHITESPACE,
    "trimright": WHITESPACE,
    "cmdline": b"\"'\\^ ,;\t\r\n",
}
"""Transformations that change only values holding one of these bytes."""

_COMMENT_MARKERS = (b"/*", b"*/", b"<!--", b"-->", b"--", b"#")

_SEQUENCE_TRIGGERS: dict[str, Callable[[bytes], bool]] = {
    "replacecomments": lambda value: b"/*" in value,
    "removecommentschar": lambda value: any(marker in value for marker in _COMMENT_MARKERS),
    "normalizepath": needs_normalizing,
    "normalisepath": needs_normalizing,
    "normalizepathwin": lambda value: b"\\" in value or needs_normalizing(value),
    "normalisepathwin": lambda value: b"\\" in value or needs_normalizing(value),
}
"""Transformations that change only values for which this test is true."""

LOWERCASING = frozenset({"lowercase", "cmdline"})
"""Transformations that lowercase a value without their triggers."""

_BITS: dict[str, int] = {
    name: 2 << position
    for position, name in enumerate(sorted({*_BYTE_TRIGGERS, *_SEQUENCE_TRIGGERS}))
}
_BITS_OF_BYTE = [0] * 256
for _name, _triggers in _BYTE_TRIGGERS.items():
    for _byte in _triggers:
        _BITS_OF_BYTE[_byte] |= _BITS[_name]
_QUIET_BYTES = bytes(byte for byte in range(256) if not _BITS_OF_BYTE[byte])
_SEQUENCE_TESTS = tuple((test, _BITS[name]) for name, test in _SEQUENCE_TRIGGERS.items())


def value_mask(value: bytes) -> int:
    """Return ANY_VALUE plus the bit of every transformation that might change ``value``."""
    mask = ANY_VALUE
    present = value.translate(None, _QUIET_BYTES)
    if present:
        for byte in set(present):
            mask |= _BITS_OF_BYTE[byte]
    for test, bit in _SEQUENCE_TESTS:
        if test(value):
            mask |= bit
    return mask


def chain_mask(names: tuple[str, ...]) -> tuple[int, bool]:
    """Return the chain's trigger mask and whether it lowercases a value without triggers.

    A value whose value_mask shares no bit with the mask comes out of the
    chain unchanged, or lowercased when the second item is True. A chain
    with a transformation this module does not know gets ANY_VALUE, which
    every value has.
    """
    mask = 0
    lowercases = False
    for name in names:
        lower = name.lower()
        if lower in LOWERCASING:
            lowercases = True
        if lower == "lowercase":
            continue
        bit = _BITS.get(lower)
        if bit is None:
            return ANY_VALUE, False
        mask |= bit
    return mask, lowercases
