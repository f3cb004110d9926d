"""Security events and error log lines built from WAF matches."""

from __future__ import annotations

from stockade.waf.events import REDACTED, _kind, error_log_line, redact
from stockade.waf.matches import Match
from tests.waf.engine_helpers import engine_from, get, run


def _match(variable: str, data: bytes) -> Match:
    return Match(rule_id=942100, phase=2, msg='SQL "injection"', logdata="x", tags=("a", "b"),
                 severity_number=2, variable=variable, data=data, disruptive="pass")


def test_redact_hides_secret_variables() -> None:
    assert redact("REQUEST_HEADERS:Authorization", b"Bearer abc") == REDACTED
    assert redact("ARGS:password", b"hunter2") == REDACTED
    assert redact("REQUEST_COOKIES:session_id", b"abc") == REDACTED


def test_redact_cuts_long_values() -> None:
    text = redact("ARGS:q", b"a" * 500)
    assert text.endswith("...")
    assert len(text) == 203


def test_redact_escapes_control_bytes() -> None:
    assert redact("ARGS:q", b"a\r\nb") == "a\\r\\nb"


def test_error_log_line_format() -> None:
    transaction = run(engine_from(""), get(b"/path?q=1"))
    line = error_log_line(_match("ARGS:q", b"1 OR 1=1"), transaction)
    assert line.startswith('ModSecurity: Warning. Matched "1 OR 1=1" at ARGS:q.')
    assert '[id "942100"]' in line
    assert '[msg "SQL \\"injection\\""]' in line
    assert '[severity "2"]' in line
    assert '[tag "a"] [tag "b"]' in line
    assert '[uri "/path"]' in line


def test_error_log_line_never_contains_secret() -> None:
    transaction = run(engine_from(""), get(b"/"))
    line = error_log_line(_match("REQUEST_HEADERS:Authorization", b"Bearer s3cr3t"),
                          transaction)
    assert "s3cr3t" not in line


def _tagged(rule_id: int, *tags: str) -> Match:
    return Match(rule_id=rule_id, phase=2, msg="m", logdata="", tags=tags, severity_number=2,
                 variable="ARGS:host", data=b"x", disruptive="pass")


def test_kind_follows_most_matched_family() -> None:
    matches = [_tagged(930120, "application-multi", "attack-lfi"),
               _tagged(932160, "attack-rce"), _tagged(932100, "platform-unix", "attack-rce")]
    assert _kind(matches) == "rce"


def test_kind_tie_goes_to_first_family() -> None:
    assert _kind([_tagged(941100, "attack-xss"), _tagged(942100, "attack-sqli")]) == "xss"
    assert _kind([_tagged(920350, "attack-protocol")]) == "protocol"
    assert _kind([_tagged(900000, "paranoia-level/1")]) == "crs"
