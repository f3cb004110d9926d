"""Results of rule evaluation: matches, matched variables and interruptions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

CAPTURE_KEYS: Final = tuple(str(index) for index in range(10))
"""The TX keys that contain a match's captures."""


@dataclass(frozen=True, slots=True)
class Match:
    """A rule whose whole chain matched and that logs."""

    rule_id: int
    phase: int
    msg: str
    logdata: str
    tags: tuple[str, ...]
    severity_number: int | None  # SecLang severity, 0 (EMERGENCY) to 7 (DEBUG)
    variable: str  # MATCHED_VAR_NAME, e.g. ARGS:id
    data: bytes  # MATCHED_VAR, the matched value after transformations
    disruptive: str


@dataclass(frozen=True, slots=True)
class Interruption:
    """The engine's decision to stop the request."""

    rule_id: int
    phase: int
    status: int
    action: str  # deny, drop or redirect
    location: str | None = None


@dataclass(slots=True, init=False)
class MatchedVar:
    name: str  # e.g. ARGS:id
    value: bytes

    def __init__(self, name: str, value: bytes) -> None:
        # Written out rather than made by @dataclass: mypyc compiles this
        # __init__, while the one @dataclass makes runs interpreted.
        self.name = name
        self.value = value
