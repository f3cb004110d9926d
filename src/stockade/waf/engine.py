"""The engine: a shared RuleSet plus one tenant's settings, making transactions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from stockade.waf.removals import Removals
from stockade.waf.request import WafRequest
from stockade.waf.rules import PHASES, Rule
from stockade.waf.ruleset import RuleSet, SkipTargets, skip_targets
from stockade.waf.screen import PhasePlan, reads_earlier_match
from stockade.waf.store import CollectionStore
from stockade.waf.transaction import Transaction
from stockade.waf.tx_setup import SetupResult


@dataclass(slots=True)
class Engine:
    """Runs ``ruleset`` (shared, read-only) with a tenant's own prelude and removals.

    ``prelude`` contains the tenant's few rules (the SecAction that sets
    paranoia level and thresholds); they run before the shared rules of
    the same phase. ``removals`` apply the tenant's exclusions to every
    transaction without copying any rule.
    """

    ruleset: RuleSet
    prelude: Sequence[Rule] = ()
    removals: Removals = field(default_factory=Removals)
    store: CollectionStore = field(default_factory=CollectionStore)
    prelude_by_phase: dict[int, list[Rule]] = field(default_factory=dict)
    prelude_skip_targets: dict[int, SkipTargets] = field(default_factory=dict)
    # Results of the shared rules' TX setup runs: by phase, start, rule engine mode, TX values read.
    tx_setups: dict[tuple[int, int, str, tuple[bytes | None, ...]], SetupResult] = field(
        default_factory=dict)
    # Whether this tenant's transactions may fold a phase's gates, by phase, with the
    # plan it was decided for (see fold_allowed).
    folds: dict[int, tuple[PhasePlan, bool]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.store.timeout_seconds = self.ruleset.settings.collection_timeout
        self.prelude_by_phase = {phase: [rule for rule in self.prelude if rule.phase == phase]
                                 for phase in PHASES}
        self.prelude_skip_targets = {phase: skip_targets(rules)
                                     for phase, rules in self.prelude_by_phase.items()}

    def transaction(self, request: WafRequest) -> Transaction:
        return Transaction(self, request)

    def fold_allowed(self, phase: int, plan: PhasePlan) -> bool:
        """Return True when transactions may leave ``plan``'s gates out of their visits.

        Not when the tenant removes a gate or a target, or when one of the
        rules may read the MATCHED_VAR that a gate's match sets.
        """
        known = self.folds.get(phase)
        if known is not None and known[0] is plan:
            return known[1]
        rules = self.ruleset.by_phase[phase]
        removals = self.removals
        allowed = (
            bool(plan.gates)
            and not self.ruleset.reads_earlier_match
            and not any(reads_earlier_match(rule) for rule in self.prelude)
            and not removals.removes_targets()
            and not any(removals.removes(rules[position]) for position in plan.gates)
        )
        self.folds[phase] = (plan, allowed)
        return allowed
