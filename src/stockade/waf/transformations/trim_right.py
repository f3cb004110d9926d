"""The ``trimRight`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._registry import register

# C isspace() in the C locale.
_ASCII_WHITESPACE = b" \t\n\v\f\r"


@register("trimRight")
def trim_right(value: bytes) -> bytes:
    """Remove whitespace (space, tab, LF, VT, FF, CR) from the end.

    Argument: none.
    Example: ``t:trimRight`` turns `` abc \\n`` into `` abc``.
    """
    return value.rstrip(_ASCII_WHITESPACE)
