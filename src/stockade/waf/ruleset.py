"""A loaded rule set: rules in order, split by phase, plus engine settings.

A RuleSet is immutable after loading and shared by every transaction and
every tenant that uses the same rules files. Per-transaction changes (ctl
actions, tenant exclusions) live in the transaction, never here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stockade.waf.operators import has_pure_result
from stockade.waf.outcome import fixed_outcome
from stockade.waf.rules import PHASES, EngineSettings, Rule
from stockade.waf.screen import (
    PhasePlan,
    attach_screens,
    plan_phase,
    reads_earlier_match,
    targets_key,
)
from stockade.waf.tx_setup import TxSetup, find_setups

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


SkipTargets = dict[str, list[int]]
"""Landing positions of ``skipAfter:name`` in a phase's rule list, by name.

Each list holds, in ascending order, the positions of the markers named
``name`` and of the rules whose id is ``name``.
"""


def skip_targets(rules: list[Rule]) -> SkipTargets:
    """Index the positions that ``skipAfter`` jumps to in ``rules``."""
    targets: SkipTargets = {}
    for position, rule in enumerate(rules):
        name = rule.marker if rule.marker is not None else str(rule.id)
        targets.setdefault(name, []).append(position)
    return targets


@dataclass(slots=True)
class RuleSet:
    rules: list[Rule]
    settings: EngineSettings
    diagnostics: list[Diagnostic] = field(default_factory=list)
    by_phase: dict[int, list[Rule]] = field(default_factory=dict)
    by_id: dict[int, Rule] = field(default_factory=dict)
    skip_targets: dict[int, SkipTargets] = field(default_factory=dict)  # by phase
    tx_setups: dict[int, tuple[TxSetup, ...]] = field(default_factory=dict)  # by phase
    # By phase; a phase without a plan visits every rule.
    plans: dict[int, PhasePlan] = field(default_factory=dict)
    prefilter: Prefilter | None = None
    # Transformation results of short values, kept across transactions (see evaluation.py).
    shared_steps: dict[tuple[bytes, tuple[str, ...]], list[bytes]] = field(default_factory=dict)
    # Short values a link with a miss_slot does not match, as (miss_slot, value).
    misses: dict[tuple[int, bytes], bool] = field(default_factory=dict)
    # Hashes of the keys of shared_steps and misses met once (see remember_repeated).
    seen: set[int] = field(default_factory=set)
    # True when a rule may read the MATCHED_VAR an earlier rule left. Folding would
    # change what it reads, because a gate left out of a fold does not set it.
    reads_earlier_match: bool = False

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
        self.skip_targets = {phase: skip_targets(rules) for phase, rules in self.by_phase.items()}
        self.tx_setups = {phase: find_setups(rules) for phase, rules in self.by_phase.items()}
        self.attach_screens()

    def use_prefilter(self, prefilter: Prefilter) -> None:
        """Attach ``prefilter``, whose set indexes the @rx rules now carry, and their screens."""
        self.prefilter = prefilter
        self.attach_screens()

    def attach_screens(self) -> None:
        """Give each rule its screen and fixed outcome, and plan each phase's visits."""
        attach_screens(self.rules, self.prefilter)
        slots = 0
        for rule in self.rules:
            rule.fixed_outcome = None if rule.is_marker else fixed_outcome(rule)
            for link in rule.links():
                link.targets_key = targets_key(link)
                link.miss_slot = None
                if link.operator is not None and has_pure_result(link.operator_name,
                                                                  link.operator_argument):
                    link.miss_slot = slots
                    slots += 1
        self.misses.clear()
        self.reads_earlier_match = any(reads_earlier_match(rule) for rule in self.rules)
        self.plans = {phase: plan_phase(rules, self.tx_setups[phase])
                      for phase, rules in self.by_phase.items()}

    def rule_count(self) -> int:
        return len(self.by_id)
