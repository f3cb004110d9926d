"""The ``replaceNulls`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._registry import register


@register("replaceNulls")
def replace_nulls(value: bytes) -> bytes:
    """Replace every NUL byte with a space.

    Argument: none.
    Example: ``t:replaceNulls`` turns ``a\\x00b`` into ``a b``.
    """
    return value.replace(b"\x00", b" ")
