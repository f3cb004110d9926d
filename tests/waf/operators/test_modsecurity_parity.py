"""Operators decide as libmodsecurity 3 does on the same values.

Each table case without macros runs as a one-rule ModSecurity rule set; the
rule must fire exactly when Stockade's operator matches. Deliberate
differences are listed in DEVIATIONS with the reason.
"""

from __future__ import annotations

import pytest

from stockade.waf.operators import build_operator
from tests.waf.operators import (
    test_ip_match,
    test_libinjection_operators,
    test_numeric_operators,
    test_pm,
    test_rx,
    test_string_operators,
    test_validate_operators,
)
from tests.waf.operators.recording import RecordingContext
from tests.waf.transformations.libmodsecurity import ModSecurity, load_modsecurity


def _cases() -> list[tuple[str, str, bytes]]:
    cases = [("rx", pattern, value) for pattern, value, _ in test_rx.MATCH_CASES]
    cases += [("pm", phrases, value) for phrases, value, _ in test_pm.PM_CASES]
    cases += [("detectSQLi", "", value) for value, _ in test_libinjection_operators.SQLI_CASES]
    cases += [("detectXSS", "", value) for value, _ in test_libinjection_operators.XSS_CASES]
    cases += [(name, argument, value) for name, argument, value, _ in test_string_operators.CASES]
    cases += [(name, argument, value) for name, argument, value, _ in test_numeric_operators.CASES]
    cases += [("ipMatch", networks, value) for networks, value, _ in test_ip_match.CASES]
    cases += [
        ("validateByteRange", ranges, value)
        for ranges, value, _ in test_validate_operators.BYTE_RANGE_CASES
    ]
    cases += [
        ("validateUrlEncoding", "", value)
        for value, _ in test_validate_operators.URL_ENCODING_CASES
    ]
    cases += [
        ("validateUtf8Encoding", "", value) for value, _ in test_validate_operators.UTF8_CASES
    ]
    return cases


# (operator, argument, value) -> why Stockade decides differently.
DEVIATIONS: dict[tuple[str, str, bytes], str] = {
    ("validateUtf8Encoding", "", b"\xf4\x90\x80\x80"): (
        "RFC 3629 ends UTF-8 at U+10FFFF; ModSecurity 3.0.9 accepts code points above it"
    ),
    ("rx", "", b""): "ModSecurity rejects an empty operator argument",
    ("streq", "", b""): "ModSecurity rejects an empty operator argument",
    ("contains", "", b"anything"): "ModSecurity rejects an empty operator argument",
    ("ipMatch", "192.0.2.0/24, 198.51.100.0/24", b"198.51.100.77"): (
        "ModSecurity rejects a space after the comma; Stockade accepts it"
    ),
    ("ipMatch", "0.0.0.0/0", b"203.0.113.9"): "ModSecurity rejects a /0 block",
}


def _seclang_argument(argument: str) -> str:
    """Escape the double quotes of an argument for a double-quoted SecLang operator."""
    return argument.replace('"', '\\"')


@pytest.fixture(scope="module")
def modsecurity() -> ModSecurity:
    engine = load_modsecurity()
    if engine is None:
        pytest.skip("libmodsecurity 3 is not installed; apt-get install libmodsecurity3")
    return engine


def test_operators_match_modsecurity(modsecurity: ModSecurity) -> None:
    context = RecordingContext()
    mismatches = []
    for name, argument, value in _cases():
        if (name, argument, value) in DEVIATIONS:
            continue
        ours = build_operator(name, argument).evaluate(value, context)
        operator = f"@{name} {_seclang_argument(argument)}".rstrip()
        try:
            theirs = modsecurity.rule_denies(operator, "t:none", value)
        except ValueError as error:
            mismatches.append(f"@{name} {argument!r}: ModSecurity rejects the rule: {error}")
            continue
        if ours != theirs:
            mismatches.append(f"@{name} {argument!r} on {value!r}: Stockade {ours}")
    assert mismatches == []
