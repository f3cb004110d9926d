"""Base64 decoding that keeps whatever decodes, shared by the two decoders."""

from __future__ import annotations

import binascii

ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_QUANTUM = 4  # Base64 characters per three decoded bytes


def decode_clean(characters: bytes) -> bytes:
    """Decode Base64 characters that are all from the alphabet, padding optional.

    A final group of two or three characters yields one or two bytes. A
    lone final character carries too few bits for a byte, so it is dropped.
    """
    whole = len(characters) - len(characters) % _QUANTUM
    decoded = binascii.a2b_base64(characters[:whole]) if whole else b""
    remainder = characters[whole:]
    if len(remainder) >= 2:
        padded = remainder + b"=" * (_QUANTUM - len(remainder))
        # The unused low bits of the last character may be non-zero, which
        # strict mode would reject; the default mode ignores them.
        decoded += binascii.a2b_base64(padded)
    return decoded
