"""Translation tables for the 7-bit parity transformations."""

from __future__ import annotations


def _odd_bit_count(byte: int) -> bool:
    return bin(byte).count("1") % 2 == 1


# ModSecurity computes the parity over all eight bits of the input byte.
EVEN_PARITY = bytes((byte | 0x80) if _odd_bit_count(byte) else (byte & 0x7F) for byte in range(256))
ODD_PARITY = bytes((byte & 0x7F) if _odd_bit_count(byte) else (byte | 0x80) for byte in range(256))
ZERO_PARITY = bytes(byte & 0x7F for byte in range(256))
