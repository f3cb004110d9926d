"""The ``trim`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._registry import register

# C isspace() in the C locale.
_ASCII_WHITESPACE = b" \t\n\v\f\r"


@register("trim")
def trim(value: bytes) -> bytes:
    """Remove whitespace (space, tab, LF, VT, FF, CR) from both ends.

    Argument: none.
    Example: ``t:trim`` turns `` \\tabc \\n`` into ``abc``.
    """
    return value.strip(_ASCII_WHITESPACE)
