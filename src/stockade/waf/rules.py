"""Compiled rules: what the engine evaluates, built once and shared read-only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from stockade.waf.seclang.variables import VariableSpec

if TYPE_CHECKING:
    from stockade.waf.operators import Operator
    from stockade.waf.outcome import Outcome
    from stockade.waf.screen import Screen
    from stockade.waf.transaction import Transaction

Transformation = Callable[[bytes], bytes]

SEVERITY_NAMES = ("EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG")
"""SecLang severities; the index is the numeric severity (0 is the most severe)."""

PHASES = (1, 2, 3, 4, 5)


class RuleAction(Protocol):
    """A non-disruptive action run when its rule (its whole chain) matches."""

    @property
    def name(self) -> str:
        ...

    def execute(self, transaction: Transaction, rule: Rule) -> None:
        ...


@dataclass(slots=True)
class Rule:
    """One SecRule, SecAction or SecMarker; chained rules hang off ``chain``."""

    id: int
    phase: int
    path: str
    line: int
    variables: tuple[VariableSpec, ...] = ()
    exclusions: tuple[VariableSpec, ...] = ()  # the "!" entries of variables, kept apart
    operator: Operator | None = None  # None for SecAction and SecMarker
    operator_name: str = ""
    operator_argument: str = ""
    negated: bool = False
    transformations: tuple[str, ...] = ()
    transform_functions: tuple[Transformation, ...] = ()
    msg: str | None = None
    logdata: str | None = None
    tags: tuple[str, ...] = ()
    severity: int | None = None
    ver: str | None = None
    rev: str | None = None
    maturity: int | None = None
    accuracy: int | None = None
    disruptive: str | None = None  # deny, drop, block, pass, allow, redirect
    disruptive_argument: str | None = None  # allow:phase, redirect:URL
    status: int | None = None
    default_disruptive: str = "pass"  # what ``block`` means, from SecDefaultAction
    default_status: int | None = None
    chain: Rule | None = None
    is_chained: bool = False  # True for every link after the first
    skip: int = 0
    skip_after: str | None = None
    multi_match: bool = False
    capture: bool = False
    log: bool = True
    auditlog: bool = True
    actions: tuple[RuleAction, ...] = ()  # run once after the whole chain matched
    per_match_actions: tuple[RuleAction, ...] = ()  # setvar, initcol: for each matched value
    marker: str | None = None  # set for SecMarker entries
    prefilter_id: int | None = None  # index into the prefilter's pattern table
    screen: Screen | None = None  # proves cheaply that the rule cannot match, when set
    fixed_outcome: Outcome | None = None  # what every match returns, when it runs no action
    # Set when the link's result for a value depends on the value alone, so the rule
    # set can remember the values it does not match (RuleSet.misses).
    miss_slot: int | None = None
    # Set when every variable of the link stays fixed while a phase runs: its labels
    # joined, exclusions included. It names the link's whole target list in a phase.
    targets_key: str | None = None

    @property
    def is_marker(self) -> bool:
        return self.marker is not None

    def set_variables(self, variables: tuple[VariableSpec, ...]) -> None:
        self.variables = variables
        self.exclusions = tuple(spec for spec in variables if spec.exclude)

    def links(self) -> list[Rule]:
        """Return this rule and every rule chained to it, in order."""
        if self.chain is None:
            return [self]
        result: list[Rule] = []
        current: Rule | None = self
        while current is not None:
            result.append(current)
            current = current.chain
        return result

    def severity_name(self) -> str:
        if self.severity is None:
            return ""
        return SEVERITY_NAMES[self.severity]

    def describe(self) -> str:
        return f"rule {self.id} ({self.path}:{self.line})"


@dataclass(slots=True)
class DefaultActions:
    """The SecDefaultAction settings for the rules of one phase that follow it."""

    disruptive: str = "pass"
    status: int | None = None
    log: bool = True
    auditlog: bool = True
    transformations: tuple[str, ...] = ()


@dataclass(slots=True)
class EngineSettings:
    """Directives that configure the engine rather than add rules."""

    rule_engine: str = "On"  # On, Off or DetectionOnly
    request_body_access: bool = True
    request_body_limit: int = 13_107_200  # bytes; SecRequestBodyLimit
    request_body_no_files_limit: int = 131_072  # bytes without file parts
    request_body_limit_action: str = "Reject"  # Reject or ProcessPartial
    request_body_json_depth_limit: int = 512  # nesting levels
    arguments_limit: int = 1000  # ARGS entries a body processor may add
    response_body_access: bool = False
    response_body_mime_types: tuple[str, ...] = ("text/plain", "text/html")
    response_body_limit: int = 524_288  # bytes
    response_body_limit_action: str = "ProcessPartial"
    collection_timeout: int = 3600  # seconds a persistent collection lives
    component_signatures: list[str] = field(default_factory=list)
