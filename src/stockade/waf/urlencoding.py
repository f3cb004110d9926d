"""Percent-decoding and ``application/x-www-form-urlencoded`` splitting, on bytes."""

from __future__ import annotations

HEX_DIGITS = b"0123456789abcdefABCDEF"


def decode_form_value(data: bytes) -> tuple[bytes, bool]:
    """Decode ``%XX`` and ``+``; return the result and whether an invalid escape was seen.

    Invalid escapes stay as they are, as in ModSecurity.
    """
    if b"%" not in data and b"+" not in data:
        return data, False
    out = bytearray()
    invalid = False
    index = 0
    length = len(data)
    while index < length:
        byte = data[index]
        if byte == 0x25:  # %
            if (index + 2 < length and data[index + 1] in HEX_DIGITS
                    and data[index + 2] in HEX_DIGITS):
                out.append(int(data[index + 1:index + 3], 16))
                index += 3
                continue
            invalid = True
            out.append(byte)
        elif byte == 0x2B:  # +
            out.append(0x20)
        else:
            out.append(byte)
        index += 1
    return bytes(out), invalid


def split_form(data: bytes, separator: bytes = b"&") -> list[tuple[bytes, bytes, bool]]:
    """Split and decode ``a=1&b=2``; each item is ``(name, value, had_invalid_escape)``.

    A part without ``=`` is a name with an empty value; empty parts are skipped.
    """
    pairs: list[tuple[bytes, bytes, bool]] = []
    for part in data.split(separator):
        if not part:
            continue
        raw_name, _, raw_value = part.partition(b"=")
        name, bad_name = decode_form_value(raw_name)
        value, bad_value = decode_form_value(raw_value)
        pairs.append((name, value, bad_name or bad_value))
    return pairs
