"""The ``parityOdd7bit`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._parity import ODD_PARITY
from stockade.waf.transformations._registry import register


@register("parityOdd7bit")
def parity_odd_7bit(value: bytes) -> bytes:
    """Set or clear the high bit of each byte so its bit count is odd.

    Argument: none.
    Example: ``t:parityOdd7bit`` turns ``a`` (0x61) into ``a``.
    """
    return value.translate(ODD_PARITY)
