"""Turn WAF matches into security events and ModSecurity-style error log lines."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stockade.events.model import Severity
from stockade.waf.matches import Match
from stockade.waf.request_vars import to_text

if TYPE_CHECKING:
    from stockade.events.model import SecurityEvent
    from stockade.gateway.exchange import Exchange
    from stockade.waf.transaction import Transaction

MAX_EVIDENCE_CHARS = 200
"""Matched data kept per rule in an event; enough to triage, too short to leak a body."""
REDACTED = "[redacted]"
SECRET_NAME_PARTS = ("authorization", "cookie", "password", "passwd", "secret", "token",
                     "api-key", "api_key", "apikey", "session", "credential", "x-api-key")
"""Variable names whose matched value is never copied into an event or log line."""

SEVERITY_MAP = {0: Severity.CRITICAL, 1: Severity.CRITICAL, 2: Severity.CRITICAL,
                3: Severity.HIGH, 4: Severity.MEDIUM, 5: Severity.LOW, 6: Severity.INFO,
                7: Severity.INFO}
"""SecLang severity (0 EMERGENCY to 7 DEBUG) to Stockade's severity."""


def redact(variable: str, data: bytes) -> str:
    """Return matched data safe to record: secrets replaced, long values cut."""
    lowered = variable.lower()
    if any(part in lowered for part in SECRET_NAME_PARTS):
        return REDACTED
    text = to_text(data).encode("unicode_escape", "backslashreplace").decode("ascii")
    if len(text) > MAX_EVIDENCE_CHARS:
        return text[:MAX_EVIDENCE_CHARS] + "..."
    return text


_QUOTED: dict[int, str] = {
    **{code: f"\\x{code:02x}" for code in [*range(0x20), 0x7F]},
    ord('"'): '\\"',
    ord("\\"): "\\\\",
}
"""The escape ``_quote`` writes in place of each character it escapes."""


def _quote(text: str) -> str:
    """Escape for a log field: quotes and backslashes, and \\xHH for control bytes."""
    return text.translate(_QUOTED)


def error_log_line(match: Match, transaction: Transaction) -> str:
    """Format one match as ModSecurity's error log does, for tools that parse it."""
    request = transaction.request
    parts = [
        f'ModSecurity: Warning. Matched "{_quote(redact(match.variable, match.data))}" '
        f'at {match.variable}.',
        f'[id "{match.rule_id}"]',
        f'[msg "{_quote(match.msg)}"]',
        f'[data "{_quote(_redact_logdata(match))}"]',
        f'[severity "{match.severity_number if match.severity_number is not None else ""}"]',
    ]
    parts.extend(f'[tag "{_quote(tag)}"]' for tag in match.tags)
    parts.append(f'[uri "{_quote(to_text(request.target.partition(b"?")[0]))}"]')
    parts.append(f'[unique_id "{request.unique_id}"]')
    return " ".join(parts)


def _redact_logdata(match: Match) -> str:
    if any(part in match.variable.lower() for part in SECRET_NAME_PARTS):
        return REDACTED
    return match.logdata[:MAX_EVIDENCE_CHARS]


def anomaly_scores(transaction: Transaction) -> dict[str, int]:
    scores: dict[str, int] = {}
    for key in ("blocking_inbound_anomaly_score", "blocking_outbound_anomaly_score",
                "detection_inbound_anomaly_score", "detection_outbound_anomaly_score",
                "inbound_anomaly_score", "outbound_anomaly_score", "anomaly_score"):
        value = transaction.tx.first(key)
        if value is not None and value.strip().lstrip(b"-").isdigit():
            scores[key] = int(value)
    return scores


def security_event(exchange: Exchange, transaction: Transaction, *,
                   blocked: bool) -> SecurityEvent | None:
    """Build one event for the transaction's matches, or None when nothing logged."""
    matches = [match for match in transaction.matches if match.rule_id < 949000
               or match.rule_id > 999999 or blocked]
    if not matches:
        return None
    worst = min((match.severity_number for match in matches
                 if match.severity_number is not None), default=5)
    interruption = transaction.interruption
    main = next((match for match in matches if interruption is not None
                 and match.rule_id == interruption.rule_id), matches[0])
    kind = _kind(matches)
    evidence: dict[str, Any] = {
        "matches": [{"rule_id": match.rule_id, "msg": match.msg, "variable": match.variable,
                     "data": redact(match.variable, match.data), "phase": match.phase}
                    for match in matches],
        "anomaly_scores": anomaly_scores(transaction),
        "error_log": [error_log_line(match, transaction) for match in matches],
    }
    if interruption is not None:
        evidence["status"] = interruption.status
    return exchange.event("waf", kind, main.msg or f"rule {main.rule_id} matched",
                          SEVERITY_MAP.get(worst, Severity.MEDIUM),
                          rule_ids=[str(match.rule_id) for match in matches],
                          evidence=evidence)


def _kind(matches: list[Match]) -> str:
    """Name the event after the attack-* tag that most matched rules carry.

    ``attack-sqli`` becomes ``sqli``; a tie goes to the tag seen first. A
    payload can match several families (``;cat /etc/passwd`` matches one
    file-access rule and several command-injection rules), and the family
    with the most rules names it best.
    """
    counts: dict[str, int] = {}
    for match in matches:
        tag = next((tag for tag in match.tags if tag.startswith("attack-")), None)
        if tag is not None:
            counts[tag] = counts.get(tag, 0) + 1
    if not counts:
        return "crs"
    return max(counts, key=lambda tag: counts[tag]).removeprefix("attack-")


def match_event(exchange: Exchange, transaction: Transaction, match: Match) -> SecurityEvent:
    """Build the event of one rule match that did not block the request."""
    evidence = {"variable": match.variable, "data": redact(match.variable, match.data),
                "logdata": _redact_logdata(match), "phase": match.phase,
                "anomaly_scores": anomaly_scores(transaction),
                "error_log": [error_log_line(match, transaction)]}
    severity = SEVERITY_MAP.get(match.severity_number if match.severity_number is not None
                                else 5, Severity.MEDIUM)
    return exchange.event("waf", _kind([match]), match.msg or f"rule {match.rule_id} matched",
                          severity, rule_ids=[str(match.rule_id)], evidence=evidence)
