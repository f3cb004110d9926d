"""Trigger bytes: what a value must contain for a transformation to change it.

Most request values are plain text: ``42``, ``application/json``, a token.
For such a value most transformations change nothing, or only lowercase
it, so a value scan can skip running them. This module computes, for one
value, which transformations might change it. For a chain, it computes
which values the chain leaves unchanged or only lowercases.

A trigger is a byte (``%`` for urlDecode) or a short sequence (``/*`` for
replaceComments), found with one RE2 set scan. A value that contains none of a transformation's
triggers comes out of it unchanged, except that lowercase and cmdLine
lowercase it. No trigger is a letter, so lowercasing never adds one. The
tests check each entry against the transformation itself.
"""

from __future__ import annotations

from typing import Any

import re2

from stockade.waf.transformations._whitespace import WHITESPACE

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

_SEQUENCE_TRIGGERS: dict[str, tuple[bytes, ...]] = {
    "replacecomments": (rb"/\*",),
    "removecommentschar": (rb"/\*", rb"\*/", rb"<!--", rb"-->", rb"--", rb"#"),
    "normalizepath": (rb"//", rb"/\.", rb"\.\.", rb"\A\."),
    "normalisepath": (rb"//", rb"/\.", rb"\.\.", rb"\A\."),
    "normalizepathwin": (rb"//", rb"/\.", rb"\.\.", rb"\A\.", rb"\\"),
    "normalisepathwin": (rb"//", rb"/\.", rb"\.\.", rb"\A\.", rb"\\"),
}
"""Transformations that change only values in which one of these RE2 patterns matches."""

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


def _sequence_set() -> tuple[Any, tuple[int, ...]]:
    """Compile every sequence trigger into one RE2 set; return it and each pattern's bits."""
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    bits_by_pattern: dict[bytes, int] = {}
    for name, patterns in _SEQUENCE_TRIGGERS.items():
        for pattern in patterns:
            bits_by_pattern[pattern] = bits_by_pattern.get(pattern, 0) | _BITS[name]
    sequences = re2.Set.SearchSet(options)
    for pattern in bits_by_pattern:
        sequences.Add(pattern)
    sequences.Compile()
    return sequences, tuple(bits_by_pattern.values())


_SEQUENCES, _SEQUENCE_BITS = _sequence_set()
_SEQUENCE_BYTES = b"/*<-#.\\"
"""Bytes of which every sequence trigger contains one, so a value without them needs no scan."""
_NOT_SEQUENCE_BYTES = bytes(byte for byte in range(256) if byte not in _SEQUENCE_BYTES)


def value_mask(value: bytes) -> int:
    """Return ANY_VALUE plus the bit of every transformation that might change ``value``."""
    mask = ANY_VALUE
    present = value.translate(None, _QUIET_BYTES)
    if present:
        for byte in set(present):
            mask |= _BITS_OF_BYTE[byte]
    if value.translate(None, _NOT_SEQUENCE_BYTES):
        found = _SEQUENCES.Match(value)
        if found:
            for index in found:
                mask |= _SEQUENCE_BITS[index]
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
