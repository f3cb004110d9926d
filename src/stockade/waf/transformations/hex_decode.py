"""The ``hexDecode`` transformation."""

from __future__ import annotations

import binascii

from stockade.waf.transformations._registry import register


@register("hexDecode")
def hex_decode(value: bytes) -> bytes:
    """Decode pairs of hex digits into bytes.

    A trailing odd digit is dropped. A value with any non-hex byte is
    returned unchanged, as Coraza does; ModSecurity v3 decodes such pairs
    into arbitrary bytes instead.

    Argument: none.
    Example: ``t:hexDecode`` turns ``414243`` into ``ABC``.
    """
    even = value[: len(value) - len(value) % 2]
    try:
        return binascii.unhexlify(even)
    except binascii.Error:
        return value
