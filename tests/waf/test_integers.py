"""Integers read as C's atoll() reads them."""

from __future__ import annotations

import pytest

from stockade.waf.integers import parse_integer

PARSE_CASES = [
    (b"42", 42),
    (b"-7", -7),
    (b"+7", 7),
    (b" \t12abc", 12),
    (b"abc", 0),
    (b"", 0),
    (b"-", 0),
    (b"0009", 9),
    (b"1.9", 1),
    (b"99999999999999999999999", 2**63 - 1),
    (b"-99999999999999999999999", -(2**63)),
    (b"1" * 10_000, 2**63 - 1),
]


@pytest.mark.parametrize(("text", "expected"), PARSE_CASES)
def test_parse_integer_like_atoll(text: bytes, expected: int) -> None:
    assert parse_integer(text) == expected
