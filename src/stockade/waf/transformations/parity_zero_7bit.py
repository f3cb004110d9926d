"""The ``parityZero7bit`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._parity import ZERO_PARITY
from stockade.waf.transformations._registry import register


@register("parityZero7bit")
def parity_zero_7bit(value: bytes) -> bytes:
    """Clear the high bit of every byte.

    Argument: none.
    Example: ``t:parityZero7bit`` turns 0xe1 into ``a``.
    """
    return value.translate(ZERO_PARITY)
