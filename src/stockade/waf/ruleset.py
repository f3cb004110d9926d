"""A loaded rule set: rules in order, split by phase, plus engine settings.

A RuleSet is immutable after loading and shared by every transaction and
every tenant that uses the same rules files. Per-transaction changes (ctl
actions, tenant exclusions) live in the transaction, never here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stockade.waf.rules import PHASES, EngineSettings, Rule

if TYPE_CHECKING:
    from stockade.waf.prefilter import Prefilter


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A rule the loader kept out, with the reason, for operators to see."""

    rule_id: int
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: rule {self.rule_id}: {self.message}"


@dataclass(slots=True)
class RuleSet:
    rules: list[Rule]
    settings: EngineSettings
    diagnostics: list[Diagnostic] = field(default_factory=list)
    by_phase: dict[int, list[Rule]] = field(default_factory=dict)
    by_id: dict[int, Rule] = field(default_factory=dict)
    prefilter: Prefilter | None = None

    def __post_init__(self) -> None:
        self.index()

    def index(self) -> None:
        """Rebuild the per-phase lists; markers go into every phase, as in ModSecurity."""
        self.by_phase = {phase: [] for phase in PHASES}
        self.by_id = {}
        for rule in self.rules:
            if rule.is_marker:
                for phase in PHASES:
                    self.by_phase[phase].append(rule)
                continue
            self.by_phase[rule.phase].append(rule)
            self.by_id[rule.id] = rule

    def rule_count(self) -> int:
        return len(self.by_id)
