"""t:urlDecode and t:urlDecodeUni."""

from __future__ import annotations

import pytest

from stockade.waf.transformations.url_decode import url_decode
from stockade.waf.transformations.url_decode_uni import url_decode_uni

URL_DECODE_CASES = [
    (b"", b""),
    (b"abc", b"abc"),
    (b"a+b", b"a b"),
    (b"%41%42%43", b"ABC"),
    (b"%2f%2F", b"//"),
    (b"%00", b"\x00"),
    (b"%ff", b"\xff"),
    (b"%", b"%"),
    (b"%4", b"%4"),
    (b"a%4", b"a%4"),
    (b"%zz", b"%zz"),
    (b"%4g", b"%4g"),
    (b"%%41", b"%A"),
    (b"%2541", b"%41"),  # decoded bytes are not decoded again
    (b"%2B", b"+"),  # an encoded plus stays a plus
    (b"%u0041", b"%u0041"),  # no IIS escapes here
    (b"100%", b"100%"),
]


@pytest.mark.parametrize(("value", "expected"), URL_DECODE_CASES)
def test_url_decode(value: bytes, expected: bytes) -> None:
    assert url_decode(value) == expected


URL_DECODE_UNI_CASES = [
    (b"", b""),
    (b"a+b%20c", b"a b c"),
    (b"%u0041", b"A"),
    (b"%U0041", b"A"),
    (b"%u1241", b"A"),  # only the low byte is kept
    (b"%uff21", b"A"),  # full-width A
    (b"%uFF0E%uff0e%uFf0F", b"../"),  # full-width dots and slash
    (b"%uff5e", b"~"),
    (b"%uff5f", b"_"),  # past full-width ASCII: low byte only
    (b"%uff00", b"\x00"),  # low byte 0 is not shifted
    (b"%ufe21", b"!"),  # not full-width: low byte only
    (b"%u", b"%u"),
    (b"%u004", b"%u004"),  # truncated
    (b"%u00", b"%u00"),
    (b"%u00zz", b"%u00zz"),
    (b"%u%41", b"%uA"),
    (b"%uzz41", b"%uzz41"),
    (b"%41%u0042", b"AB"),
    (b"%zz", b"%zz"),
    (b"%4", b"%4"),
    (b"%u0025%u0034%u0031", b"%41"),  # decoded bytes are not decoded again
]


@pytest.mark.parametrize(("value", "expected"), URL_DECODE_UNI_CASES)
def test_url_decode_uni(value: bytes, expected: bytes) -> None:
    assert url_decode_uni(value) == expected


def test_url_decode_returns_input_without_escapes() -> None:
    value = b"plain/path?x=1"
    assert url_decode(value) is value
    assert url_decode_uni(value) is value
