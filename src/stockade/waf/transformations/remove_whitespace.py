"""The ``removeWhitespace`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._registry import register
from stockade.waf.transformations._whitespace import WHITESPACE


@register("removeWhitespace")
def remove_whitespace(value: bytes) -> bytes:
    """Delete space, tab, LF, VT, FF, CR and the Latin-1 no-break space (0xA0).

    Argument: none.
    Example: ``t:removeWhitespace`` turns ``un ion\\tsel\\xa0ect`` into ``unionselect``.
    """
    return value.translate(None, WHITESPACE)
