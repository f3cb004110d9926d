"""The ``urlDecodeUni`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._percent import HEX_PAIR_BYTES
from stockade.waf.transformations._registry import register

# Full-width ASCII (U+FF01..U+FF5E) sits 0x20 above the low byte of the
# character it copies, so "%uff21" (full-width A) becomes "A".
_FULL_WIDTH_HIGH = frozenset({b"ff", b"fF", b"Ff", b"FF"})
_FULL_WIDTH_SHIFT = 0x20
_FULL_WIDTH_LIMIT = 0x5F  # low bytes 0x01..0x5e are shifted


def _decode_percent_u(digits: bytes) -> bytes | None:
    """Return the byte for the four hex digits after ``%u``, or None if invalid."""
    high = HEX_PAIR_BYTES.get(digits[:2])
    low = HEX_PAIR_BYTES.get(digits[2:4])
    if high is None or low is None or len(digits) < 4:
        return None
    byte = low[0]
    if 0 < byte < _FULL_WIDTH_LIMIT and digits[:2] in _FULL_WIDTH_HIGH:
        byte += _FULL_WIDTH_SHIFT
    return bytes([byte])


@register("urlDecodeUni")
def url_decode_uni(value: bytes) -> bytes:
    """Decode ``%XX``, IIS-style ``%uXXXX`` escapes and ``+``.

    ``%uXXXX`` keeps only the low byte of the code point, except that
    full-width ASCII (``%uff01``..``%uff5e``) maps to its ASCII letter. A
    truncated or invalid escape stays as it is. This is ModSecurity's
    behaviour without a ``SecUnicodeMapFile``.

    Argument: none.
    Example: ``t:urlDecodeUni`` turns ``%u0027%uff33EL+1%u12`` into ``'SEL 1%u12``.
    """
    if b"+" in value:
        value = value.replace(b"+", b" ")
    if b"%" not in value:
        return value
    pieces = value.split(b"%")
    decoded = [pieces[0]]
    for piece in pieces[1:]:
        if piece[:1] in (b"u", b"U"):
            byte = _decode_percent_u(piece[1:5])
            rest = piece[5:]
        else:
            byte = HEX_PAIR_BYTES.get(piece[:2])
            rest = piece[2:]
        if byte is None:
            decoded.append(b"%")
            decoded.append(piece)
        else:
            decoded.append(byte)
            decoded.append(rest)
    return b"".join(decoded)
