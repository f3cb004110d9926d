"""The ``trimLeft`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._registry import register

# C isspace() in the C locale.
_ASCII_WHITESPACE = b" \t\n\v\f\r"


@register("trimLeft")
def trim_left(value: bytes) -> bytes:
    """Remove whitespace (space, tab, LF, VT, FF, CR) from the start.

    Argument: none.
    Example: ``t:trimLeft`` turns `` \\tabc `` into ``abc ``.
    """
    return value.lstrip(_ASCII_WHITESPACE)
