"""@eq, @ge, @gt, @le and @lt."""

from __future__ import annotations

import pytest

from stockade.waf.operators import build_operator
from stockade.waf.operators._numeric_compare import parse_integer
from tests.waf.operators.recording import RecordingContext

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


CASES = [
    ("eq", "0", b"0", True),
    ("eq", "0", b"abc", True),  # not a number reads as 0
    ("eq", "1", b"01", True),
    ("eq", "1", b"2", False),
    ("ge", "5", b"5", True),
    ("ge", "5", b"4", False),
    ("gt", "5", b"6", True),
    ("gt", "5", b"5", False),
    ("le", "3", b"3", True),
    ("le", "3", b"-1", True),
    ("le", "3", b"4", False),
    ("lt", "1", b"0", True),
    ("lt", "1", b"1", False),
    ("lt", " 2 ", b"1", True),
]


@pytest.mark.parametrize(("name", "argument", "value", "expected"), CASES)
def test_numeric_operator(
    name: str, argument: str, value: bytes, expected: bool, ctx: RecordingContext
) -> None:
    assert build_operator(name, argument).evaluate(value, ctx) is expected


def test_macro_threshold() -> None:
    operator = build_operator("ge", "%{tx.inbound_anomaly_score_threshold}")
    context = RecordingContext(macros={"tx.inbound_anomaly_score_threshold": "5"})
    assert operator.evaluate(b"5", context)
    assert not operator.evaluate(b"4", context)
