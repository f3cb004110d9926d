"""The ``parityEven7bit`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._parity import EVEN_PARITY
from stockade.waf.transformations._registry import register


@register("parityEven7bit")
def parity_even_7bit(value: bytes) -> bytes:
    """Set or clear the high bit of each byte so its bit count is even.

    Argument: none.
    Example: ``t:parityEven7bit`` turns ``a`` (0x61) into 0xe1.
    """
    return value.translate(EVEN_PARITY)
