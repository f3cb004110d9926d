"""Screens: cheap checks, made when the rules load, that prove a rule cannot match.

Most rules of the Core Rule Set do not match a benign request, and a full
evaluation (collect the targets, transform each value, run the operator)
costs the same whether it matches or not. A screen decides the common
"cannot match" case from less work. When it cannot decide, the rule is
evaluated in full, so a screen only ever saves time.

Skipping a rule that does not match is not observable, because a rule that
fails runs no actions. The per-rule state it would have reset (MATCHED_VARS,
the capture flag, the current rule) is set again by the next rule that
evaluates.

Two kinds cover most of the CRS:

- ``PrefilterScreen``: a rule in the prefilter (``@rx``, ``@pm``,
  ``@pmFromFile``) whose targets stay fixed
  within a phase (request or response data, never TX or MATCHED_VAR).
  Each target value is scanned once per phase with the prefilter's two
  plain sets, which hold the patterns of every chain that leaves a value
  without trigger bytes unchanged or only lowercases it (see
  transformations/_triggers.py). A rule whose pattern none of the values
  matched, and whose chain none of the values triggers, cannot match. For
  the values that do trigger its chain, one union of the chain's own set
  results is computed per phase and shared by every rule with the same
  targets and chain.
- ``NumericScreen``: a numeric comparison of variables with a constant
  or with one TX variable (``"@ge %{tx.inbound_anomaly_score_threshold}"``),
  as in the paranoia-level checks that open each CRS file. Each variable
  is a TX or other keyed collection entry, a scalar such as REQBODY_ERROR,
  a request collection entry, or the count of one of those. For a rule of
  one link without per-match actions the screen also decides a match.
- ``ChainScreen``: a chain whose every link a NumericScreen covers and
  runs no per-match action, such as the checks of the CRS that count
  several TX entries before a skipAfter. It decides the whole chain.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Final

from stockade.waf import variables
from stockade.waf.actions.setvar import SetVar
from stockade.waf.integers import parse_integer
from stockade.waf.macros import parse_template
from stockade.waf.matches import CAPTURE_KEYS
from stockade.waf.operators._numeric_compare import NumericComparison
from stockade.waf.prefilter import GROUP_SHIFT, UNSCANNED, Prefilter
from stockade.waf.rules import Rule
from stockade.waf.seclang.variables import VariableSpec
from stockade.waf.transformations._triggers import ANY_VALUE, chain_mask
from stockade.waf.tx_setup import TxSetup


@dataclass(frozen=True, slots=True)
class PrefilterScreen:
    targets: tuple[VariableSpec, ...]  # the first link's variables, without its exclusions
    labels: tuple[str, ...]  # each target's label, which names its values within a phase
    targets_id: int  # the same for every rule with the same targets
    # (targets_id, group, kind is EVERY_STEP): the rules that share one union
    union_key: tuple[int, int, bool]
    group: int
    index: int  # the pattern's index in the group's set
    prefilter_id: int
    mask: int  # the chain's trigger mask, or ANY_VALUE when the plain sets lack the pattern,
    # plus UNSCANNED
    lowercases: bool  # look in the lowercased half of a value scan
    kind: int  # PLAIN, NEGATED or EVERY_STEP


PLAIN: Final = 0
"""A prefilter screen of a rule that matches when its pattern matches a value."""
NEGATED: Final = 1
"""A prefilter screen of a ``!@rx`` rule: it cannot match when the pattern matches every value."""
EVERY_STEP: Final = 2
"""A prefilter screen of a multiMatch rule, which tests the value before and after each
transformation; without triggers those are the value and its lowercase."""


@dataclass(frozen=True, slots=True)
class NumericTarget:
    """One variable a numeric screen reads."""

    source: str  # the collection or scalar, such as "TX", "IP", "REQUEST_HEADERS", "REQBODY_ERROR"
    key: str | None  # the collection key in lower case, None for a scalar
    count: bool  # "&TX:key": compare the number of values
    label: str  # what MATCHED_VAR_NAME reports for a match


@dataclass(frozen=True, slots=True)
class NumericScreen:
    targets: tuple[NumericTarget, ...]  # in the rule's order
    comparison: int  # EQ, GE, GT, LE or LT: the value against the operand
    operand: int
    operand_key: str | None  # the TX key of an operand written as one macro, "%{tx.key}"
    negated: bool
    decides_match: bool  # a match needs nothing more: one link, no per-match actions
    # The same for every screen with the same comparison of TX entries alone, whose
    # result a transaction keeps while TX is unchanged; None for other screens.
    memo_key: int | None = None


@dataclass(frozen=True, slots=True)
class ChainScreen:
    links: tuple[NumericScreen, ...]  # one per link of the chain, in order


Screen = PrefilterScreen | NumericScreen | ChainScreen


@dataclass(frozen=True, slots=True)
class LabelCheck:
    """The plain-screened rules of a phase that read one target label."""

    label: str
    spec: VariableSpec  # one spec that reads the label
    unchanged: dict[int, tuple[int, ...]]  # prefilter id -> positions, unchanged half
    lowered: dict[int, tuple[int, ...]]  # prefilter id -> positions, lowercased half
    by_mask: tuple[tuple[int, tuple[int, ...]], ...]  # trigger mask -> positions
    # The positions a scan of the label makes live, by the scan's mask and hits, kept
    # across transactions: values that differ from request to request mostly give
    # the same mask and hits.
    live: dict[tuple[int, tuple[frozenset[int], frozenset[int]]], frozenset[int]] = field(
        default_factory=dict, compare=False)


@dataclass(slots=True, eq=False)
class Visits:
    """The sorted positions a transaction visits in a phase, and their folds.

    A fold is the positions from one position on, without the gates before
    the next setup run or barrier and without the rules that a matching gate
    among them jumps over. It holds for one set of values of the gates' TX
    keys, and folds are kept across transactions.
    """

    positions: tuple[int, ...]
    # By the values of the gates' TX keys, then by the position a fold starts from.
    folds: dict[tuple[bytes | None, ...], dict[int, tuple[int, ...]]] = field(
        default_factory=dict)


@dataclass(frozen=True, slots=True)
class PhasePlan:
    """The rules of a phase that each transaction visits.

    A rule with a PLAIN prefilter screen is visited only when one of its
    target labels hit its pattern in the plain sets or carries a value that
    triggers its chain. Every other rule, markers aside, is always visited.

    Gates are rules that only pass or jump, decided by a numeric screen of
    TX entries that no rule of the phase writes outside its setup runs, such
    as the paranoia-level checks of the CRS. Up to the next setup run, or the
    next barrier (see ``barriers``), their decisions are known in advance, so a
    transaction can leave them out of its visits (see evaluation._folded).
    """

    always: tuple[int, ...]  # sorted positions
    checks: tuple[LabelCheck, ...]
    setups: dict[int, TxSetup]  # by the position of their first rule
    always_visits: Visits  # ``always`` alone, with its folds
    gates: dict[int, NumericScreen] = field(default_factory=dict)  # by position
    gate_keys: tuple[str, ...] = ()  # the TX keys the gates read, in lower case
    # Positions of the setup runs' rules that write TX. A jump can land inside a
    # setup run, whose rules then run one by one, so a fold stops at them too.
    barriers: frozenset[int] = frozenset()
    # The first positions of the setup runs with a rule that writes TX.
    writing_setups: frozenset[int] = frozenset()
    # The sorted visits, by the live positions of each check that has some, kept
    # across transactions.
    merged: dict[tuple[frozenset[int], ...], Visits] = field(
        default_factory=dict, compare=False)


def plan_phase(rules: list[Rule], setups: tuple[TxSetup, ...] = ()) -> PhasePlan:
    """Index the PLAIN-screened rules of one phase by target label, and find its gates."""
    starts = {setup.start for setup in setups}
    always: list[int] = []
    by_label: dict[str, tuple[VariableSpec, dict[int, list[int]], dict[int, list[int]],
                              dict[int, list[int]]]] = {}
    for position, rule in enumerate(rules):
        if rule.is_marker and position not in starts:  # a setup run may begin at a marker
            continue
        screen = rule.screen
        if not isinstance(screen, PrefilterScreen) or screen.kind != PLAIN:
            always.append(position)
            continue
        for spec, label in zip(screen.targets, screen.labels, strict=True):
            _, unchanged, lowered, by_mask = by_label.setdefault(label, (spec, {}, {}, {}))
            half = lowered if screen.lowercases else unchanged
            half.setdefault(screen.prefilter_id, []).append(position)
            by_mask.setdefault(screen.mask, []).append(position)
    checks = tuple(
        LabelCheck(label, spec, _frozen(unchanged), _frozen(lowered),
                   tuple((mask, tuple(positions)) for mask, positions in by_mask.items()))
        for label, (spec, unchanged, lowered, by_mask) in by_label.items()
    )
    in_setups: set[int] = set()
    for setup in setups:
        in_setups.update(range(setup.start, setup.start + setup.length))
    gates = _gates(rules, in_setups)
    keys = sorted({key for screen in gates.values() for key in _tx_keys(screen)})
    barriers = frozenset(position for position in in_setups if _writes_tx(rules[position]))
    writing = frozenset(setup.start for setup in setups
                        if not barriers.isdisjoint(range(setup.start, setup.start + setup.length)))
    return PhasePlan(tuple(always), checks, {setup.start: setup for setup in setups},
                     Visits(tuple(always)), gates, tuple(keys), barriers, writing)


def _tx_setvars(rule: Rule) -> list[SetVar]:
    """Return the setvar actions of ``rule``'s links that write TX."""
    return [action for link in rule.links()
            for action in (*link.actions, *link.per_match_actions)
            if isinstance(action, SetVar) and action.collection == "TX"]


def _writes_tx(rule: Rule) -> bool:
    """Return True when ``rule`` writes TX, with setvar or with capture."""
    return any(link.capture for link in rule.links()) or bool(_tx_setvars(rule))


def _gates(rules: list[Rule], in_setups: set[int]) -> dict[int, NumericScreen]:
    """Return the gates of a phase by position: see PhasePlan."""
    written: set[str] = set()
    # A key made with a macro, such as "header_name_%{tx.0}", may be any key that
    # starts with its text before the macro.
    prefixes: set[str] = set()
    for position, rule in enumerate(rules):
        if position in in_setups or rule.is_marker:
            continue
        if any(link.capture for link in rule.links()):
            written.update(CAPTURE_KEYS)
        for action in _tx_setvars(rule):
            key = action.key.lower()
            if "%{" in key:
                prefixes.add(key[:key.index("%{")])
            else:
                written.add(key)
    gates: dict[int, NumericScreen] = {}
    for position, rule in enumerate(rules):
        screen = rule.screen
        if (rule.fixed_outcome is None or not isinstance(screen, NumericScreen)
                or not screen.decides_match
                or not all(target.source == "TX" and target.key is not None
                           for target in screen.targets)):
            continue
        keys = _tx_keys(screen)
        if written.isdisjoint(keys) and not any(
                key.startswith(prefix) for key in keys for prefix in prefixes):
            gates[position] = screen
    return gates


def _tx_keys(screen: NumericScreen) -> list[str]:
    """Return the TX keys a screen of TX entries or their counts reads, its operand's
    included. An entry's count follows from its value, since TX keeps one per key."""
    keys = [target.key for target in screen.targets if target.key is not None]
    if screen.operand_key is not None:
        keys.append(screen.operand_key)
    return keys


MATCHED_NAMES: Final = frozenset({"MATCHED_VAR", "MATCHED_VARS", "MATCHED_VAR_NAME",
                                  "MATCHED_VARS_NAMES"})


def reads_earlier_match(rule: Rule) -> bool:
    """Return True when ``rule`` may read the MATCHED_VAR an earlier rule left behind.

    A rule reads its own match in its actions and later links, but its first
    link's targets and operator argument, and the actions of a SecAction,
    come before it matches anything.
    """
    if rule.is_marker:
        return False
    if any(spec.name in MATCHED_NAMES for spec in rule.variables):
        return True
    if "MATCHED_VAR" in rule.operator_argument.upper():
        return True
    if rule.operator is not None:
        return False
    texts = [rule.msg or "", rule.logdata or ""]
    for link in rule.links():
        texts.extend(repr(action) for action in (*link.actions, *link.per_match_actions))
    return any("MATCHED_VAR" in text.upper() for text in texts)


def _frozen(positions_by_id: dict[int, list[int]]) -> dict[int, tuple[int, ...]]:
    return {key: tuple(positions) for key, positions in positions_by_id.items()}


def attach_screens(rules: list[Rule], prefilter: Prefilter | None) -> None:
    """Set ``screen`` on every rule whose first link one of the screens covers."""
    target_ids: dict[tuple[str, ...], int] = {}
    memo_keys: dict[tuple[object, ...], int] = {}
    for rule in rules:
        rule.screen = None
        if rule.is_marker or rule.operator is None:
            continue
        numeric = _with_memo_key(_numeric_screen(rule), memo_keys)
        if numeric is not None and rule.chain is not None:
            rule.screen = _chain_screen(rule, numeric, memo_keys) or numeric
            continue
        rule.screen = numeric or _prefilter_screen(rule, target_ids, prefilter)


def _with_memo_key(screen: NumericScreen | None,
                memo_keys: dict[tuple[object, ...], int]) -> NumericScreen | None:
    """Give ``screen`` a memo key when it compares TX entries alone."""
    if screen is None or not _reads_tx_only(screen):
        return screen
    condition = (screen.targets, screen.comparison, screen.operand, screen.operand_key,
                 screen.negated)
    return replace(screen, memo_key=memo_keys.setdefault(condition, len(memo_keys)))


def _chain_screen(rule: Rule, first: NumericScreen,
                  memo_keys: dict[tuple[object, ...], int]) -> ChainScreen | None:
    """Return a screen for ``rule``'s whole chain when every link has a numeric screen."""
    screens = [first]
    for link in rule.links():
        if link.per_match_actions or link.capture:
            return None
        if link is not rule:
            screen = _with_memo_key(_numeric_screen(link), memo_keys)
            if screen is None:
                return None
            screens.append(screen)
    return ChainScreen(tuple(screens))


def _reads_tx_only(screen: NumericScreen) -> bool:
    """Return True when ``screen`` compares named TX entries, never a count."""
    return all(target.source == "TX" and target.key is not None and not target.count
               for target in screen.targets)


def _prefilter_screen(rule: Rule, target_ids: dict[tuple[str, ...], int],
                      prefilter: Prefilter | None) -> PrefilterScreen | None:
    if prefilter is None or rule.prefilter_id is None or (rule.multi_match and rule.negated):
        return None
    targets = tuple(spec for spec in rule.variables if not spec.exclude)
    if not targets or not all(_is_phase_static(spec) for spec in targets):
        return None
    # Labels, not the specs, identify a target list: each rule compiles its own selector regexes.
    labels = tuple(spec.label() for spec in targets)
    targets_id = target_ids.setdefault(labels, len(target_ids))
    group, index = divmod(rule.prefilter_id, 1 << GROUP_SHIFT)
    mask, lowercases = chain_mask(rule.transformations)
    kind = PLAIN
    if rule.negated:
        kind = NEGATED
    elif rule.multi_match:
        kind = EVERY_STEP
    unchanged, lowered = prefilter.plain_halves
    needed = [lowered if lowercases else unchanged]
    if kind == EVERY_STEP:
        needed.append(unchanged)
    if not all(rule.prefilter_id in half for half in needed):
        mask = ANY_VALUE
    mask |= UNSCANNED
    return PrefilterScreen(targets, labels, targets_id, (targets_id, group, kind == EVERY_STEP),
                           group, index, rule.prefilter_id, mask, lowercases, kind)


def _is_phase_static(spec: VariableSpec) -> bool:
    """Return True when ``spec``'s values cannot change while one phase runs."""
    return not spec.count and spec.name in variables.PHASE_STATIC


def targets_key(link: Rule) -> str | None:
    """Return the key under which a transaction keeps ``link``'s targets for a phase.

    That is the labels of its variables, exclusions included, when each of them
    reads values that stay fixed while a phase runs; else None. Links with the
    same key resolve to the same targets, as the CRS repeats one target list in
    many rules.
    """
    if not link.variables or not all(spec.name in variables.PHASE_STATIC
                                     for spec in link.variables):
        return None
    return "|".join(spec.label() for spec in link.variables)


EQ: Final = 0
GE: Final = 1
GT: Final = 2
LE: Final = 3
LT: Final = 4
COMPARISONS = {"eq": EQ, "ge": GE, "gt": GT, "le": LE, "lt": LT}
"""The comparison of each numeric operator, by its name."""


def _numeric_screen(rule: Rule) -> NumericScreen | None:
    operator = rule.operator
    if not isinstance(operator, NumericComparison):
        return None
    comparison = COMPARISONS.get(operator.name)
    if comparison is None:
        return None
    operand_key = None
    if operator.argument.constant is None:
        operand_key = _tx_macro_key(operator.argument.text)
        if operand_key is None:
            return None
    if not rule.variables or rule.transform_functions:
        return None
    targets: list[NumericTarget] = []
    for spec in rule.variables:
        target = _numeric_target(spec)
        if target is None:
            return None
        targets.append(target)
    decides_match = rule.chain is None and not rule.per_match_actions and not rule.capture
    constant = operator.argument.constant
    operand = parse_integer(constant) if constant is not None else 0
    return NumericScreen(tuple(targets), comparison, operand, operand_key, rule.negated,
                         decides_match)


def _numeric_target(spec: VariableSpec) -> NumericTarget | None:
    if spec.key_pattern is not None or spec.exclude:
        return None
    name = spec.name
    keyed = name in variables.KEYED_STATE or name in variables.STORED_COLLECTIONS
    if keyed and spec.key is not None:
        label = f"{name}:{spec.key_text}"
    elif name in variables.SCALARS and spec.key is None:
        label = name
    else:
        return None
    if spec.count:
        label = spec.label()
    return NumericTarget(name, spec.key, spec.count, label)


def _tx_macro_key(text: str) -> str | None:
    """Return ``key`` when ``text`` is exactly one ``%{tx.key}`` macro, else None."""
    template = parse_template(text)
    if len(template) != 1 or isinstance(template[0], str):
        return None
    name, key = template[0]
    return key.lower() if name == "TX" and key is not None else None
