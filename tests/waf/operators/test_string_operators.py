"""@streq, @contains, @containsWord, @strmatch, @beginsWith, @endsWith and @within."""

from __future__ import annotations

import pytest

from stockade.waf.operators import build_operator
from tests.waf.operators.recording import RecordingContext

CASES = [
    ("streq", "POST", b"POST", True),
    ("streq", "POST", b"post", False),
    ("streq", "POST", b"POST ", False),
    ("streq", "", b"", True),
    ("contains", "-->", b"a --> b", True),
    ("contains", "-->", b"a -> b", False),
    ("contains", "", b"anything", True),
    ("strmatch", "WebZIP", b"Mozilla (WebZIP)", True),
    ("strmatch", "WebZIP", b"webzip", False),
    ("containsWord", "select", b"1 select 2", True),
    ("containsWord", "select", b"select", True),
    ("containsWord", "select", b"(select)", True),
    ("containsWord", "select", b"selection", False),
    ("containsWord", "select", b"_select", True),  # only letters continue a word
    ("containsWord", "select", b"select1", True),
    ("containsWord", "select", b"xselect", False),
    ("containsWord", "select", b"selection select", True),
    ("containsWord", "select", b"", False),
    ("beginsWith", "#:~:text=", b"#:~:text=hi", True),
    ("beginsWith", "#:~:text=", b"x#:~:text=", False),
    ("endsWith", ".pdf", b"a.pdf", True),
    ("endsWith", ".pdf", b"a.PDF", False),
    ("within", "GET HEAD POST", b"HEAD", True),
    ("within", "GET HEAD POST", b"PUT", False),
    ("within", "GET HEAD POST", b"ET H", True),  # a substring test, as in ModSecurity
    ("within", "GET", b"", True),
]


@pytest.mark.parametrize(("name", "argument", "value", "expected"), CASES)
def test_string_operator(
    name: str, argument: str, value: bytes, expected: bool, ctx: RecordingContext
) -> None:
    assert build_operator(name, argument).evaluate(value, ctx) is expected


MACRO_CASES = [
    ("within", "%{tx.allowed_methods}", b"PATCH", True),
    ("within", "%{tx.allowed_methods}", b"TRACE", False),
    ("streq", "%{request_headers.host}", b"api.example.test", True),
    ("endsWith", ".%{request_headers.host}", b"a.api.example.test", True),
    ("endsWith", ".%{request_headers.host}", b"api.example.test", False),
    ("contains", "%{tx.marker}", b"has ~~ in it", True),
]
MACROS = {
    "tx.allowed_methods": "GET HEAD POST PATCH",
    "request_headers.host": "api.example.test",
    "tx.marker": "~~",
}


@pytest.mark.parametrize(("name", "argument", "value", "expected"), MACRO_CASES)
def test_macros_expand_when_run(name: str, argument: str, value: bytes, expected: bool) -> None:
    context = RecordingContext(macros=MACROS)
    assert build_operator(name, argument).evaluate(value, context) is expected


def test_macro_value_changes_between_runs() -> None:
    operator = build_operator("streq", "%{tx.expected}")
    assert operator.evaluate(b"one", RecordingContext(macros={"tx.expected": "one"}))
    assert not operator.evaluate(b"one", RecordingContext(macros={"tx.expected": "two"}))


def test_non_ascii_argument_is_utf8(ctx: RecordingContext) -> None:
    assert build_operator("contains", "é").evaluate("café".encode(), ctx)


def test_contains_captures_argument(capturing: RecordingContext) -> None:
    assert build_operator("contains", "<h1").evaluate(b"x<h1>", capturing)
    assert capturing.captures == [b"<h1"]


def test_within_captures_value(capturing: RecordingContext) -> None:
    assert build_operator("within", "a b c").evaluate(b"b", capturing)
    assert capturing.captures == [b"b"]
