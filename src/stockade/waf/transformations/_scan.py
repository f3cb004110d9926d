"""Span helpers that find the end of a run of bytes without a Python loop per byte."""

from __future__ import annotations

SCAN_CHUNK = 64  # bytes examined per step; keeps each slice copy small


def span_of(value: bytes, start: int, accepted: bytes) -> int:
    """Return the index after the run of ``accepted`` bytes that begins at ``start``."""
    position = start
    length = len(value)
    while position < length:
        chunk = value[position : position + SCAN_CHUNK]
        rest = chunk.lstrip(accepted)
        position += len(chunk) - len(rest)
        if rest:
            break
    return position


DECIMAL_DIGITS = b"0123456789"
OCTAL_DIGITS = b"01234567"
HEX_DIGITS = b"0123456789abcdefABCDEF"
ASCII_ALNUM = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
