"""Flow actions: chain, skip, skipAfter; and the per-rule switches multiMatch and capture."""

from __future__ import annotations

from stockade.waf.rules import Rule


def apply_skip(rule: Rule, value: str | None) -> None:
    text = (value or "").strip()
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"skip {value!r} must be a positive number of rules")
    rule.skip = int(text)


def apply_skip_after(rule: Rule, value: str | None) -> None:
    if not value or not value.strip():
        raise ValueError("skipAfter needs a SecMarker name or rule id")
    rule.skip_after = value.strip()
