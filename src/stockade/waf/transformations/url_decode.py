"""The ``urlDecode`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._percent import HEX_PAIR_BYTES
from stockade.waf.transformations._registry import register


@register("urlDecode")
def url_decode(value: bytes) -> bytes:
    """Decode ``%XX`` escapes and turn ``+`` into a space.

    An invalid or truncated escape (``%zz``, ``%4`` at the end) stays as it
    is. Decoded bytes are not decoded again, so ``%2541`` becomes ``%41``.

    Argument: none.
    Example: ``t:urlDecode`` turns ``a%27+OR%2x`` into ``a' OR%2x``.
    """
    if b"+" in value:
        # Replacing "+" first is safe: a space is never a hex digit, so no
        # escape can become valid or invalid because of it.
        value = value.replace(b"+", b" ")
    if b"%" not in value:
        return value
    pieces = value.split(b"%")
    decoded = [pieces[0]]
    for piece in pieces[1:]:
        byte = HEX_PAIR_BYTES.get(piece[:2])
        if byte is None:
            decoded.append(b"%")
            decoded.append(piece)
        else:
            decoded.append(byte)
            decoded.append(piece[2:])
    return b"".join(decoded)
