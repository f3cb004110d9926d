"""The ``base64Encode`` transformation."""

from __future__ import annotations

import binascii

from stockade.waf.transformations._registry import register


@register("base64Encode")
def base64_encode(value: bytes) -> bytes:
    """Encode the value as padded standard Base64 on one line.

    Argument: none.
    Example: ``t:base64Encode`` turns ``abc d`` into ``YWJjIGQ=``.
    """
    return binascii.b2a_base64(value, newline=False)
