"""The ``base64DecodeExt`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._base64 import ALPHABET, decode_clean
from stockade.waf.transformations._registry import register

_NOT_ALPHABET = bytes(byte for byte in range(256) if byte not in ALPHABET)


@register("base64DecodeExt")
def base64_decode_ext(value: bytes) -> bytes:
    """Decode Base64 forgivingly: skip every byte outside the alphabet, ``=`` included.

    This matches ModSecurity 3.0.9, which goes on decoding after padding
    (Coraza stops there).

    Argument: none.
    Example: ``t:base64DecodeExt`` turns ``c2Vs.ZW N0\\nIDE`` into ``select 1``.
    """
    return decode_clean(value.translate(None, _NOT_ALPHABET))
