"""@validateByteRange, @validateUrlEncoding, @validateUtf8Encoding and the constant operators."""

from __future__ import annotations

import pytest

from stockade.waf.operators import OperatorError, build_operator
from tests.waf.operators.recording import RecordingContext

BYTE_RANGE_CASES = [
    ("32-126", b"hello", False),
    ("32-126", b"a\x00b", True),
    ("32-126", b"\x7f", True),
    ("1-255", b"\x00", True),
    ("1-255", bytes(range(1, 256)), False),
    ("9,10,13,32-126,128-255", b"a\tb\r\n\xff", False),
    ("9,10,13,32-126,128-255", b"\x7f", True),
    ("38,44-46,48-58,61,65-90,95,97-122", b"a=1&b_c", False),
    ("38,44-46,48-58,61,65-90,95,97-122", b"a=<", True),
    ("32-126", b"", False),
]


@pytest.mark.parametrize(("ranges", "value", "expected"), BYTE_RANGE_CASES)
def test_validate_byte_range(
    ranges: str, value: bytes, expected: bool, ctx: RecordingContext
) -> None:
    assert build_operator("validateByteRange", ranges).evaluate(value, ctx) is expected


@pytest.mark.parametrize("ranges", ["", "256", "10-5", "a-b", "-1", "1-2-3"])
def test_validate_byte_range_rejects_invalid_ranges(ranges: str) -> None:
    with pytest.raises(OperatorError) as caught:
        build_operator("validateByteRange", ranges)
    assert "@validateByteRange" in str(caught.value)


URL_ENCODING_CASES = [
    (b"a%2Fb", False),
    (b"plain", False),
    (b"%", True),
    (b"a%2", True),
    (b"%zz", True),
    (b"%2g", True),
    (b"%41%", True),
    (b"%u0041", True),
    (b"", False),
]


@pytest.mark.parametrize(("value", "expected"), URL_ENCODING_CASES)
def test_validate_url_encoding(value: bytes, expected: bool, ctx: RecordingContext) -> None:
    assert build_operator("validateUrlEncoding", "").evaluate(value, ctx) is expected


UTF8_CASES = [
    (b"ascii", False),
    ("caf\u00e9 \U0001f600".encode(), False),
    (b"\xc0\xaf", True),  # overlong
    (b"\xe0\x80\xaf", True),
    (b"\xc3", True),  # truncated
    (b"\xc3A", True),
    (b"\x80", True),
    (b"\xed\xa0\x80", True),  # surrogate
    (b"\xf4\x90\x80\x80", True),  # above U+10FFFF
    (b"\xff", True),
    (b"", False),
]


@pytest.mark.parametrize(("value", "expected"), UTF8_CASES)
def test_validate_utf8_encoding(value: bytes, expected: bool, ctx: RecordingContext) -> None:
    assert build_operator("validateUtf8Encoding", "").evaluate(value, ctx) is expected


@pytest.mark.parametrize("value", [b"", b"x", b"\x00" * 10])
def test_constant_operators(value: bytes, ctx: RecordingContext) -> None:
    assert build_operator("unconditionalMatch", "").evaluate(value, ctx) is True
    assert build_operator("noMatch", "").evaluate(value, ctx) is False
