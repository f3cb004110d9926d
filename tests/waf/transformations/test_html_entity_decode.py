"""t:htmlEntityDecode."""

from __future__ import annotations

import pytest

from stockade.waf.transformations.html_entity_decode import html_entity_decode

CASES = [
    (b"", b""),
    (b"no entities", b"no entities"),
    (b"&lt;script&gt;", b"<script>"),
    (b"&LT;&Gt;&QUOT;&amp;&nbsp;", b'<>"&\xa0'),
    (b"&lt", b"<"),  # the semicolon is optional
    (b"&ltscript", b"&ltscript"),  # the name runs to the first non-alphanumeric byte
    (b"&copy;", b"&copy;"),  # unknown names stay
    (b"&colon;", b"&colon;"),
    (b"&#60;&#x3C;&#X3c;", b"<<<"),
    (b"&#60&#x3c", b"<<"),
    (b"&#0000000065;", b"A"),
    (b"&#x0000041;", b"A"),
    (b"&#256;", b"\x00"),  # low byte only
    (b"&#321;", b"A"),
    (b"&#x141;", b"A"),
    (b"&#99999999999999999999999;", b"\xff"),  # strtol saturates at LONG_MAX
    (b"&#xfffffffffffffffffff;", b"\xff"),
    (b"&", b"&"),
    (b"&&", b"&&"),
    (b"& ", b"& "),
    (b"&#", b"&#"),
    (b"&#x", b"&#x"),
    (b"&#;", b"&#;"),
    (b"&#x;", b"&#x;"),
    (b"&#xg", b"&#xg"),
    (b"a&#", b"a&#"),
    (b"&amp;lt;", b"&lt;"),  # decoded once only
    (b"&#38;#60;", b"&#60;"),
    (b"\x00&#0;", b"\x00\x00"),
]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_html_entity_decode(value: bytes, expected: bytes) -> None:
    assert html_entity_decode(value) == expected


def test_long_digit_run_is_fast_and_saturates() -> None:
    value = b"&#" + b"9" * 200_000 + b";x"
    assert html_entity_decode(value) == b"\xffx"
