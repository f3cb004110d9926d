"""t:jsDecode."""

from __future__ import annotations

import pytest

from stockade.waf.transformations.js_decode import js_decode

CASES = [
    (b"", b""),
    (b"abc", b"abc"),
    (b"\\x41\\x42", b"AB"),
    (b"\\x4", b"x4"),  # truncated: the escaped byte stands for itself
    (b"\\xZZ", b"xZZ"),
    (b"\\X41", b"X41"),  # only lowercase \x
    (b"\\u0041", b"A"),
    (b"\\u1241", b"A"),  # low byte
    (b"\\uff21", b"A"),  # full-width A
    (b"\\uFF0E", b"."),
    (b"\\u004", b"u004"),
    (b"\\U0041", b"U0041"),  # only lowercase \u
    (b"\\101", b"A"),
    (b"\\0", b"\x00"),
    (b"\\12", b"\n"),
    (b"\\377", b"\xff"),
    (b"\\400", b"\x200"),  # 0o40 then "0": three digits above \377 use two
    (b"\\1234", b"S4"),
    (b"\\8", b"8"),
    (b"\\a\\b\\f\\n\\r\\t\\v", b"\x07\x08\x0c\n\r\t\x0b"),
    (b"\\'\\\"\\\\\\?", b"'\"\\?"),
    (b"\\q", b"q"),
    (b"\\", b"\\"),  # a backslash at the end stays
    (b"a\\", b"a\\"),
    (b"\\\\x41", b"\\x41"),  # an escaped backslash is not read again
    (b"<\\163\\143\\162\\151\\160\\164>", b"<script>"),
]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_js_decode(value: bytes, expected: bytes) -> None:
    assert js_decode(value) == expected
