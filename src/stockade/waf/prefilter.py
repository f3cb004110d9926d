"""A hyperscan prefilter for @rx rules.

Rules are grouped by their transformation chain. Each group's @rx
patterns are compiled into one hyperscan database in prefilter mode, which
reports a superset of the real matches: a value the database does not
match cannot match any of its patterns, so those rules are skipped without
running their own operator. One scan of a transformed value thus decides
for every @rx rule of its group. A pattern hyperscan cannot take even in
prefilter mode is left out, and its rule always runs its own operator.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import hyperscan

from stockade.waf.operators import regex_patterns
from stockade.waf.rules import Rule

if TYPE_CHECKING:
    from stockade.waf.ruleset import RuleSet
    from stockade.waf.transaction import Transaction

log = logging.getLogger(__name__)

PREFILTER_FLAGS = (hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_DOTALL
                   | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_ALLOWEMPTY)


@dataclass(slots=True)
class _Group:
    database: Any
    size: int


@dataclass(slots=True)
class Prefilter:
    groups: list[_Group] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (rule id, reason)

    def may_match(self, transaction: Transaction, link: Rule, value: bytes) -> bool:
        """Return False only when ``link``'s pattern cannot match ``value``."""
        slot = link.prefilter_id
        if slot is None:
            return True
        group_index, pattern_id = divmod(slot, 1 << 16)
        key = (value, group_index)
        found = transaction.prefilter_cache.get(key)
        if found is None:
            found = self._scan(group_index, value)
            transaction.prefilter_cache[key] = found
        return pattern_id in found

    def _scan(self, group_index: int, value: bytes) -> frozenset[int]:
        matched: set[int] = set()

        def on_match(pattern_id: int, start: int, end: int, flags: int, context: Any) -> None:
            matched.add(pattern_id)

        self.groups[group_index].database.scan(value, match_event_handler=on_match)
        return frozenset(matched)


def _rx_links(ruleset: RuleSet) -> Iterator[Rule]:
    for rule in ruleset.rules:
        if rule.is_marker:
            continue
        for link in rule.links():
            if link.operator is not None and link.operator_name == "rx":
                yield link


def compiles(pattern: bytes, flags: int) -> bool:
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        database.compile(expressions=[pattern], flags=[flags])
    except hyperscan.error:
        return False
    return True


def _compile_group(members: list[tuple[Rule, bytes]], prefilter: Prefilter) -> tuple[
        Any, list[tuple[Rule, bytes]]]:
    """Compile a group; when it fails, drop the patterns hyperscan rejects and retry."""
    try:
        return _compile(members), members
    except hyperscan.error:
        pass  # find the offending patterns one by one below
    kept: list[tuple[Rule, bytes]] = []
    for link, pattern in members:
        if compiles(pattern, PREFILTER_FLAGS):
            kept.append((link, pattern))
        else:
            prefilter.skipped.append((link.id, "hyperscan cannot compile the pattern"))
    return (_compile(kept) if kept else None), kept


def _compile(members: list[tuple[Rule, bytes]]) -> Any:
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(expressions=[pattern for _, pattern in members],
                     ids=list(range(len(members))),
                     flags=[PREFILTER_FLAGS] * len(members))
    return database


def build_prefilter(ruleset: RuleSet) -> Prefilter:
    """Compile one prefilter database per transformation chain and tag each rule link."""
    prefilter = Prefilter()
    by_chain: dict[tuple[str, ...], list[tuple[Rule, bytes]]] = {}
    for link in _rx_links(ruleset):
        pattern = regex_patterns(link.operator) if link.operator is not None else None
        if pattern is None:
            continue
        encoded = pattern.encode("utf-8", "surrogateescape")
        by_chain.setdefault(link.transformations, []).append((link, encoded))
    for members in by_chain.values():
        database, kept = _compile_group(members, prefilter)
        if database is None:
            continue
        group_index = len(prefilter.groups)
        prefilter.groups.append(_Group(database, len(kept)))
        for pattern_id, (link, _) in enumerate(kept):
            link.prefilter_id = (group_index << 16) + pattern_id
    log.info("prefilter: %d groups, %d patterns, %d left to their own operator",
             len(prefilter.groups), sum(group.size for group in prefilter.groups),
             len(prefilter.skipped))
    return prefilter
