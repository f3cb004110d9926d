"""Hexadecimal digit helpers shared by the decoding transformations."""

from __future__ import annotations

HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")

# Value of each byte read as a hex digit; -1 for bytes that are not one.
HEX_VALUE: tuple[int, ...] = tuple(
    int(chr(byte), 16) if byte in HEX_DIGITS else -1 for byte in range(256)
)


def is_hex(byte: int) -> bool:
    """Tell whether ``byte`` is an ASCII hex digit."""
    return HEX_VALUE[byte] >= 0


def hex_pair(high: int, low: int) -> int:
    """Return the byte that two hex digits spell; both must be hex digits."""
    return (HEX_VALUE[high] << 4) | HEX_VALUE[low]
