"""The ``compressWhitespace`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._registry import register
from stockade.waf.transformations._whitespace import WHITESPACE, squeeze_spaces

# Maps every whitespace byte to a plain space and leaves the rest alone.
_TO_SPACE = bytes.maketrans(WHITESPACE, b" " * len(WHITESPACE))


@register("compressWhitespace")
def compress_whitespace(value: bytes) -> bytes:
    """Turn each run of whitespace bytes into one space.

    Whitespace is space, tab, LF, VT, FF, CR and the Latin-1 no-break space.

    Argument: none.
    Example: ``t:compressWhitespace`` turns ``a \\t\\r\\n b`` into ``a b``.
    """
    return squeeze_spaces(value.translate(_TO_SPACE))
