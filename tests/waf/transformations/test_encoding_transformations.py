"""Base64, hex, SQL hex and hash transformations."""

from __future__ import annotations

import pytest

from stockade.waf.transformations import get_transformation

CASES = [
    ("base64Decode", b"c2VsZWN0IDE=", b"select 1"),
    ("base64Decode", b"c2VsZWN0IDE", b"select 1"),  # padding is optional
    ("base64Decode", b"c2Vs\r\nZWN0", b"select"),  # CR and LF are skipped
    ("base64Decode", b"c2Vs!ZWN0", b"sel"),  # decoding stops at an invalid byte
    ("base64Decode", b"c2Vs ZWN0", b"sel"),
    ("base64Decode", b"YQ==YWJj", b"a"),  # and at padding
    ("base64Decode", b"Y", b""),  # one character carries no whole byte
    ("base64Decode", b"", b""),
    ("base64Decode", b"\xff", b""),
    ("base64DecodeExt", b"c2Vs.ZW N0\nIDE", b"select 1"),
    ("base64DecodeExt", b"c2V!!!sZWN0", b"select"),
    ("base64DecodeExt", b"YQ==YWJj", b"a\x06\x16&"),  # padding is skipped too
    ("base64Encode", b"", b""),
    ("base64Encode", b"abc d", b"YWJjIGQ="),
    ("hexEncode", b"a\xff\x00", b"61ff00"),
    ("hexDecode", b"414243", b"ABC"),
    ("hexDecode", b"4142434", b"ABC"),  # an odd last digit is dropped
    ("hexDecode", b"41zz", b"41zz"),  # invalid hex leaves the value unchanged
    ("sqlHexDecode", b"SELECT 0x61646d696e", b"SELECT admin"),
    ("sqlHexDecode", b"0X41 0x", b"A 0x"),
    ("sqlHexDecode", b"0x414", b"A4"),
    ("sqlHexDecode", b"0x0x41", b"0xA"),
    ("sqlHexDecode", b"0xzz", b"0xzz"),
    ("sha1", b"abc", bytes.fromhex("a9993e364706816aba3e25717850c26c9cd0d89d")),
    ("md5", b"abc", bytes.fromhex("900150983cd24fb0d6963f7d28e17f72")),
]


@pytest.mark.parametrize(("name", "value", "expected"), CASES)
def test_encoding_transformation(name: str, value: bytes, expected: bytes) -> None:
    assert get_transformation(name)(value) == expected


def test_base64_round_trip_of_every_byte() -> None:
    value = bytes(range(256))
    encoded = get_transformation("base64Encode")(value)
    assert get_transformation("base64Decode")(encoded) == value
    assert get_transformation("base64DecodeExt")(encoded) == value
