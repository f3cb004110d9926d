"""@rx: PCRE semantics in byte mode, captures, macros and the hyperscan/RE2 split."""

from __future__ import annotations

import itertools

import pytest

from stockade.waf.operators import OperatorError, build_operator, regex_patterns
from stockade.waf.operators._pattern_syntax import without_possessive
from stockade.waf.operators._regex import CompiledRegex
from stockade.waf.operators.rx import Rx
from tests.waf.operators.recording import RecordingContext

MATCH_CASES = [
    ("abc", b"xxabcxx", True),
    ("^abc", b"xabc", False),
    ("a.c", b"a\nc", True),  # dot-all
    ("a$", b"xa", True),
    ("a$", b"xa\n", True),  # multi-line mode, as ModSecurity v3 compiles patterns
    ("a$", b"a\nb", True),
    ("^b", b"a\nb", True),
    ("\\Ab", b"a\nb", False),
    ("a\\z", b"a\n", False),
    ("a\\$", b"a$", True),
    ("a[$]", b"a$", True),
    ("a\\Z", b"xa\n", True),  # \Z keeps its PCRE meaning
    ("(?i)SeLeCt", b"select", True),
    ("(?i:union)\\s", b"UNION ", True),
    ("select", b"SELECT", False),
    ("a\\sb", b"a\x0bb", True),  # PCRE's \s includes the vertical tab
    ("a[\\s]b", b"a\x0bb", True),
    ("a\\Sb", b"a\x0bb", False),
    ("\\xe9", b"caf\xe9", True),  # bytes, not UTF-8 characters
    ("caf.$", "café".encode(), False),  # é is two bytes
    ("caf..$", "café".encode(), True),
    ("\\x{e2}\\x80", b"\xe2\x80\x98", True),
    ("[^a]", b"\xff", True),
    ("\\w", b"\xe9", False),  # \w is ASCII only
    ("", b"", True),
    ("x*", b"", True),
    ("\\Qa.b\\E$", b"a.b", True),
    ("\\Qa.b\\E", b"axb", False),
]


@pytest.mark.parametrize(("pattern", "value", "expected"), MATCH_CASES)
def test_rx_match(pattern: str, value: bytes, expected: bool, ctx: RecordingContext) -> None:
    assert build_operator("rx", pattern).evaluate(value, ctx) is expected


@pytest.mark.parametrize(("pattern", "value", "expected"), MATCH_CASES)
def test_rx_capture_path_agrees(
    pattern: str, value: bytes, expected: bool, capturing: RecordingContext
) -> None:
    assert build_operator("rx", pattern).evaluate(value, capturing) is expected


def test_rx_captures_whole_match_and_groups(capturing: RecordingContext) -> None:
    operator = build_operator("rx", r"(?i)(union)\s+(all\s+)?(select)")
    assert operator.evaluate(b"1 UNION  SELECT 2", capturing)
    assert capturing.captures == [b"UNION  SELECT", b"UNION", b"", b"SELECT"]


def test_rx_captures_at_most_ten(capturing: RecordingContext) -> None:
    operator = build_operator("rx", "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)")
    assert operator.evaluate(b"abcdefghijk", capturing)
    assert capturing.captures is not None
    assert len(capturing.captures) == 10
    assert capturing.captures[9] == b"i"


def test_rx_drops_trailing_unset_groups(capturing: RecordingContext) -> None:
    assert build_operator("rx", "(a)(x)?").evaluate(b"a", capturing)
    assert capturing.captures == [b"a", b"a"]


def test_rx_leftmost_first_like_pcre(capturing: RecordingContext) -> None:
    assert build_operator("rx", "(a|ab)(c|bcd)").evaluate(b"abcd", capturing)
    assert capturing.captures == [b"abcd", b"a", b"bcd"]


def test_rx_without_capture_sets_nothing(ctx: RecordingContext) -> None:
    assert build_operator("rx", "(a)").evaluate(b"a", ctx)
    assert ctx.captures is None


def test_rx_expands_macros_when_run() -> None:
    operator = build_operator("rx", "^%{tx.prefix}[0-9]+$")
    assert operator.evaluate(b"id42", RecordingContext(macros={"tx.prefix": "id"}))
    assert not operator.evaluate(b"id42", RecordingContext(macros={"tx.prefix": "no"}))


def test_rx_invalid_pattern_names_it() -> None:
    with pytest.raises(OperatorError) as caught:
        build_operator("rx", "(?<=a)b\\1")
    message = str(caught.value)
    assert "@rx" in message
    assert "(?<=a)b" in message
    assert "hyperscan" in message
    assert "RE2" in message


@pytest.mark.parametrize(
    ("pattern", "greedy"),
    [
        ("a++b", "a+b"),
        ("\\s*+;", "\\s*;"),
        ("x?+y", "x?y"),
        ("(?:ab){2,3}+c", "(?:ab){2,3}c"),
        ("[^?\\w\\s]++\\s*?\\w", "[^?\\w\\s]+\\s*?\\w"),
        ("\\+++", "\\++"),  # an escaped plus, repeated possessively
    ],
)
def test_without_possessive_makes_greedy(pattern: str, greedy: str) -> None:
    assert without_possessive(pattern) == greedy


@pytest.mark.parametrize(
    "pattern", ["a+", "a+?", "a??", "[a++]", "\\++", "x{a}+", "\\Qa++\\E", "(?:a)"]
)
def test_without_possessive_leaves_others(pattern: str) -> None:
    assert without_possessive(pattern) is None


def test_rx_possessive_pattern_read_as_greedy(ctx: RecordingContext) -> None:
    operator = build_operator("rx", "^a/b(?:\\s*+;\\s*+q=[0-9]+)*$")
    assert isinstance(operator, Rx)
    assert operator.compiled is not None
    assert operator.compiled.engine_pattern == "^a/b(?:\\s*;\\s*q=[0-9]+)*$"
    assert regex_patterns(operator) == "(?m)^a/b(?:\\s*;\\s*q=[0-9]+)*$"
    assert operator.evaluate(b"a/b ; q=1", ctx)
    assert not operator.evaluate(b"a/b ; q=x", ctx)


def test_rx_possessive_with_lookbehind_is_rejected() -> None:
    with pytest.raises(OperatorError, match="neither hyperscan"):
        build_operator("rx", "(?<!x)a++")


def test_rx_unclosed_group_is_rejected() -> None:
    with pytest.raises(OperatorError):
        build_operator("rx", "(abc")


def _shell_evasion_pattern(word_count: int) -> str:
    """Build an alternation shaped like CRS 932230: words with quotes allowed between letters."""
    between = "[\"'\\\\]*(?:(?:\\|\\||&&)\\s*)?(?:\\$[a-z_{]*)?"
    words = ["".join(letters) for letters in itertools.product("abcdefgh", repeat=4)]
    return "(?i)(?:" + "|".join(between.join(word) for word in words[:word_count]) + ")$"


def test_pattern_too_large_for_hyperscan_uses_re2(ctx: RecordingContext) -> None:
    pattern = _shell_evasion_pattern(400)
    assert CompiledRegex(pattern).engines == ("re2",)
    operator = build_operator("rx", pattern)
    assert operator.evaluate(b"x a'a\"a$IFS{a", ctx)
    assert operator.evaluate(b"aaaa\nnext line", ctx)
    assert not operator.evaluate(b"aaaa!", ctx)


def test_repeat_too_large_for_re2_uses_hyperscan(capturing: RecordingContext) -> None:
    pattern = "(?:[a-z]{1,50}x){1,100}"
    assert CompiledRegex(pattern).engines == ("hyperscan",)
    assert build_operator("rx", pattern).evaluate(b"abcx", capturing)
    assert capturing.captures is None  # RE2 cannot report groups for it


def test_same_pattern_compiles_once() -> None:
    first = build_operator("rx", "(?i)shared\\s+pattern")
    second = build_operator("rx", "(?i)shared\\s+pattern")
    assert isinstance(first, Rx)
    assert isinstance(second, Rx)
    assert first.compiled is second.compiled


def test_regex_patterns_sets_multiline_mode() -> None:
    assert regex_patterns(build_operator("rx", "a$")) == "(?m)a$"
    assert regex_patterns(build_operator("rx", "%{tx.x}")) is None
    assert regex_patterns(build_operator("pm", "a b")) is None


def test_rx_huge_value_does_not_backtrack(ctx: RecordingContext) -> None:
    operator = build_operator("rx", "(a+)+$")
    assert not operator.evaluate(b"a" * 100_000 + b"!", ctx)


@pytest.mark.parametrize("value", [b"", b"user-agent", b"two\nlines\n", b"\x00\xff tail"])
def test_whole_value_pattern_matches_as_re2(value: bytes) -> None:
    whole = CompiledRegex("^.*$")
    assert whole.search(value)
    assert whole.search_groups(value) == [value]
    # The same pattern with a no-op group goes through the engines.
    engine = CompiledRegex("^(?:.*)$")
    assert engine.search(value)
    assert engine.search_groups(value) == [value]
