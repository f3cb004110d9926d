"""The ``hexEncode`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._registry import register


@register("hexEncode")
def hex_encode(value: bytes) -> bytes:
    """Write each byte as two lowercase hex digits.

    Argument: none.
    Example: ``t:hexEncode`` turns ``a\\xff`` into ``61ff``.
    """
    return value.hex().encode("ascii")
