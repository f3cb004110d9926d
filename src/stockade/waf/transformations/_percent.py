"""Lookup tables for two-digit hex escapes, shared by the URL decoders."""

from __future__ import annotations

_HEX = b"0123456789abcdefABCDEF"

# Every pair of hex digits mapped to the byte it spells: b"4a" -> b"J".
HEX_PAIR_BYTES: dict[bytes, bytes] = {
    bytes([high, low]): bytes([int(bytes([high, low]), 16)]) for high in _HEX for low in _HEX
}
