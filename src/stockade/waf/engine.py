"""The engine: a shared RuleSet plus one tenant's settings, making transactions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from stockade.waf.removals import Removals
from stockade.waf.request import WafRequest
from stockade.waf.rules import PHASES, Rule
from stockade.waf.ruleset import RuleSet, SkipTargets, skip_targets
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

    def __post_init__(self) -> None:
        self.store.timeout_seconds = self.ruleset.settings.collection_timeout
        self.prelude_by_phase = {phase: [rule for rule in self.prelude if rule.phase == phase]
                                 for phase in PHASES}
        self.prelude_skip_targets = {phase: skip_targets(rules)
                                     for phase, rules in self.prelude_by_phase.items()}

    def transaction(self, request: WafRequest) -> Transaction:
        return Transaction(self, request)
