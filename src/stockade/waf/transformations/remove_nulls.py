"""The ``removeNulls`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._registry import register


@register("removeNulls")
def remove_nulls(value: bytes) -> bytes:
    """Delete every NUL byte.

    Argument: none.
    Example: ``t:removeNulls`` turns ``a\\x00b`` into ``ab``.
    """
    return value.replace(b"\x00", b"")
