"""Turn SecLang directives into a RuleSet.

Directives act in file order, as in ModSecurity: SecDefaultAction affects
the rules after it, and SecRuleRemove* or SecRuleUpdate* affect the rules
loaded before it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from stockade.waf import settings_directives
from stockade.waf.actions import apply_action
from stockade.waf.bodies.xml import SUPPORTED_PATHS
from stockade.waf.operators import OperatorError, build_operator
from stockade.waf.rules import DefaultActions, EngineSettings, Rule, RuleAction
from stockade.waf.ruleset import Diagnostic, RuleSet
from stockade.waf.seclang.actions import parse_action_list
from stockade.waf.seclang.errors import SecLangError
from stockade.waf.seclang.lexer import Directive
from stockade.waf.seclang.variables import parse_variables
from stockade.waf.transformations import get_transformation
from stockade.waf.variables import KNOWN_VARIABLES

FLOW_ACTIONS = frozenset({"chain", "t"})
PER_MATCH = frozenset({"setvar", "initcol"})
"""Actions run for each matched value, in their written order (initcol before the
setvar that writes to its collection)."""
FALLBACK_OPERATOR_ERRORS = (ValueError, KeyError, NotImplementedError)


class RuleSetBuilder:
    """Collects directives, then builds one RuleSet."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.settings = EngineSettings()
        self.defaults: dict[int, DefaultActions] = {}
        self.diagnostics: list[Diagnostic] = []
        self._open_chain: Rule | None = None  # last link of a chain still expecting a rule
        self._ids: set[int] = set()
        # Rules whose operator cannot run, by id(); holding them keeps their ids unique.
        self._failed_operators: dict[int, Rule] = {}

    def add(self, directives: list[Directive]) -> None:
        for directive in directives:
            self._add_one(directive)

    def build(self) -> RuleSet:
        if self._open_chain is not None:
            raise SecLangError("the last rule has 'chain' but no rule follows it",
                               path=self._open_chain.path, line=self._open_chain.line)
        return RuleSet(self.rules, self.settings, self.diagnostics)

    def _add_one(self, directive: Directive) -> None:
        name = directive.name.lower()
        if self._open_chain is not None and name != "secrule":
            raise directive.error("a chained rule must be followed by SecRule")
        if name == "secrule":
            self._add_rule(directive)
        elif name == "secaction":
            self._add_action(directive)
        elif name == "secmarker":
            self._add_marker(directive)
        elif name == "secdefaultaction":
            self._set_default_action(directive)
        elif settings_directives.handles(name):
            settings_directives.apply(directive, self)
        else:
            raise directive.error("unknown directive; check the spelling or remove it")

    # --- rules ----------------------------------------------------------------

    def _add_rule(self, directive: Directive) -> None:
        if len(directive.args) not in (2, 3):
            raise directive.error("expects VARIABLES OPERATOR [ACTIONS]")
        variables_text, operator_text = directive.args[0], directive.args[1]
        actions_text = directive.args[2] if len(directive.args) == 3 else ""
        parent = self._open_chain
        rule = self._new_rule(directive, parent)
        try:
            rule.set_variables(tuple(parse_variables(variables_text)))
        except ValueError as error:
            raise directive.error(str(error)) from None
        unknown = [spec.name for spec in rule.variables if spec.name not in KNOWN_VARIABLES]
        if unknown:
            raise directive.error(f"unknown variable {unknown[0]}; check the spelling")
        for spec in rule.variables:
            if spec.name == "XML" and spec.key_text not in (None, *SUPPORTED_PATHS):
                raise directive.error(f"XPath {spec.key_text!r} is not supported; "
                                      "use XML:/* (all text) or XML://@* (attribute values)")
        chained = self._apply_actions(rule, actions_text, directive)
        self._set_operator(rule, operator_text, directive)
        self._finish(rule, parent, chained, directive)

    def _add_action(self, directive: Directive) -> None:
        if len(directive.args) != 1:
            raise directive.error("expects one quoted action list")
        rule = self._new_rule(directive, None)
        chained = self._apply_actions(rule, directive.args[0], directive)
        rule.operator_name = "unconditionalMatch"
        self._finish(rule, None, chained, directive)

    def _add_marker(self, directive: Directive) -> None:
        if len(directive.args) != 1:
            raise directive.error("expects one marker name")
        self.rules.append(Rule(id=0, phase=0, path=directive.path, line=directive.line,
                               marker=directive.args[0]))

    def _new_rule(self, directive: Directive, parent: Rule | None) -> Rule:
        rule = Rule(id=0, phase=2, path=directive.path, line=directive.line)
        if parent is not None:
            rule.id = parent.id
            rule.phase = parent.phase
            rule.is_chained = True
        return rule

    def _apply_actions(self, rule: Rule, text: str, directive: Directive) -> bool:
        """Apply the action list; return True when it contains ``chain``."""
        try:
            pairs = parse_action_list(text)
        except ValueError as error:
            raise directive.error(str(error)) from None
        for name, value in pairs:  # phase first, so that the phase's defaults apply
            if name.lower() == "phase" and not rule.is_chained:
                self._apply(rule, name, value, [], directive)
        defaults = self.defaults.get(rule.phase, DefaultActions())
        if not rule.is_chained:
            rule.log, rule.auditlog = defaults.log, defaults.auditlog
            rule.default_disruptive, rule.default_status = defaults.disruptive, defaults.status
        transformations = list(defaults.transformations)
        runtime: list[RuleAction] = []
        chained = False
        for name, value in pairs:
            key = name.lower()
            if key == "chain":
                chained = True
            elif key == "t":
                transformations = self._add_transformation(transformations, value, directive)
            elif key == "phase" and not rule.is_chained:
                continue
            else:
                self._apply(rule, name, value, runtime, directive)
        rule.actions = tuple(action for action in runtime if action.name not in PER_MATCH)
        rule.per_match_actions = tuple(action for action in runtime if action.name in PER_MATCH)
        rule.transformations = tuple(transformations)
        rule.transform_functions = tuple(get_transformation(item) for item in transformations)
        return chained

    def _apply(self, rule: Rule, name: str, value: str | None, runtime: list[RuleAction],
               directive: Directive) -> None:
        try:
            known = apply_action(rule, name, value, runtime)
        except ValueError as error:
            raise directive.error(str(error)) from None
        if not known:
            raise directive.error(f"unknown action {name!r}")

    @staticmethod
    def _add_transformation(current: list[str], value: str | None,
                            directive: Directive) -> list[str]:
        name = (value or "").strip()
        if name.lower() == "none":
            return []
        try:
            get_transformation(name)
        except (KeyError, ValueError):
            raise directive.error(f"unknown transformation t:{name}") from None
        return [*current, name]

    def _set_operator(self, rule: Rule, text: str, directive: Directive) -> None:
        operator_text = text
        if operator_text.startswith("!"):
            rule.negated = True
            operator_text = operator_text[1:]
        if operator_text.startswith("@"):
            name, _, argument = operator_text[1:].partition(" ")
        else:
            name, argument = "rx", operator_text
        rule.operator_name, rule.operator_argument = name, argument
        try:
            rule.operator = build_operator(name, argument, base_dir=Path(directive.path).parent)
        except FALLBACK_OPERATOR_ERRORS as error:
            rule.operator = None
            rule.operator_name = ""
            self._failed_operators[id(rule)] = rule
            # An OperatorError's text quotes the argument again, so only its reason is kept.
            reason = error.reason if isinstance(error, OperatorError) else str(error)
            message = (f"operator @{name} {_clipped(argument)!r} cannot be used, so the rule "
                       f"is left out: {reason}")
            # The caller reports diagnostics, once (load_crs logs each one).
            self.diagnostics.append(Diagnostic(rule.id, directive.path, directive.line, message))

    def _finish(self, rule: Rule, parent: Rule | None, chained: bool,
                directive: Directive) -> None:
        if parent is not None:
            parent.chain = rule
        else:
            self._check_new_rule(rule, directive)
            self.rules.append(rule)
        self._open_chain = rule if chained else None
        if not chained and self._failed_operators:
            self._disable_chain_of(rule)

    def _check_new_rule(self, rule: Rule, directive: Directive) -> None:
        if rule.id == 0:
            raise directive.error("every rule needs an id action, for example id:1000")
        if rule.id in self._ids:
            raise directive.error(f"duplicate rule id {rule.id}")
        self._ids.add(rule.id)

    def _disable_chain_of(self, link: Rule) -> None:
        """Drop the rule or chain that ``link`` ends when any of its links lost its operator.

        A rule without its operator must not run: evaluation treats a missing
        operator as SecAction's unconditional match, and with ``!`` a rule
        that never matched would fire on every request.
        """
        for rule in list(self.rules):
            links = rule.links()
            if link in links:
                if any(id(item) in self._failed_operators for item in links):
                    self.rules.remove(rule)
                    self._ids.discard(rule.id)
                break

    # --- SecDefaultAction --------------------------------------------------------

    def _set_default_action(self, directive: Directive) -> None:
        if len(directive.args) != 1:
            raise directive.error("expects one quoted action list")
        probe = Rule(id=1, phase=2, path=directive.path, line=directive.line)
        transformations: list[str] = []
        try:
            pairs = parse_action_list(directive.args[0])
        except ValueError as error:
            raise directive.error(str(error)) from None
        for name, value in pairs:
            if name.lower() == "t":
                transformations = self._add_transformation(transformations, value, directive)
            else:
                self._apply(probe, name, value, [], directive)
        if not any(name.lower() == "phase" for name, _ in pairs):
            raise directive.error("needs a phase action, for example phase:2")
        if probe.disruptive is None:
            raise directive.error("needs a disruptive action, for example pass or deny")
        self.defaults[probe.phase] = DefaultActions(
            probe.disruptive, probe.status, probe.log, probe.auditlog, tuple(transformations))


MAX_ARGUMENT_IN_DIAGNOSTIC: Final = 60
"""Characters of an operator argument quoted in a load diagnostic."""


def _clipped(argument: str) -> str:
    if len(argument) <= MAX_ARGUMENT_IN_DIAGNOSTIC:
        return argument
    return argument[:MAX_ARGUMENT_IN_DIAGNOSTIC] + "..."
