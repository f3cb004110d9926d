"""Case, whitespace, NUL, trim, length, parity and URL-encoding transformations."""

from __future__ import annotations

import pytest

from stockade.waf.transformations import get_transformation

CASES = [
    ("none", b"A%20b", b"A%20b"),
    ("lowercase", b"SeLeCT \xc9", b"select \xc9"),
    ("uppercase", b"select \xe9", b"SELECT \xe9"),
    ("removeNulls", b"a\x00b\x00", b"ab"),
    ("replaceNulls", b"a\x00b", b"a b"),
    ("removeWhitespace", b" a\tb\nc\rd\x0be\x0cf\xa0g ", b"abcdefg"),
    ("removeWhitespace", b"a\x85b", b"a\x85b"),
    ("compressWhitespace", b"a \t\r\n b", b"a b"),
    ("compressWhitespace", b"  a  ", b" a "),
    ("compressWhitespace", b"\xa0\xa0", b" "),
    ("compressWhitespace", b"a b", b"a b"),
    ("compressWhitespace", b"", b""),
    ("trim", b" \t\x0b\x0cab c\r\n", b"ab c"),
    ("trim", b"\xa0a\xa0", b"\xa0a\xa0"),
    ("trimLeft", b" \tab ", b"ab "),
    ("trimRight", b" ab \n", b" ab"),
    ("length", b"", b"0"),
    ("length", b"abc\x00", b"4"),
    ("length", "é".encode(), b"2"),
    ("urlEncode", b"a b", b"a+b"),
    ("urlEncode", b"A-z_0.9*~", b"A%2dz%5f0%2e9*%7e"),
    ("urlEncode", b"\x00\xff", b"%00%ff"),
    ("parityEven7bit", b"a", b"\xe1"),
    ("parityEven7bit", b"c", b"c"),
    ("parityOdd7bit", b"a", b"a"),
    ("parityOdd7bit", b"c", b"\xe3"),
    ("parityZero7bit", b"\xe1\x61", b"aa"),
]


@pytest.mark.parametrize(("name", "value", "expected"), CASES)
def test_simple_transformation(name: str, value: bytes, expected: bytes) -> None:
    assert get_transformation(name)(value) == expected
