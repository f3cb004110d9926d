"""Scan planning: the selected operations, the methods safe mode allows, request budgets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from stockade.scanner.openapi import Operation

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that safe mode sends; anything else may change the target's data."""

DEFAULT_TIME_DELAY_SECONDS = 0.5
"""Delay the time-based injection probes ask for; twice this confirms."""

DEFAULT_LOGIN_PROBES = 30
"""Failed logins sent to look for a login rate limit; a limit above this goes unseen."""

DEFAULT_EXPENSIVE_PROBES = 15
"""Requests sent to one expensive operation (exports, reports) to look for a rate limit."""


@dataclass(slots=True)
class ScanSettings:
    include: list[str] = field(default_factory=list)  # operationId or "METHOD /path" globs
    exclude: list[str] = field(default_factory=list)
    safe: bool = False
    allow_methods: frozenset[str] = frozenset()  # sent even in safe mode
    checks: frozenset[str] | None = None  # None: every check
    time_delay: float = DEFAULT_TIME_DELAY_SECONDS
    login_probes: int = DEFAULT_LOGIN_PROBES
    expensive_probes: int = DEFAULT_EXPENSIVE_PROBES

    def method_allowed(self, method: str) -> bool:
        method = method.upper()
        return not self.safe or method in SAFE_METHODS or method in self.allow_methods

    def selects(self, operation: Operation) -> bool:
        names = (operation.operation_id, operation.label, operation.path)
        if self.include and not _matches_any(names, self.include):
            return False
        return not _matches_any(names, self.exclude)


def _matches_any(names: Iterable[str], patterns: list[str]) -> bool:
    return any(glob_match(pattern, name) for name in names for pattern in patterns)


def glob_match(pattern: str, text: str) -> bool:
    """Match ``text`` against a glob with ``*`` (any run) and ``?`` (one character).

    Operation names come from the target's document, so this avoids Python's
    backtracking ``re``: the two-pointer walk backs up only to the last ``*``,
    which bounds it to len(pattern) * len(text) steps.
    """
    p = t = 0
    star, resume = -1, 0
    while t < len(text):
        if p < len(pattern) and pattern[p] in ("?", text[t]):
            p += 1
            t += 1
        elif p < len(pattern) and pattern[p] == "*":
            star, resume = p, t
            p += 1
        elif star >= 0:
            p = star + 1
            resume += 1
            t = resume
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


def validate_settings(settings: ScanSettings) -> None:
    """Raise ValueError naming the first setting out of range."""
    if not 0.1 <= settings.time_delay <= 10:
        raise ValueError(f"invalid time delay {settings.time_delay} s; use 0.1 to 10 seconds")
    if not 1 <= settings.login_probes <= 1000:
        raise ValueError(f"invalid login probe count {settings.login_probes}; use 1 to 1000")
    if not 1 <= settings.expensive_probes <= 1000:
        raise ValueError(f"invalid expensive-operation probe count "
                         f"{settings.expensive_probes}; use 1 to 1000")
