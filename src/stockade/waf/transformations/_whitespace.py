"""Whitespace as the whitespace transformations define it."""

from __future__ import annotations

NBSP = 0xA0  # no-break space in Latin-1, listed as whitespace by the SecLang reference

# C isspace() in the C locale, plus the no-break space.
WHITESPACE = b" \t\n\v\f\r" + bytes([NBSP])


def squeeze_spaces(value: bytes) -> bytes:
    """Replace each run of spaces in ``value`` with a single space."""
    if b"  " not in value:
        return value
    words = value.split(b" ")
    squeezed = b" ".join(word for word in words if word)
    # split() yields an empty first or last word when the value starts or
    # ends with spaces; each such run still becomes one space.
    if not squeezed:
        return b" "
    if not words[0]:
        squeezed = b" " + squeezed
    if not words[-1]:
        squeezed += b" "
    return squeezed
