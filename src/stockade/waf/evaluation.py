"""Rule evaluation: targets, transformations, operators, chains and flow.

The order follows ModSecurity. For each target value the rule's
transformations run (every step when multiMatch is set) and the operator
is tested. A chain matches only when every link matches. The actions of
every link, the log entry and the disruptive action follow a full match.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from stockade.waf import variables
from stockade.waf.matches import MatchedVar
from stockade.waf.outcome import finish_match
from stockade.waf.prefilter import GROUP_SHIFT, MAX_SCANNED_VALUE_BYTES
from stockade.waf.rules import Rule
from stockade.waf.seclang.variables import VariableSpec

if TYPE_CHECKING:
    from stockade.waf.transaction import Transaction

Target = tuple[str, bytes]


def run_phase(transaction: Transaction, phase: int) -> None:
    """Run every rule of ``phase``: the tenant's prelude first, then the shared set."""
    engine = transaction.engine
    for rules in (engine.prelude_by_phase.get(phase, ()), engine.ruleset.by_phase[phase]):
        if not _run_rules(transaction, rules, phase):
            return


def _run_rules(transaction: Transaction, rules: list[Rule] | tuple[Rule, ...],
               phase: int) -> bool:
    """Run ``rules`` in order; return False when the phase must stop."""
    skip_after: str | None = None
    skip = 0
    removals = transaction.removals
    for rule in rules:
        if skip_after is not None:
            if rule.marker == skip_after or (not rule.is_marker and str(rule.id) == skip_after):
                skip_after = None
            continue
        if rule.is_marker:
            continue
        if skip:
            skip -= 1
            continue
        if removals.removes(rule):
            continue
        if not evaluate(transaction, rule):
            continue
        outcome = finish_match(transaction, rule, phase)
        if outcome.stop_phase:
            return False
        skip_after = outcome.skip_after
        skip = outcome.skip
    return True


def evaluate(transaction: Transaction, rule: Rule) -> bool:
    """Return True when every link of ``rule``'s chain matches."""
    transaction.matched_vars = []
    transaction.current_rule = rule
    excluded = transaction.removals.excluded_targets(rule)
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
    if link.prefilter_id is not None and not link.multi_match and not link.negated:
        targets = _prefiltered(transaction, link, targets)
    for name, value in targets:
        for candidate in _transformed(transaction, link, value):
            if _test(transaction, link, candidate) != link.negated:
                matched.append((name, candidate))
                transaction.matched_var.name = name
                transaction.matched_var.value = candidate
                if runs_now:
                    _run_actions(transaction, link)
                break
    if not matched:
        return False
    transaction.matched_vars.extend(MatchedVar(name, value) for name, value in matched)
    return True


def _prefiltered(transaction: Transaction, link: Rule, targets: list[Target]) -> list[Target]:
    """Keep only the values whose transformed form is in the prefilter's match set.

    This inlines the work of _transformed and Prefilter.may_match for the
    common case, a plain @rx rule, because it runs for most rule and value
    pairs of a request.
    """
    prefilter = transaction.engine.ruleset.prefilter
    if prefilter is None or link.prefilter_id is None:
        return targets
    group, index = divmod(link.prefilter_id, 1 << GROUP_SHIFT)
    members = prefilter.sets[group]
    chain = link.transformations
    transforms = transaction.transform_cache
    scans = transaction.prefilter_cache
    kept: list[Target] = []
    for name, value in targets:
        if chain:
            steps = transforms.get((value, chain))
            if steps is None:
                _transformed(transaction, link, value)
                steps = transforms[(value, chain)]
            final = steps[-1]
        else:
            final = value
        if len(final) > MAX_SCANNED_VALUE_BYTES:
            kept.append((name, value))  # too long for the set: the operator decides
            continue
        found = scans.get((final, group))
        if found is None:
            found = frozenset(members.Match(final) or ())
            scans[(final, group)] = found
        if index in found:
            kept.append((name, value))
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
    """Resolve the link's variables, minus ``!`` exclusions and ctl-removed targets."""
    exclusions = [*link.exclusions, *excluded] if excluded else link.exclusions
    targets: list[Target] = []
    for spec in link.variables:
        if spec.exclude:
            continue
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
    cache_key = (value, link.transformations)
    cached = transaction.transform_cache.get(cache_key)
    if cached is None:
        steps = [value]
        current = value
        for function in link.transform_functions:
            current = function(current)
            steps.append(current)
        transaction.transform_cache[cache_key] = steps
        cached = steps
    if link.multi_match:
        unique: list[bytes] = []
        for step in cached:
            if step not in unique:
                unique.append(step)
        return unique
    return (cached[-1],)


def _test(transaction: Transaction, link: Rule, value: bytes) -> bool:
    operator = link.operator
    if operator is None:
        return True
    prefilter = transaction.engine.ruleset.prefilter
    if prefilter is not None and link.prefilter_id is not None:
        if not prefilter.may_match(transaction, link, value):
            return False
    return operator.evaluate(value, transaction)
