"""@eq, @ge, @gt, @le and @lt."""

from __future__ import annotations

import pytest

from stockade.waf.operators import build_operator
from tests.waf.operators.recording import RecordingContext

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
