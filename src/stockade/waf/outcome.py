"""The steps after a rule matches: its actions, the log entry and the disruptive action."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from stockade.waf.matches import Interruption, Match
from stockade.waf.rules import Rule

if TYPE_CHECKING:
    from stockade.waf.transaction import Transaction

DEFAULT_DENY_STATUS: Final = 403
INTERRUPTING: Final = frozenset({"deny", "drop", "redirect"})


@dataclass(frozen=True, slots=True)
class Outcome:
    stop_phase: bool = False
    skip: int = 0
    skip_after: str | None = None


CONTINUE: Final = Outcome()


def finish_match(transaction: Transaction, rule: Rule, phase: int) -> Outcome:
    """Run the actions of a fully matched rule and apply its disruptive action."""
    transaction.current_rule = rule
    if rule.fixed_outcome is not None:
        return rule.fixed_outcome
    skip = 0
    skip_after: str | None = None
    for link in rule.links():
        if link.operator is None:  # SecAction: no values matched, so setvar runs here
            for step in link.per_match_actions:
                step.execute(transaction, rule)
        for step in link.actions:  # setvar and initcol already ran for each matched value
            step.execute(transaction, rule)
        skip = skip or link.skip
        skip_after = skip_after or link.skip_after
    action = resolve_disruptive(rule)
    if rule.log:
        transaction.matches.append(_record(transaction, rule, phase, action))
    if transaction.rule_engine != "On":
        return _continue(skip, skip_after)
    if action in INTERRUPTING:
        status = rule.status or rule.default_status or DEFAULT_DENY_STATUS
        location = rule.disruptive_argument if action == "redirect" else None
        if action == "redirect":
            status = rule.status if rule.status in (301, 302, 303, 307) else 302
        transaction.interruption = Interruption(rule.id, phase, status, action, location)
        return Outcome(stop_phase=True)
    if action == "allow":
        return _allow(transaction, rule)
    return _continue(skip, skip_after)


def _continue(skip: int, skip_after: str | None) -> Outcome:
    """Return the outcome of a match that lets the phase go on, shared when it jumps nowhere."""
    if not skip and skip_after is None:
        return CONTINUE
    return Outcome(skip=skip, skip_after=skip_after)


def fixed_outcome(rule: Rule) -> Outcome | None:
    """Return the outcome of every match of ``rule`` when a match does nothing else.

    That is a rule that only passes or jumps: no actions on any link, no log
    entry, and no disruptive action besides pass, such as the paranoia-level
    checks of the CRS.
    """
    if rule.log or resolve_disruptive(rule) != "pass":
        return None
    links = rule.links()
    if any(link.actions or link.per_match_actions for link in links):
        return None
    skip = next((link.skip for link in links if link.skip), 0)
    skip_after = next((link.skip_after for link in links if link.skip_after), None)
    return Outcome(skip=skip, skip_after=skip_after)


def resolve_disruptive(rule: Rule) -> str:
    """Return the action a match takes; ``block`` means the phase's default action."""
    action = rule.disruptive or rule.default_disruptive
    if action == "block":
        action = rule.default_disruptive
        if action == "block":
            action = "pass"
    return action


def _allow(transaction: Transaction, rule: Rule) -> Outcome:
    scope = rule.disruptive_argument
    if scope == "phase":
        return Outcome(stop_phase=True)
    if scope == "request":
        transaction.allowed_request = True
    else:
        transaction.allowed_all = True
    return Outcome(stop_phase=True)


def _record(transaction: Transaction, rule: Rule, phase: int, action: str) -> Match:
    msg = transaction.expand_macros(rule.msg) if rule.msg else ""
    logdata = transaction.expand_macros(rule.logdata) if rule.logdata else ""
    return Match(
        rule_id=rule.id,
        phase=phase,
        msg=msg,
        logdata=logdata,
        tags=rule.tags,
        severity_number=rule.severity,
        variable=transaction.matched_var.name,
        data=transaction.matched_var.value,
        disruptive=action,
    )
