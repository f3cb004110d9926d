"""Metadata actions: id, phase, msg, logdata, tag, severity, ver, rev, maturity, accuracy."""

from __future__ import annotations

from stockade.waf.rules import SEVERITY_NAMES, Rule

PHASE_NAMES = {"request": 2, "response": 4, "logging": 5}


def apply_id(rule: Rule, value: str | None) -> None:
    text = (value or "").strip().strip("'")
    if not text.isdigit() or int(text) <= 0:
        raise ValueError(f"id {value!r} must be a positive integer")
    rule.id = int(text)


def apply_phase(rule: Rule, value: str | None) -> None:
    text = (value or "").strip().lower()
    if text in PHASE_NAMES:
        rule.phase = PHASE_NAMES[text]
    elif text.isdigit() and 1 <= int(text) <= 5:
        rule.phase = int(text)
    else:
        raise ValueError(f"phase {value!r} must be 1-5, request, response or logging")


def apply_severity(rule: Rule, value: str | None) -> None:
    text = (value or "").strip().upper()
    if text.isdigit() and int(text) < len(SEVERITY_NAMES):
        rule.severity = int(text)
    elif text in SEVERITY_NAMES:
        rule.severity = SEVERITY_NAMES.index(text)
    else:
        raise ValueError(f"severity {value!r} must be 0-7 or one of {', '.join(SEVERITY_NAMES)}")


def apply_text(rule: Rule, name: str, value: str | None) -> None:
    if value is None:
        raise ValueError(f"{name} needs a value")
    if name == "msg":
        rule.msg = value
    elif name == "logdata":
        rule.logdata = value
    elif name == "tag":
        rule.tags = (*rule.tags, value)
    elif name == "ver":
        rule.ver = value
    elif name == "rev":
        rule.rev = value


def apply_level(rule: Rule, name: str, value: str | None) -> None:
    text = (value or "").strip()
    if not text.isdigit() or not 1 <= int(text) <= 9:
        raise ValueError(f"{name} {value!r} must be between 1 and 9")
    if name == "maturity":
        rule.maturity = int(text)
    else:
        rule.accuracy = int(text)
