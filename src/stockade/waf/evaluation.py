"""Rule evaluation: targets, transformations, operators, chains and flow.

The order follows ModSecurity. For each target value the rule's
transformations run (every step when multiMatch is set) and the operator
is tested. A chain matches only when every link matches. The actions of
every link, the log entry and the disruptive action follow a full match.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from stockade.waf import variables
from stockade.waf.integers import parse_integer
from stockade.waf.matches import MatchedVar
from stockade.waf.outcome import Outcome, finish_match
from stockade.waf.prefilter import (
    GROUP_SHIFT,
    MAX_SCANNED_VALUE_BYTES,
    NO_IDS,
    SHARED_VALUE_BYTES,
    Prefilter,
    TargetScan,
    remember,
    remember_repeated,
)
from stockade.waf.rules import Rule
from stockade.waf.ruleset import SkipTargets
from stockade.waf.screen import (
    EQ,
    EVERY_STEP,
    GE,
    GT,
    LE,
    NEGATED,
    ChainScreen,
    LabelCheck,
    NumericScreen,
    PhasePlan,
    PrefilterScreen,
    Screen,
    Visits,
)
from stockade.waf.seclang.variables import VariableSpec
from stockade.waf.tx_setup import MAX_REMEMBERED_SETUPS, SetupResult, TxSetup

if TYPE_CHECKING:
    from stockade.waf.transaction import Transaction

Target = tuple[str, bytes]


def run_phase(transaction: Transaction, phase: int) -> None:
    """Run every rule of ``phase``: the tenant's prelude first, then the shared set."""
    engine = transaction.engine
    transaction.forget_screened_values()  # request data may have grown since the last phase
    prelude = engine.prelude_by_phase.get(phase, ())
    if prelude and _run_rules(transaction, prelude, engine.prelude_skip_targets[phase],
                              phase) == STOPPED:
        return
    ruleset = engine.ruleset
    rules = ruleset.by_phase[phase]
    plan = ruleset.plans.get(phase)
    if plan is None:  # visit every rule, as after a change to the rules' screens
        every = tuple(range(len(rules)))
        plan = PhasePlan(every, (), {setup.start: setup for setup in ruleset.tx_setups[phase]},
                         Visits(every))
    _run_planned(transaction, rules, ruleset.skip_targets[phase], phase, plan)


STOPPED: Final = -1
"""The position _run_rules returns when a rule stopped the phase."""


def _run_planned(transaction: Transaction, rules: list[Rule], targets: SkipTargets,
                 phase: int, plan: PhasePlan) -> None:
    """Run the rules of ``plan``'s visits in order, with TX setup runs and jumps."""
    found = _visits(transaction, plan)
    generation = transaction.values_generation
    setups = plan.setups
    removals = transaction.removals
    folding = (not removals.changed and bool(plan.gates)
               and transaction.engine.fold_allowed(phase, plan))
    folds: dict[int, tuple[int, ...]] = {}
    if folding:
        folds = _folds(transaction, plan, found)
        visits = _folded(transaction, plan, found.positions, folds, 0, rules, targets)
    else:
        visits = found.positions
    index = 0
    while index < len(visits):
        position = visits[index]
        setup = setups.get(position)
        if setup is not None:
            following = _run_setup(transaction, setup, rules, targets, phase)
            if following == STOPPED:
                return
            if folding:
                if position in plan.writing_setups:  # it may have changed what the gates read
                    folds = _folds(transaction, plan, found)
                visits = _folded(transaction, plan, found.positions, folds, following, rules,
                                 targets)
                index = 0
            else:
                index = bisect_left(visits, following, index)
            continue
        index += 1
        rule = rules[position]
        following = position + 1
        if rule.marker is None and not removals.removes(rule) and _matches(transaction, rule):
            outcome = finish_match(transaction, rule, phase)
            if outcome.stop_phase:
                return
            following = _following(rules, targets, position, outcome)
        elif not (folding and position in plan.barriers):
            continue
        values_changed = transaction.values_generation != generation
        if values_changed:  # a ctl changed a request variable
            generation = transaction.values_generation
            found = _visits(transaction, plan)
        elif following == position + 1 and not (
                folding and (removals.changed or position in plan.barriers)):
            continue
        if folding and removals.changed:  # a ctl removed a rule, which may be a gate
            folding = False
        if folding:
            # New visits, or a barrier that may have changed what the gates read.
            if values_changed or position in plan.barriers:
                folds = _folds(transaction, plan, found)
            visits = _folded(transaction, plan, found.positions, folds, following, rules, targets)
            index = 0
        else:
            visits = found.positions
            index = bisect_left(visits, following)


def _folds(transaction: Transaction, plan: PhasePlan, found: Visits) -> dict[int, tuple[int, ...]]:
    """Return the folds of ``found`` for the current values of the TX entries the gates read."""
    tx = transaction.tx
    state = tuple([tx.first(name) for name in plan.gate_keys])
    folds = found.folds.get(state)
    if folds is None:
        folds = {}
        remember(found.folds, state, folds)
    return folds


def _folded(transaction: Transaction, plan: PhasePlan, positions: tuple[int, ...],
            folds: dict[int, tuple[int, ...]], start: int, rules: list[Rule],
            targets: SkipTargets) -> tuple[int, ...]:
    """Return ``positions`` from ``start`` on, without the gates before the next setup run
    or barrier and without the rules that a matching gate among them jumps over.

    Only the rules of setup runs write the TX entries the gates read, so the gates'
    decisions are known until the next setup run or barrier, where the fold stops.
    ``folds`` keeps the results by ``start`` for the current values of those entries.
    """
    folded = folds.get(start)
    if folded is not None:
        return folded
    visited: list[int] = []
    count = len(positions)
    index = bisect_left(positions, start)
    while index < count:
        position = positions[index]
        if position in plan.setups or position in plan.barriers:
            visited.extend(positions[index:])
            break
        index += 1
        screen = plan.gates.get(position)
        matched = None if screen is None else _numeric_result(transaction, screen)
        if matched is None:
            visited.append(position)
            continue
        outcome = rules[position].fixed_outcome
        if matched and outcome is not None:
            index = bisect_left(positions, _following(rules, targets, position, outcome), index)
    folded = tuple(visited)
    remember(folds, start, folded)
    return folded


def _visits(transaction: Transaction, plan: PhasePlan) -> Visits:
    """Return the positions to visit: the plan's fixed ones and the screened rules
    that a value of one of their labels may match."""
    if not plan.checks:
        return plan.always_visits
    scans = transaction.spec_scans
    found: list[frozenset[int]] = []
    for check in plan.checks:
        scan = scans.get(check.label)
        if scan is None:
            scan = scans[check.label] = _scan_spec(transaction, check.spec)
        signature = (scan.mask, scan.hits)
        live = check.live.get(signature)
        if live is None:
            live = _live(check, scan)
            remember(check.live, signature, live)
        if live:
            found.append(live)
    if not found:
        return plan.always_visits
    key = tuple(found)
    visits = plan.merged.get(key)
    if visits is None:
        merged = set(plan.always)
        for live in found:
            merged.update(live)
        visits = Visits(tuple(sorted(merged)))
        remember(plan.merged, key, visits)
    return visits


def _live(check: LabelCheck, scan: TargetScan) -> frozenset[int]:
    """Return the positions of ``check``'s rules that ``scan`` may match."""
    live: set[int] = set()
    mask = scan.mask
    if mask:
        for chain_mask, positions in check.by_mask:
            if mask & chain_mask:
                live.update(positions)
    unchanged, lowered = scan.hits
    for pattern in unchanged:
        hit = check.unchanged.get(pattern)
        if hit:
            live.update(hit)
    for pattern in lowered:
        hit = check.lowered.get(pattern)
        if hit:
            live.update(hit)
    return frozenset(live)


def _matches(transaction: Transaction, rule: Rule) -> bool:
    """Decide ``rule`` from its screen when it has one, else by evaluating it in full."""
    screen = rule.screen
    if screen is None:
        return evaluate(transaction, rule)
    decision = _screen(transaction, rule, screen)
    if decision == UNDECIDED:
        return evaluate(transaction, rule)
    return decision == MATCH


def _following(rules: list[Rule], targets: SkipTargets, position: int, outcome: Outcome) -> int:
    """Return the position the phase goes on from after the rule at ``position`` matched."""
    following = position + 1
    if outcome.skip_after is not None:
        following = _position_after(targets, outcome.skip_after, following, len(rules))
    if outcome.skip:
        following = _skip_rules(rules, following, outcome.skip)
    return following


def _skip_rules(rules: list[Rule], position: int, count: int) -> int:
    """Return the position after ``count`` more rules, markers not counted, as ``skip`` does."""
    end = len(rules)
    while position < end and count:
        if rules[position].marker is None:
            count -= 1
        position += 1
    return position


def _run_rules(transaction: Transaction, rules: list[Rule] | tuple[Rule, ...],
               targets: SkipTargets, phase: int, position: int = 0,
               stop: int | None = None) -> int:
    """Run ``rules`` in order from ``position`` until ``stop`` (the end by default).

    Return the position the phase goes on from, or STOPPED when it must stop.
    """
    removals = transaction.removals
    skip = 0
    end = len(rules)
    if stop is None:
        stop = end
    while position < stop:
        rule = rules[position]
        position += 1
        if rule.marker is not None:
            continue
        if skip:
            skip -= 1
            continue
        if removals.removes(rule):
            continue
        if not _matches(transaction, rule):
            continue
        outcome = finish_match(transaction, rule, phase)
        if outcome.stop_phase:
            return STOPPED
        skip = outcome.skip
        if outcome.skip_after is not None:
            position = _position_after(targets, outcome.skip_after, position, end)
    return position


def _run_setup(transaction: Transaction, setup: TxSetup, rules: list[Rule],
               targets: SkipTargets, phase: int) -> int:
    """Run the phase's TX setup rules, or replay an earlier run from the same TX values."""
    engine = transaction.engine
    start = setup.start
    stop = start + setup.length
    if transaction.removals.changed:  # a ctl removed rules or targets
        return _run_rules(transaction, rules, targets, phase, start, stop)
    tx = transaction.tx
    key = (phase, start, transaction.rule_engine, tuple([tx.first(name) for name in setup.reads]))
    known = engine.tx_setups.get(key)
    if known is not None:
        tx.apply(known.writes, known.removed)
        transaction.matched_var.name, transaction.matched_var.value = known.matched_var
        transaction.matched_vars = list(known.matched_vars)
        transaction.current_rule = known.current_rule
        return known.position
    before = tx.snapshot()
    logged = len(transaction.matches)
    position = _run_rules(transaction, rules, targets, phase, start, stop)
    if (position != STOPPED and len(transaction.matches) == logged
            and transaction.interruption is None and not transaction.allowed_request
            and not transaction.allowed_all):
        after = tx.snapshot()
        result = SetupResult(
            position,
            tuple((name, item) for name, item in after.items() if before.get(name) != item),
            tuple(name for name in before if name not in after),
            (transaction.matched_var.name, transaction.matched_var.value),
            tuple(transaction.matched_vars),
            transaction.current_rule,
        )
        if len(engine.tx_setups) >= MAX_REMEMBERED_SETUPS:
            engine.tx_setups.clear()
        engine.tx_setups[key] = result
    return position


def _position_after(targets: SkipTargets, name: str, position: int, end: int) -> int:
    """Return the position after the first marker or rule ``name`` at or after ``position``.

    Without one, the rest of the phase is skipped, as in ModSecurity.
    """
    positions = targets.get(name)
    if positions:
        found = bisect_left(positions, position)
        if found < len(positions):
            return positions[found] + 1
    return end


NO_MATCH: Final = 0
MATCH: Final = 1
UNDECIDED: Final = 2


def _screen(transaction: Transaction, rule: Rule, screen: Screen) -> int:
    """Decide ``rule`` from its screen: NO_MATCH, MATCH (state set as evaluate sets it),
    or UNDECIDED when the rule needs a full evaluation."""
    if isinstance(screen, PrefilterScreen):
        scan = transaction.screen_values.get(screen.targets_id)
        if scan is None:
            scan = _scan_targets(transaction, screen)
            transaction.screen_values[screen.targets_id] = scan
        if screen.kind == NEGATED:
            return _screen_negated(transaction, screen, scan)
        pattern = screen.prefilter_id
        if pattern in scan.hits[screen.lowercases]:
            return UNDECIDED
        if screen.kind == EVERY_STEP and pattern in scan.hits[0]:
            return UNDECIDED  # the value before its transformations is tested too
        if not scan.mask & screen.mask:
            return NO_MATCH  # every value reached the pattern unchanged or lowercased
        unions = transaction.screen_unions
        union = unions.get(screen.union_key, _MISSING)
        if union is _MISSING:
            union = _prefilter_union(transaction, rule, screen, scan)
            unions[screen.union_key] = union
        return NO_MATCH if union is not None and screen.index not in union else UNDECIDED

    if isinstance(screen, ChainScreen):
        return _screen_chain(transaction, rule, screen)
    matched = _numeric_result(transaction, screen)
    if matched is None:
        return UNDECIDED
    if not matched:
        return NO_MATCH
    if not screen.decides_match or transaction.removals.removes_targets():
        return UNDECIDED
    _set_matched(transaction, rule, matched)
    return MATCH


def _set_matched(transaction: Transaction, rule: Rule, matched: list[tuple[str, bytes]]) -> None:
    """Set the state evaluate leaves after ``rule`` matched the (label, value) pairs."""
    transaction.current_rule = rule
    transaction.capture = False
    transaction.matched_var.name, transaction.matched_var.value = matched[-1]
    if rule.fixed_outcome is None:
        # A rule with a fixed outcome runs no action and logs nothing, so nothing reads
        # its MATCHED_VARS before the next evaluation replaces them.
        transaction.matched_vars = [MatchedVar(label, value) for label, value in matched]


def _screen_chain(transaction: Transaction, rule: Rule, screen: ChainScreen) -> int:
    """Decide a chain of numeric comparisons link by link, as evaluate does."""
    if transaction.removals.removes_targets():
        return UNDECIDED  # an excluded target changes what a link reads
    matched: list[tuple[str, bytes]] = []
    for link in screen.links:
        found = _numeric_result(transaction, link)
        if found is None:
            return UNDECIDED
        if not found:
            if matched:  # evaluate leaves the earlier links' matches behind
                _set_matched(transaction, rule, matched)
            return NO_MATCH
        matched.extend(found)
    _set_matched(transaction, rule, matched)
    return MATCH


def _numeric_result(transaction: Transaction,
                    screen: NumericScreen) -> list[tuple[str, bytes]] | None:
    """Return the pairs ``screen``'s comparison matches, remembered while TX is unchanged
    for a screen with a memo key, or None when the screen cannot decide."""
    memo_key = screen.memo_key
    if memo_key is None:
        return _numeric_matches(transaction, screen)
    # A condition on TX alone gives the same values until TX changes, and the
    # paranoia-level checks repeat one condition in every file of the CRS.
    version = transaction.tx.version
    known = transaction.numeric_results.get(memo_key)
    if known is not None and known[0] == version:
        return known[1]
    matched = _numeric_matches(transaction, screen) or []
    transaction.numeric_results[memo_key] = (version, matched)
    return matched


def _numeric_matches(transaction: Transaction,
                     screen: NumericScreen) -> list[tuple[str, bytes]] | None:
    """Return the (label, value) pairs that satisfy ``screen``'s comparison.

    Return None when a count target makes the screen undecidable.
    """
    operand = screen.operand
    if screen.operand_key is not None:  # as the operator reads "%{tx.key}": missing is 0
        text = transaction.tx.first(screen.operand_key)
        operand = parse_integer(text) if text is not None else 0
    comparison = screen.comparison
    negated = screen.negated
    matched: list[tuple[str, bytes]] = []
    for target in screen.targets:
        source = target.source
        key = target.key
        if source == "TX" and key is not None:
            if not target.count:  # one value at most, read without a list
                value = transaction.tx.first(key)
                if value is not None and _compares(comparison, parse_integer(value),
                                                   operand) != negated:
                    matched.append((target.label, value))
                continue
            values = transaction.tx.get(key)
        elif key is None:
            scalar = transaction.scalars.get(source)
            values = [] if scalar is None else [scalar]
        elif source in variables.KEYED_STATE:
            values = transaction.collection(source).get(key)
        else:
            values = transaction.collections[source].get(key)
        if target.count:
            if transaction.removals.removes_targets():
                return None  # an excluded target changes the count
            values = [str(len(values)).encode()]
        for value in values:
            if _compares(comparison, parse_integer(value), operand) != negated:
                matched.append((target.label, value))
    return matched


def _compares(comparison: int, value: int, operand: int) -> bool:
    """Compare ``value`` with ``operand`` as the numeric operator of ``comparison`` does."""
    if comparison == EQ:
        return value == operand
    if comparison == GE:
        return value >= operand
    if comparison == GT:
        return value > operand
    if comparison == LE:
        return value <= operand
    return value < operand


def _screen_negated(transaction: Transaction, screen: PrefilterScreen, scan: TargetScan) -> int:
    """Decide a NEGATED prefilter screen from the plain sets alone."""
    if scan.mask & screen.mask:
        return UNDECIDED  # a value triggers the chain, or the plain sets lack the pattern
    pattern = screen.prefilter_id
    prefilter = transaction.engine.ruleset.prefilter
    assert prefilter is not None
    for value, _ in scan.values:
        _, value_unchanged, value_lowered = prefilter.scan_plain(transaction, value)
        if pattern not in (value_lowered if screen.lowercases else value_unchanged):
            return UNDECIDED  # this value does not match, so the negated rule may
    return NO_MATCH


_MISSING: Final[frozenset[int]] = frozenset({-1})
SHARED_UNION_BYTES: Final = 4 * SHARED_VALUE_BYTES
"""Target values up to this total length keep their union across transactions, in bytes."""


def _scan_targets(transaction: Transaction, screen: PrefilterScreen) -> TargetScan:
    """Combine the scans of the screen's targets, each scanned once per phase."""
    scans = transaction.spec_scans
    if len(screen.targets) == 1:
        scan = scans.get(screen.labels[0])
        if scan is None:
            scan = scans[screen.labels[0]] = _scan_spec(transaction, screen.targets[0])
        return scan
    parts: list[TargetScan] = []
    for spec, label in zip(screen.targets, screen.labels, strict=True):
        scan = scans.get(label)
        if scan is None:
            scan = scans[label] = _scan_spec(transaction, spec)
        parts.append(scan)
    # Scans of repeated values are shared between transactions (see _scan_spec), so
    # their combination is too, by the scans themselves.
    key = tuple(parts)
    prefilter = transaction.engine.ruleset.prefilter
    assert prefilter is not None
    combined = prefilter.shared_combined_scans.get(key)
    if combined is None:
        combined = _combined(prefilter, parts)
        if sum(len(value) for value, _ in combined.values) <= SHARED_UNION_BYTES:
            remember_repeated(prefilter.shared_combined_scans, prefilter.seen, key, combined)
    return combined


def _combined(prefilter: Prefilter, parts: list[TargetScan]) -> TargetScan:
    """Return one scan of the values of every part, in order."""
    values: list[tuple[bytes, int]] = []
    mask = 0
    unchanged: frozenset[int] = NO_IDS
    lowered: frozenset[int] = NO_IDS
    for scan in parts:
        values.extend(scan.values)
        mask |= scan.mask
        if scan.hits[0]:
            unchanged = unchanged | scan.hits[0]
        if scan.hits[1]:
            lowered = lowered | scan.hits[1]
    return TargetScan(tuple(values), mask, prefilter.intern_hits(unchanged, lowered))


def _scan_spec(transaction: Transaction, spec: VariableSpec) -> TargetScan:
    prefilter = transaction.engine.ruleset.prefilter
    assert prefilter is not None  # rules get prefilter screens only with a prefilter
    found = variables.resolve_values(transaction, spec)
    # The scan depends on the values alone, and many labels carry the same
    # values from request to request (headers, a repeated query).
    key = tuple(found)
    shared = prefilter.shared_target_scans
    scan = shared.get(key)
    if scan is not None:
        return scan
    values: list[tuple[bytes, int]] = []
    mask = 0
    unchanged: frozenset[int] = NO_IDS
    lowered: frozenset[int] = NO_IDS
    for value in found:
        value_mask, value_unchanged, value_lowered = prefilter.scan_plain(transaction, value)
        values.append((value, value_mask))
        mask |= value_mask
        if value_unchanged:
            unchanged = unchanged | value_unchanged
        if value_lowered:
            lowered = lowered | value_lowered
    scan = TargetScan(tuple(values), mask, prefilter.intern_hits(unchanged, lowered))
    if sum(map(len, key)) <= SHARED_UNION_BYTES:
        remember_repeated(shared, prefilter.seen, key, scan)
    return scan


def _prefilter_union(transaction: Transaction, rule: Rule, screen: PrefilterScreen,
                     scan: TargetScan) -> frozenset[int] | None:
    """Return every pattern of the screen's set that matches one of the target values
    that trigger its chain, after the chain or, for EVERY_STEP, after any of its steps.

    Return None when a value is too long for the set, so the rules decide.
    """
    prefilter = transaction.engine.ruleset.prefilter
    assert prefilter is not None
    values = tuple(value for value, value_mask in scan.values if value_mask & screen.mask)
    every_step = screen.kind == EVERY_STEP
    group = screen.group
    shared = prefilter.shared_unions
    key = (values, group, every_step)
    union = shared.get(key, _MISSING)
    if union is not _MISSING:
        return union
    union = _union_of(transaction, rule, values, group, every_step)
    if sum(len(value) for value in values) <= SHARED_UNION_BYTES:
        remember_repeated(shared, prefilter.seen, key, union)
    return union


def _union_of(transaction: Transaction, rule: Rule, values: tuple[bytes, ...],
              group: int, every_step: bool) -> frozenset[int] | None:
    prefilter = transaction.engine.ruleset.prefilter
    assert prefilter is not None
    found: set[int] = set()
    for value in values:
        steps = _transform_steps(transaction, rule, value)
        for step in steps if every_step else steps[-1:]:
            if len(step) > MAX_SCANNED_VALUE_BYTES:
                return None
            found.update(prefilter.hits(transaction, step, group))
    return frozenset(found)


def evaluate(transaction: Transaction, rule: Rule) -> bool:
    """Return True when every link of ``rule``'s chain matches."""
    transaction.matched_vars = []
    transaction.current_rule = rule
    removals = transaction.removals
    excluded = (removals.excluded_targets(rule)
                if removals.targets_by_id or removals.targets_by_tag else [])
    if rule.chain is None:
        return _evaluate_link(transaction, rule, excluded)
    for link in rule.links():
        if not _evaluate_link(transaction, link, excluded):
            return False
    return True


def _evaluate_link(transaction: Transaction, link: Rule, excluded: list[VariableSpec]) -> bool:
    if link.operator is None:
        return True  # SecAction, or a rule made of actions only
    matched: list[variables.Pair] = []
    transaction.capture = link.capture
    runs_now = bool(link.per_match_actions)
    targets = collect_targets(transaction, link, excluded)
    slot = link.miss_slot
    misses = transaction.engine.ruleset.misses
    if slot is not None:
        targets = [target for target in targets if (slot, target[1]) not in misses]
    # The values kept by _prefiltered are in the prefilter's match set already.
    prefiltered = link.prefilter_id is not None and not link.multi_match and not link.negated
    if prefiltered:
        targets = _prefiltered(transaction, link, targets)
    operator = link.operator
    for name, value in targets:
        for candidate in _transformed(transaction, link, value):
            if prefiltered:
                found = operator.evaluate(candidate, transaction)
            else:
                found = _test(transaction, link, candidate)
            if found != link.negated:
                matched.append((name, candidate))
                transaction.matched_var.name = name
                transaction.matched_var.value = candidate
                if runs_now:
                    _run_actions(transaction, link)
                break
        else:
            if slot is not None and len(value) <= SHARED_VALUE_BYTES:
                remember_repeated(misses, transaction.engine.ruleset.seen, (slot, value), True)
    if not matched:
        return False
    transaction.matched_vars.extend(MatchedVar(name, value) for name, value in matched)
    return True


def _prefiltered(transaction: Transaction, link: Rule, targets: list[Target]) -> list[Target]:
    """Keep only the values whose transformed form is in the prefilter's match set."""
    prefilter = transaction.engine.ruleset.prefilter
    if prefilter is None or link.prefilter_id is None:
        return targets
    group, index = divmod(link.prefilter_id, 1 << GROUP_SHIFT)
    slot = link.miss_slot
    misses = transaction.engine.ruleset.misses
    kept: list[Target] = []
    for name, value in targets:
        final = _transform_steps(transaction, link, value)[-1]
        if len(final) > MAX_SCANNED_VALUE_BYTES:
            kept.append((name, value))  # too long for the set: the operator decides
        elif index in prefilter.hits(transaction, final, group):
            kept.append((name, value))
        elif slot is not None and len(value) <= SHARED_VALUE_BYTES:
            remember_repeated(misses, transaction.engine.ruleset.seen, (slot, value), True)
    return kept


def _run_actions(transaction: Transaction, link: Rule) -> None:
    """Run setvar for one matched value, at once, as ModSecurity v3 does.

    So ``setvar:tx.paramcounter_%{MATCHED_VAR_NAME}=+1`` (rule 921170)
    counts every argument name, and a chained link can read what the link
    before it set (rule 931130). A rule matching several values therefore
    adds its anomaly score once per value, as in ModSecurity.

    initcol runs among them in written order, as in ModSecurity v2, so that a
    setvar on ip.* after it writes to the loaded record.
    """
    top = transaction.current_rule
    for action in link.per_match_actions:
        action.execute(transaction, top if top is not None else link)


def collect_targets(transaction: Transaction, link: Rule,
                    excluded: list[VariableSpec]) -> list[Target]:
    """Resolve the link's variables, minus ``!`` exclusions and ctl-removed targets.

    The list returned may be shared with other links, so callers never change it.
    """
    key = link.targets_key
    if key is not None and not excluded:
        known = transaction.link_targets.get(key)
        if known is None:
            known = transaction.link_targets[key] = _collect(transaction, link, link.exclusions)
        return known
    return _collect(transaction, link, [*link.exclusions, *excluded] if excluded
                    else link.exclusions)


def _collect(transaction: Transaction, link: Rule,
             exclusions: Sequence[VariableSpec]) -> list[Target]:
    targets: list[Target] = []
    resolved = transaction.resolved_targets
    for spec in link.variables:
        if spec.exclude:
            continue
        if spec.name in variables.PHASE_STATIC:
            values = resolved.get(spec.selection)
            if values is None:  # shared by the phase's rules, so never changed
                values = resolved[spec.selection] = variables.resolve(transaction, spec)
        else:
            values = variables.resolve(transaction, spec)
        if exclusions:
            values = [item for item in values if not _is_excluded(spec.name, item[0], exclusions)]
        if spec.count:
            targets.append((spec.label(), str(len(values)).encode()))
        else:
            targets.extend(values)
    return targets


def _is_excluded(collection: str, name: str, exclusions: Sequence[VariableSpec]) -> bool:
    key = name.partition(":")[2]
    for spec in exclusions:
        if spec.name != collection:
            continue
        if spec.key is None and spec.key_pattern is None:
            return True
        if spec.selects(key):
            return True
    return False


def _transformed(transaction: Transaction, link: Rule, value: bytes) -> Sequence[bytes]:
    """Return the values to test: the final one, or every step with multiMatch."""
    if not link.transform_functions:
        return (value,)
    steps = _transform_steps(transaction, link, value)
    if link.multi_match:
        unique: list[bytes] = []
        for step in steps:
            if step not in unique:
                unique.append(step)
        return unique
    return (steps[-1],)


def _transform_steps(transaction: Transaction, link: Rule, value: bytes) -> list[bytes]:
    """Return ``value`` and the result of each of ``link``'s transformations, in order.

    Results are cached for the transaction, and for short values also across
    transactions of the rule set, because a result depends only on the value.
    The lists returned are shared, so callers never change them.
    """
    if not link.transform_functions:
        return [value]
    key = (value, link.transformations)
    steps = transaction.transform_cache.get(key)
    if steps is not None:
        return steps
    shared = (transaction.engine.ruleset.shared_steps
              if len(value) <= SHARED_VALUE_BYTES else None)
    if shared is not None:
        steps = shared.get(key)
    if steps is None:
        steps = [value]
        current = value
        for function in link.transform_functions:
            current = function(current)
            steps.append(current)
        if shared is not None:
            remember_repeated(shared, transaction.engine.ruleset.seen, key, steps)
    transaction.transform_cache[key] = steps
    return steps


def _test(transaction: Transaction, link: Rule, value: bytes) -> bool:
    operator = link.operator
    if operator is None:
        return True
    prefilter = transaction.engine.ruleset.prefilter
    if prefilter is not None and link.prefilter_id is not None:
        if not prefilter.may_match(transaction, link, value):
            return False
    return operator.evaluate(value, transaction)
