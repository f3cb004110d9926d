"""Disruptive actions (deny, drop, block, pass, allow, redirect) and ``status``."""

from __future__ import annotations

from stockade.waf.rules import Rule

DISRUPTIVE = frozenset({"deny", "drop", "block", "pass", "allow", "redirect"})
ALLOW_SCOPES = frozenset({"phase", "request"})


def apply_disruptive(rule: Rule, name: str, value: str | None) -> None:
    if name == "allow" and value is not None and value.lower() not in ALLOW_SCOPES:
        raise ValueError(f"allow:{value} is invalid; use allow, allow:phase or allow:request")
    if name == "redirect" and not value:
        raise ValueError("redirect needs a URL, for example redirect:https://example.com/")
    rule.disruptive = name
    rule.disruptive_argument = value.lower() if name == "allow" and value else value


def apply_status(rule: Rule, value: str | None) -> None:
    text = (value or "").strip()
    if not text.isdigit() or not 100 <= int(text) <= 599:
        raise ValueError(f"status {value!r} must be an HTTP status code (100-599)")
    rule.status = int(text)
