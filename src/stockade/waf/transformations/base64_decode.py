"""The ``base64Decode`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._base64 import ALPHABET, decode_clean
from stockade.waf.transformations._registry import register

# Maps alphabet bytes to "a", CR and LF to "n" and everything else to "!",
# so the first byte that ends decoding can be found with bytes.find().


def _byte_class(byte: int) -> int:
    if byte in ALPHABET:
        return ord("a")
    if byte in b"\r\n":
        return ord("n")
    return ord("!")


_CLASSES = bytes(_byte_class(byte) for byte in range(256))


@register("base64Decode")
def base64_decode(value: bytes) -> bytes:
    """Decode Base64 up to the first ``=`` or other byte outside the alphabet.

    CR and LF are skipped, padding is optional, and the part before an
    invalid byte is still decoded, as Coraza does. ModSecurity 3.0.9 returns
    nothing for such values and drops an unpadded final group, which lets
    one stray byte hide a payload from the rules after it.

    Argument: none.
    Example: ``t:base64Decode`` turns ``c2VsZWN0IDE=`` into ``select 1``.
    """
    stop = value.translate(_CLASSES).find(b"!")
    characters = value if stop < 0 else value[:stop]
    if b"\r" in characters or b"\n" in characters:
        characters = characters.translate(None, b"\r\n")
    return decode_clean(characters)
