"""t:escapeSeqDecode."""

from __future__ import annotations

import pytest

from stockade.waf.transformations.escape_seq_decode import escape_seq_decode

CASES = [
    (b"", b""),
    (b"abc", b"abc"),
    (b"\\a\\b\\f\\n\\r\\t\\v", b"\x07\x08\x0c\n\r\t\x0b"),
    (b"\\\\\\?\\'\\\"", b"\\?'\""),
    (b"\\x41\\X42", b"AB"),
    (b"\\x4", b"x4"),  # invalid: the backslash goes, the byte stays
    (b"\\xzz", b"xzz"),
    (b"\\101", b"A"),
    (b"\\0", b"\x00"),
    (b"\\777", b"\xff"),  # 511 keeps its low eight bits
    (b"\\1011", b"A1"),  # three octal digits at most
    (b"\\q", b"q"),
    (b"\\u0041", b"u0041"),
    (b"\\", b"\\"),
    (b"a\\", b"a\\"),
]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_escape_seq_decode(value: bytes, expected: bytes) -> None:
    assert escape_seq_decode(value) == expected
