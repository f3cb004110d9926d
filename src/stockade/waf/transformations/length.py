"""The ``length`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._registry import register


@register("length")
def length(value: bytes) -> bytes:
    """Replace the value with its length in bytes, written in decimal.

    Argument: none.
    Example: ``t:length`` turns ``abc\\x00`` into ``4``.
    """
    return str(len(value)).encode("ascii")
