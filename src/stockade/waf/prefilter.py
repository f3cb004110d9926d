"""A multi-pattern prefilter for @rx, @pm and @pmFromFile rules, built on RE2::Set.

Rules are grouped by their transformation chain, and each group's patterns
are compiled into one RE2 set: an @rx rule's own pattern, or for a phrase
rule one alternation of its phrases. One linear-time scan of a transformed
value then returns every pattern of the group that matches, so a rule
whose pattern is not among them is skipped without running its operator.
The rules whose pattern is among them run their operator, which also sets
the captures. A pattern RE2 cannot parse (a look-around, a back-reference)
is left out, and its rule always runs its own operator.

Hyperscan was the first choice, but the hyperscan build shipped with the
python-hyperscan 0.9.1 wheel misses matches. ``a.+b\\s*c`` does not match
``a`` + 60 * ``x`` + ``bc`` in block mode, with or without
HS_FLAG_PREFILTER, so a hyperscan prefilter would skip rules that should
fire. RE2 sets have no such false negatives.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TypeVar

import re2

from stockade.waf.operators import regex_patterns
from stockade.waf.operators.pm import PhraseMatch
from stockade.waf.rules import Rule
from stockade.waf.transformations._triggers import ANY_VALUE, chain_mask, value_mask

if TYPE_CHECKING:
    from stockade.waf.ruleset import RuleSet
    from stockade.waf.transaction import Transaction

log = logging.getLogger(__name__)

Key = TypeVar("Key")
Value = TypeVar("Value")

SET_MEMORY_BYTES: Final = 64 * 1024 * 1024
"""RE2 memory budget per set, in bytes; the CRS's largest group needs under 16 MiB."""
MAX_SCANNED_VALUE_BYTES: Final = 64 * 1024
"""Longer values skip the sets and go to each rule's own operator, in bytes.

RE2 reports a set that ran out of DFA memory only in its own log, with no
match, and long values are where that could happen.
"""
ALL_CHAINS: Final = -1
"""The mask of a value too long to scan: every chain must look at it on its own."""
UNSCANNED: Final = 1 << 48
"""In every screen's mask, so that a value too long for the plain sets reaches its chain."""
GROUP_SHIFT: Final = 16
"""A rule's prefilter_id is group << GROUP_SHIFT | index within the group."""
SHARED_VALUE_BYTES: Final = 256
"""Values up to this length keep their scan results across transactions, in bytes.

Short values (header values, argument names, small parameters) repeat from
request to request, and a scan result depends only on the value.
"""
SEEN_HASHES: Final = 65536
"""Key hashes that remember_repeated keeps. Past this count the set starts again."""
SHARED_ENTRIES: Final = 16384
"""Entries of each cache kept across transactions; past it the cache starts again.

With SHARED_VALUE_BYTES this bounds the five caches (transformations, scans,
combined scans, unions, and the misses of RuleSet.misses) to an estimated
100 MB per rule set and worker at worst.
"""


def _options() -> re2.Options:
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1  # bytes, as ModSecurity matches them
    options.dot_nl = True  # PCRE_DOTALL, as ModSecurity compiles @rx
    options.max_mem = SET_MEMORY_BYTES
    options.log_errors = False
    return options

ValueScan = tuple[int, frozenset[int], frozenset[int]]
"""A value's trigger mask and the prefilter ids matched by the value and by its lowercase."""
NO_IDS: Final[frozenset[int]] = frozenset()


@dataclass(slots=True, eq=False, init=False)
class TargetScan:
    """The plain-set results for the values of some screen targets, for one phase.

    Scans compare and hash by identity, so a combination of scans is keyed by the
    scans themselves. Nothing changes a scan once it is made.
    """

    values: tuple[tuple[bytes, int], ...]  # each value with its trigger mask, of every target
    mask: int  # every value's mask together
    hits: tuple[frozenset[int], frozenset[int]]  # prefilter ids: [unchanged, lowercased]

    def __init__(self, values: tuple[tuple[bytes, int], ...], mask: int,
                 hits: tuple[frozenset[int], frozenset[int]]) -> None:
        # Written out rather than made by @dataclass: mypyc compiles this
        # __init__, while the one @dataclass makes runs interpreted.
        self.values = values
        self.mask = mask
        self.hits = hits


@dataclass(slots=True)
class Prefilter:
    sets: list[Any] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (rule id, reason)
    shared_hits: dict[tuple[bytes, int], frozenset[int]] = field(default_factory=dict)
    # A screen's union for (its target values, group, over every step); see screen.py.
    shared_unions: dict[tuple[tuple[bytes, ...], int, bool], frozenset[int] | None] = field(
        default_factory=dict)
    # Two sets over the patterns of every chain that chain_mask covers: [unchanged, lowercased].
    plain_sets: list[Any] = field(default_factory=list)
    plain_ids: list[tuple[int, ...]] = field(default_factory=list)  # set index -> prefilter id
    plain_halves: tuple[frozenset[int], frozenset[int]] = (NO_IDS, NO_IDS)
    shared_scans: dict[bytes, ValueScan] = field(default_factory=dict)
    # The combined scan of a target's values, by those values (see evaluation._scan_spec).
    shared_target_scans: dict[tuple[bytes, ...], TargetScan] = field(default_factory=dict)
    # The combination of several targets' scans, by those scans (see evaluation.py).
    shared_combined_scans: dict[tuple[TargetScan, ...], TargetScan] = field(
        default_factory=dict)
    # One object per distinct pair of hit sets. Target scans of different values mostly
    # hit the same few patterns, and every set kept alive is work for the garbage
    # collector.
    interned_hits: dict[tuple[frozenset[int], frozenset[int]],
                        tuple[frozenset[int], frozenset[int]]] = field(default_factory=dict)
    # The prefilter ids of a plain set's match indexes, by half and those indexes: many
    # values match the same few patterns.
    plain_hit_ids: tuple[dict[tuple[int, ...], frozenset[int]],
                         dict[tuple[int, ...], frozenset[int]]] = field(
        default_factory=lambda: ({}, {}))
    # Hashes of the keys the shared caches have met once (see remember_repeated).
    seen: set[int] = field(default_factory=set)

    def scan_plain(self, transaction: Transaction, value: bytes) -> ValueScan:
        """Scan ``value`` with both plain sets, for every chain that leaves it unchanged.

        A chain whose mask shares no bit with the value's mask leaves the
        value unchanged or lowercases it. So a pattern of that chain matches
        the chain's result exactly when its id is in the matching half.
        """
        found = transaction.plain_scans.get(value)
        if found is not None:
            return found
        shared = self.shared_scans if len(value) <= SHARED_VALUE_BYTES else None
        if shared is not None:
            found = shared.get(value)
        if found is None:
            if len(value) > MAX_SCANNED_VALUE_BYTES:
                found = (ALL_CHAINS, NO_IDS, NO_IDS)
            else:
                unchanged, lowered = self.plain_sets
                found = (value_mask(value), self._plain_hits(0, unchanged.Match(value)),
                         self._plain_hits(1, lowered.Match(value.lower())))
            if shared is not None:
                remember_repeated(shared, self.seen, value, found)
        transaction.plain_scans[value] = found
        return found

    def _plain_hits(self, half: int, indexes: list[int] | None) -> frozenset[int]:
        if not indexes:
            return NO_IDS
        key = tuple(indexes)
        known = self.plain_hit_ids[half]
        found = known.get(key)
        if found is None:
            ids = self.plain_ids[half]
            found = frozenset([ids[index] for index in key])
            remember(known, key, found)
        return found

    def intern_hits(self, unchanged: frozenset[int],
                    lowered: frozenset[int]) -> tuple[frozenset[int], frozenset[int]]:
        """Return the shared (unchanged, lowered) pair equal to these hit sets."""
        pair = (unchanged, lowered)
        known = self.interned_hits.get(pair)
        if known is None:
            known = pair
            remember(self.interned_hits, pair, known)
        return known

    def may_match(self, transaction: Transaction, link: Rule, value: bytes) -> bool:
        """Return False only when ``link``'s pattern does not match ``value``."""
        slot = link.prefilter_id
        if slot is None or len(value) > MAX_SCANNED_VALUE_BYTES:
            return True
        group, index = divmod(slot, 1 << GROUP_SHIFT)
        return index in self.hits(transaction, value, group)

    def hits(self, transaction: Transaction, value: bytes, group: int) -> frozenset[int]:
        """Return the indexes of the patterns of set ``group`` that match ``value``.

        The caller keeps ``value`` within MAX_SCANNED_VALUE_BYTES.
        """
        key = (value, group)
        found = transaction.prefilter_cache.get(key)
        if found is not None:
            return found
        shared = self.shared_hits if len(value) <= SHARED_VALUE_BYTES else None
        if shared is not None:
            found = shared.get(key)
        if found is None:
            found = frozenset(self.sets[group].Match(value) or ())
            if shared is not None:
                remember_repeated(shared, self.seen, key, found)
        transaction.prefilter_cache[key] = found
        return found

    def pattern_count(self) -> int:
        return sum(self.sizes)


def remember(cache: dict[Key, Value], key: Key, value: Value) -> None:
    """Store ``value`` in a cache kept across transactions, emptying it when full."""
    if len(cache) >= SHARED_ENTRIES:
        cache.clear()
    cache[key] = value


def remember_repeated(cache: dict[Key, Value], seen: set[int], key: Key, value: Value) -> None:
    """Store ``value`` as remember does, but only for a key whose hash ``seen`` has.

    The first time, only the hash goes into ``seen``. Values that appear once,
    such as request ids, then leave no cache entry behind: an entry's objects
    would live until the cache fills, and the garbage collector traces every
    one of them at each collection until then.
    """
    digest = hash(key)
    if digest in seen:
        remember(cache, key, value)
        return
    if len(seen) >= SEEN_HASHES:
        seen.clear()
    seen.add(digest)


def _patterns(ruleset: RuleSet) -> Iterator[tuple[Rule, str]]:
    """Yield each rule link that the prefilter can take, with its pattern."""
    for rule in ruleset.rules:
        if rule.is_marker:
            continue
        for link in rule.links():
            operator = link.operator
            if isinstance(operator, PhraseMatch):
                yield link, operator.phrases.as_regex()
            elif operator is not None and link.operator_name.lower() == "rx":
                pattern = regex_patterns(operator)
                if pattern is not None and "%{" not in pattern:
                    # A pattern with macros is only known when the rule runs.
                    yield link, pattern


def _to_bytes(pattern: str) -> bytes:
    """Encode a pattern for a LATIN1 set; characters past U+00FF cannot be matched as bytes."""
    return pattern.encode("latin-1")


def build_prefilter(ruleset: RuleSet) -> Prefilter:
    """Compile one RE2 set per transformation chain and tag each rule link it covers."""
    prefilter = Prefilter()
    by_chain: dict[tuple[str, ...], list[tuple[Rule, str]]] = {}
    for link, pattern in _patterns(ruleset):
        by_chain.setdefault(link.transformations, []).append((link, pattern))
    options = _options()
    plain = [re2.Set.SearchSet(options), re2.Set.SearchSet(options)]
    plain_ids: list[list[int]] = [[], []]
    for chain, links in by_chain.items():
        group = len(prefilter.sets)
        members = re2.Set.SearchSet(options)
        mask, lowercases = chain_mask(chain)
        half = 1 if lowercases else 0
        count = 0
        for link, pattern in links:
            try:
                index = members.Add(_to_bytes(pattern))
            except (re2.error, UnicodeEncodeError) as error:
                prefilter.skipped.append((link.id, f"RE2 cannot take the pattern: {error}"))
                continue
            link.prefilter_id = (group << GROUP_SHIFT) | index
            count += 1
            if mask & ANY_VALUE:
                continue
            # A multiMatch rule also tests the value before its chain lowercases it.
            for plain_half in (0, 1) if link.multi_match and lowercases else (half,):
                plain[plain_half].Add(_to_bytes(pattern))
                plain_ids[plain_half].append(link.prefilter_id)
        if count:
            members.Compile()
        prefilter.sets.append(members)
        prefilter.sizes.append(count)
    for half in (0, 1):
        if plain_ids[half]:
            plain[half].Compile()
        else:
            plain[half] = _Empty()
    prefilter.plain_sets = plain
    prefilter.plain_ids = [tuple(ids) for ids in plain_ids]
    prefilter.plain_halves = (frozenset(plain_ids[0]), frozenset(plain_ids[1]))
    log.info("prefilter: %d sets, %d patterns, %d rules left to their own operator",
             len(prefilter.sets), prefilter.pattern_count(), len(prefilter.skipped))
    return prefilter


class _Empty:
    """Stands in for a plain set without patterns, which RE2 would refuse to compile."""

    def Match(self, text: bytes) -> None:
        return None
