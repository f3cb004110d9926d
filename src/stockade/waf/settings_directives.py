"""Directives that configure the engine or change rules already loaded."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from stockade.waf.actions import apply_action
from stockade.waf.actions.ctl import parse_id_ranges
from stockade.waf.rules import Rule, RuleAction
from stockade.waf.seclang.actions import parse_action_list
from stockade.waf.seclang.lexer import Directive
from stockade.waf.seclang.variables import parse_variables

if TYPE_CHECKING:
    from stockade.waf.builder import RuleSetBuilder

PER_MATCH = frozenset({"setvar", "initcol"})  # as in builder.PER_MATCH

T = TypeVar("T")

ON_OFF = {"on": True, "off": False}
SIZE_DIRECTIVES = {
    "secrequestbodylimit": "request_body_limit",
    "secrequestbodynofileslimit": "request_body_no_files_limit",
    "secrequestbodyjsondepthlimit": "request_body_json_depth_limit",
    "secargumentslimit": "arguments_limit",
    "secresponsebodylimit": "response_body_limit",
    "seccollectiontimeout": "collection_timeout",
}
IGNORED = frozenset({
    "secauditengine", "secauditlog", "secauditlog2", "secauditlogparts", "secauditlogtype",
    "secauditlogformat", "secauditlogstoragedir", "secauditlogdirmode", "secauditlogfilemode",
    "secauditlogrelevantstatus", "secdebuglog", "secdebugloglevel", "sectmpdir", "secdatadir",
    "secuploaddir", "secuploadkeepfiles", "secuploadfilemode", "secuploadfilelimit",
    "sectmpsaveuploadedfiles", "secpcrematchlimit", "secpcrematchlimitrecursion",
    "secrequestbodyinmemorylimit", "secstatusengine", "secserversignature", "secunicodemapfile",
    "secunicodecodepage", "secgeolookupdb", "sechttpblkey", "seccookieformat",
    "secargumentseparator", "secxmlexternalentity", "secconnengine", "secremoterules",
    "secremoterulesfailaction", "secwebappid", "secsensorid", "secinterceptonerror",
})
"""Directives accepted for compatibility with existing configuration files.

They set ModSecurity's logging, temporary files or web-server integration,
which this engine does not have; the argument separator is always '&'.
"""
HANDLED = frozenset({
    "secruleengine", "secrequestbodyaccess", "secresponsebodyaccess",
    "secrequestbodylimitaction", "secresponsebodylimitaction", "secresponsebodymimetype",
    "secresponsebodymimetypesclear", "seccomponentsignature", "secruleremovebyid",
    "secruleremovebytag", "secruleremovebymsg", "secruleupdatetargetbyid",
    "secruleupdatetargetbytag", "secruleupdateactionbyid", *SIZE_DIRECTIVES,
})


def handles(name: str) -> bool:
    return name in HANDLED or name in IGNORED


def apply(directive: Directive, builder: RuleSetBuilder) -> None:
    name = directive.name.lower()
    if name in IGNORED:
        return
    settings = builder.settings
    args = directive.args
    if name == "secruleengine":
        settings.rule_engine = _choice(directive, {"on": "On", "off": "Off",
                                                   "detectiononly": "DetectionOnly"})
    elif name == "secrequestbodyaccess":
        settings.request_body_access = _choice(directive, ON_OFF)
    elif name == "secresponsebodyaccess":
        settings.response_body_access = _choice(directive, ON_OFF)
    elif name in ("secrequestbodylimitaction", "secresponsebodylimitaction"):
        value = _choice(directive, {"reject": "Reject", "processpartial": "ProcessPartial"})
        if name == "secrequestbodylimitaction":
            settings.request_body_limit_action = value
        else:
            settings.response_body_limit_action = value
    elif name in SIZE_DIRECTIVES:
        setattr(settings, SIZE_DIRECTIVES[name], _number(directive))
    elif name == "secresponsebodymimetype":
        settings.response_body_mime_types = (*settings.response_body_mime_types,
                                             *(item.lower() for item in " ".join(args).split()))
    elif name == "secresponsebodymimetypesclear":
        settings.response_body_mime_types = ()
    elif name == "seccomponentsignature":
        settings.component_signatures.append(" ".join(args))
    else:
        _change_rules(name, directive, builder)


def _change_rules(name: str, directive: Directive, builder: RuleSetBuilder) -> None:
    args = directive.args
    if not args:
        raise directive.error("expects an argument")
    if name == "secruleremovebyid":
        try:
            ranges = parse_id_ranges(" ".join(args))
        except ValueError as error:
            raise directive.error(str(error)) from None
        _remove(builder, lambda rule: any(low <= rule.id <= high for low, high in ranges))
    elif name == "secruleremovebytag":
        tag = args[0]
        _remove(builder, lambda rule: tag in rule.tags)
    elif name == "secruleremovebymsg":
        message = args[0]
        _remove(builder, lambda rule: rule.msg == message)
    elif name == "secruleupdatetargetbyid":
        try:
            ranges = parse_id_ranges(args[0])
        except ValueError as error:
            raise directive.error(str(error)) from None
        _update_targets(builder, directive,
                        lambda rule: any(low <= rule.id <= high for low, high in ranges))
    elif name == "secruleupdatetargetbytag":
        tag = args[0]
        _update_targets(builder, directive, lambda rule: tag in rule.tags)
    elif name == "secruleupdateactionbyid":
        _update_actions(builder, directive)


def _remove(builder: RuleSetBuilder, selected: Callable[[Rule], bool]) -> None:
    keep = [rule for rule in builder.rules if rule.is_marker or not selected(rule)]
    builder.rules[:] = keep


def _update_targets(builder: RuleSetBuilder, directive: Directive,
                    selected: Callable[[Rule], bool]) -> None:
    if len(directive.args) not in (2, 3):
        raise directive.error("expects RULE TARGETS [REPLACED_TARGET]")
    try:
        added = parse_variables(directive.args[1])
        replaced = parse_variables(directive.args[2])[0] if len(directive.args) == 3 else None
    except ValueError as error:
        raise directive.error(str(error)) from None
    for rule in builder.rules:
        if rule.is_marker or not selected(rule):
            continue
        variables = list(rule.variables)
        if replaced is not None:
            variables = [item for item in variables if item.label() != replaced.label()]
        rule.set_variables(tuple(variables + added))


def _update_actions(builder: RuleSetBuilder, directive: Directive) -> None:
    if len(directive.args) != 2:
        raise directive.error("expects RULE_ID ACTIONS")
    id_text = directive.args[0].partition(":")[0]
    if not id_text.isdigit():
        raise directive.error(f"invalid rule id {directive.args[0]!r}")
    target = next((rule for rule in builder.rules if rule.id == int(id_text)), None)
    if target is None:
        raise directive.error(f"rule {id_text} is not loaded, so it cannot be updated")
    runtime: list[RuleAction] = []
    try:
        pairs = parse_action_list(directive.args[1])
    except ValueError as error:
        raise directive.error(str(error)) from None
    for name, value in pairs:
        key = name.lower()
        if key in ("id", "phase", "chain"):
            raise directive.error(f"cannot change {name} of a loaded rule")
        if key == "tag":
            target.tags = ()
        if key == "t":
            raise directive.error("cannot change transformations of a loaded rule")
        try:
            known = apply_action(target, name, value, runtime)
        except ValueError as error:
            raise directive.error(str(error)) from None
        if not known:
            raise directive.error(f"unknown action {name!r}")
    if runtime:
        _replace_runtime_actions(target, runtime)


def _replace_runtime_actions(rule: Rule, runtime: list[RuleAction]) -> None:
    names = {action.name for action in runtime}
    kept = [action for action in rule.actions if action.name not in names]
    rule.actions = (*kept, *(action for action in runtime if action.name not in PER_MATCH))
    if names & PER_MATCH:
        rule.per_match_actions = tuple(action for action in runtime if action.name in PER_MATCH)


def _choice(directive: Directive, choices: dict[str, T]) -> T:
    if len(directive.args) != 1 or directive.args[0].lower() not in choices:
        raise directive.error(f"expects one of {', '.join(sorted(choices))}")
    return choices[directive.args[0].lower()]


def _number(directive: Directive) -> int:
    if len(directive.args) != 1 or not directive.args[0].isdigit():
        raise directive.error("expects a non-negative whole number")
    return int(directive.args[0])
