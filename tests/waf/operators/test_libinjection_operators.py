"""@detectSQLi and @detectXSS through libinjection's C API."""

from __future__ import annotations

import pytest

from stockade.waf.operators import build_operator
from stockade.waf.operators._libinjection import LIBINJECTION_VERSION
from tests.waf.operators.recording import RecordingContext

SQLI_CASES = [
    (b"1' or '1'='1", True),
    (b"1 UNION SELECT password FROM users--", True),
    (b"admin'--", True),
    (b"\xff' or 1=1--", True),  # not valid UTF-8, still inspected
    (b"hello world", False),
    (b"O'Reilly", False),
    (b"", False),
]


@pytest.mark.parametrize(("value", "expected"), SQLI_CASES)
def test_detect_sqli(value: bytes, expected: bool, ctx: RecordingContext) -> None:
    assert build_operator("detectSQLi", "").evaluate(value, ctx) is expected


def test_detect_sqli_captures_fingerprint(capturing: RecordingContext) -> None:
    assert build_operator("detectSQLi", "").evaluate(b"1' or '1'='1", capturing)
    assert capturing.captures == [b"s&sos"]


def test_detect_sqli_without_capture_sets_nothing(ctx: RecordingContext) -> None:
    assert build_operator("detectSQLi", "").evaluate(b"1' or '1'='1", ctx)
    assert ctx.captures is None


XSS_CASES = [
    (b"<script>alert(1)</script>", True),
    (b"<img src=x onerror=alert(1)>", True),
    (b"javascript:alert(1)", False),
    (b"<b>bold</b>", False),
    (b"plain text", False),
    (b"\xff<script>alert(1)</script>", True),
    (b"", False),
]


@pytest.mark.parametrize(("value", "expected"), XSS_CASES)
def test_detect_xss(value: bytes, expected: bool, ctx: RecordingContext) -> None:
    assert build_operator("detectXSS", "").evaluate(value, ctx) is expected


def test_libinjection_version_is_known() -> None:
    assert LIBINJECTION_VERSION.startswith("3.")


def test_values_with_nul_bytes_are_inspected_whole(ctx: RecordingContext) -> None:
    assert build_operator("detectSQLi", "").evaluate(b"x\x00' or 1=1--", ctx)
