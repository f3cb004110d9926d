"""TX setup: the rules at the start of a phase that read and write only TX.

The Core Rule Set runs a few dozen such rules in a row early in phase 1:
the defaults of REQUEST-901-INITIALIZATION (``&TX:x "@eq 0"`` then
``setvar:tx.x=...``) and the anomaly score counters set to 0. Given the
same values of the TX variables they read, they write the same TX
variables every time, so an engine runs each run of such rules once per
distinct starting state and replays the result (see
``evaluation.run_phase``).

A setup rule, and every link of its chain, must:

- target only TX variables named literally (``TX:x``, ``&TX:x``);
- use macros, in its operator argument and its setvar actions, only of
  TX variables named literally, MATCHED_VAR, MATCHED_VAR_NAME and RULE;
- have no action besides setvar on TX and the flow and metadata actions,
  and no ``skip``.

Rules that log or interrupt can be setup rules: a run in which one of them
matched is not remembered, so only runs without such effects are replayed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from stockade.waf.actions.setvar import SetVar
from stockade.waf.macros import parse_template
from stockade.waf.matches import MatchedVar
from stockade.waf.rules import Rule

SETUP_MACROS: Final = frozenset({"TX", "MATCHED_VAR", "MATCHED_VAR_NAME", "RULE"})
"""Macros a setup rule may expand: their values come from TX or from the rule itself."""

MIN_SETUP_RULES: Final = 3
"""Shorter runs cost about as much to replay as to run."""

MAX_REMEMBERED_SETUPS: Final = 256
"""Starting states an engine remembers; past it the memory starts again."""


@dataclass(frozen=True, slots=True)
class TxSetup:
    """The setup rules of one phase: ``length`` rules from ``start``, and the TX keys they read."""

    start: int
    length: int
    reads: tuple[str, ...]  # lower-case TX keys


@dataclass(frozen=True, slots=True)
class SetupResult:
    """The effect of running the setup rules from one starting state."""

    position: int  # where the phase goes on
    writes: tuple[tuple[str, tuple[str, bytes]], ...]  # TX entries set, as MapCollection keeps them
    removed: tuple[str, ...]  # TX keys deleted
    matched_var: tuple[str, bytes]
    matched_vars: tuple[MatchedVar, ...]
    current_rule: Rule | None


def find_setups(rules: list[Rule]) -> tuple[TxSetup, ...]:
    """Return the runs of at least MIN_SETUP_RULES setup rules in ``rules``, in order.

    Runs stop at the first rule that uses ``skip``, whose count a run would
    interrupt.
    """
    setups: list[TxSetup] = []
    position = 0
    end = len(rules)
    while position < end:
        start = position
        reads: set[str] = set()
        count = 0
        while position < end:
            rule = rules[position]
            if rule.marker is None:
                rule_reads = _setup_reads(rule)
                if rule_reads is None:
                    break
                reads.update(rule_reads)
                count += 1
            position += 1
        if count >= MIN_SETUP_RULES:
            setups.append(TxSetup(start, position - start, tuple(sorted(reads))))
        if position < end and any(link.skip for link in rules[position].links()):
            break
        position += 1
    return tuple(setups)


def _setup_reads(rule: Rule) -> set[str] | None:
    """Return the TX keys ``rule`` reads, or None when it is not a setup rule."""
    reads: set[str] = set()
    for link in rule.links():
        if link.skip:
            return None
        for spec in (*link.variables, *link.exclusions):
            if spec.name != "TX" or spec.key is None or spec.key_pattern is not None:
                return None
            reads.add(spec.key)
        if link.operator is not None and not _macros_allowed(link.operator_argument, reads):
            return None
        for action in (*link.actions, *link.per_match_actions):
            if not isinstance(action, SetVar) or action.collection != "TX":
                return None
            if not (_macros_allowed(action.key, reads) and _macros_allowed(action.value, reads)):
                return None
    return reads


def _macros_allowed(text: str, reads: set[str]) -> bool:
    """Return True when ``text`` expands only setup macros; add the TX keys it reads."""
    if "%{" not in text:
        return True
    for part in parse_template(text):
        if isinstance(part, str):
            continue
        name, key = part
        if name not in SETUP_MACROS or (name == "TX" and key is None):
            return False
        if name == "TX" and key is not None:
            reads.add(key.lower())
    return True
