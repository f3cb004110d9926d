"""The ``urlEncode`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._registry import register

# Bytes copied as they are. A space becomes "+" and every other byte %xx.
_UNRESERVED = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*")


def _encode_byte(byte: int) -> bytes:
    if byte in _UNRESERVED:
        return bytes([byte])
    if byte == ord(" "):
        return b"+"
    return b"%%%02x" % byte


_ENCODED: tuple[bytes, ...] = tuple(_encode_byte(byte) for byte in range(256))


@register("urlEncode")
def url_encode(value: bytes) -> bytes:
    """Percent-encode the value: ASCII letters, digits and ``*`` stay, a space becomes ``+``.

    Other bytes become ``%xx`` with lowercase hex digits, as ModSecurity writes them.

    Argument: none.
    Example: ``t:urlEncode`` turns ``a b/c.d`` into ``a+b%2fc%2ed``.
    """
    return b"".join([_ENCODED[byte] for byte in value])
