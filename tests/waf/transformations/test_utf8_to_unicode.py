"""t:utf8toUnicode."""

from __future__ import annotations

import pytest

from stockade.waf.transformations.utf8_to_unicode import utf8_to_unicode

CASES = [
    (b"", b""),
    (b"ascii only", b"ascii only"),
    ("é".encode(), b"%u00e9"),
    ("caf\u00e9".encode(), b"caf%u00e9"),
    ("\u0430".encode(), b"%u0430"),  # Cyrillic a
    ("\uff1c".encode(), b"%uff1c"),  # full-width <
    ("\U0001f600".encode(), b"%u1f600"),  # five hex digits, no padding
    ("\U0010ffff".encode(), b"%u10ffff"),
    (b"\x80", b"\x80"),  # stray continuation byte stays
    (b"\xff\xfe", b"\xff\xfe"),
    (b"\xc3", b""),  # truncated sequence loses its lead byte
    (b"a\xc3", b"a"),
    (b"\xc3A", b"A"),  # broken sequence loses its lead byte
    (b"\xe2\x82", b"\x82"),
    (b"\xc0\xaf", b"%u002f\xc0"),  # overlong "/" is converted, then flagged
    (b"\xe0\x80\xaf", b"%u002f\xe0"),
    (b"\xed\xa0\x80", b"%ud800\xed"),  # surrogate
    (b"\xf5\x80\x80\x80", b"\xf5%u140000"),  # lead above U+10FFFF is kept
    (b"a\x00b", b"ab"),  # NUL bytes are lost, as in ModSecurity
    ("\u00e9\x00".encode(), b"%u00e9"),
]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_utf8_to_unicode(value: bytes, expected: bytes) -> None:
    assert utf8_to_unicode(value) == expected


def test_valid_and_invalid_paths_agree() -> None:
    valid = "Grüße, Привет, 日本 \U0001f600".encode()
    assert utf8_to_unicode(valid) == utf8_to_unicode(valid + b"\xff")[:-1]
