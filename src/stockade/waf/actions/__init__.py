"""SecLang actions.

Build-time actions (metadata, flow, disruptive) fill in fields of the Rule.
Runtime actions (setvar, ctl, initcol, expirevar) become RuleAction objects
that run when the rule matches.
"""

from __future__ import annotations

from collections.abc import Callable

from stockade.waf.actions import ctl, disruptive, flow, metadata, persistence, setvar
from stockade.waf.rules import Rule, RuleAction

RUNTIME_ACTIONS: dict[str, Callable[[str | None], RuleAction]] = {
    "setvar": setvar.build,
    "ctl": ctl.build,
    "initcol": persistence.build_initcol,
    "expirevar": persistence.build_expirevar,
}

IGNORED_ACTIONS = frozenset({
    "auditlog", "noauditlog", "sanitisearg", "sanitisematched", "sanitisematchedbytes",
    "sanitiserequestheader", "sanitiseresponseheader", "setenv", "setuid", "setsid", "setrsc",
    "deprecatevar", "exec", "prepend", "append", "proxy", "pause", "xmlns",
})
"""Actions accepted for compatibility that change nothing this engine inspects.

auditlog and noauditlog are recorded on the rule separately; the others act on
the web server (environment, response rewriting) or on ModSecurity's own files.
"""


def apply_action(rule: Rule, name: str, value: str | None, runtime: list[RuleAction]) -> bool:
    """Apply one action to ``rule``; return False when ``name`` is unknown.

    Raise ValueError with the reason when the value is invalid.
    """
    key = name.lower()
    if key == "id":
        metadata.apply_id(rule, value)
    elif key == "phase":
        metadata.apply_phase(rule, value)
    elif key == "severity":
        metadata.apply_severity(rule, value)
    elif key in ("msg", "logdata", "tag", "ver", "rev"):
        metadata.apply_text(rule, key, value)
    elif key in ("maturity", "accuracy"):
        metadata.apply_level(rule, key, value)
    elif key in disruptive.DISRUPTIVE:
        disruptive.apply_disruptive(rule, key, value)
    elif key == "status":
        disruptive.apply_status(rule, value)
    elif key == "skip":
        flow.apply_skip(rule, value)
    elif key == "skipafter":
        flow.apply_skip_after(rule, value)
    elif key == "multimatch":
        rule.multi_match = True
    elif key == "capture":
        rule.capture = True
    elif key == "log":
        rule.log = True
    elif key == "nolog":
        rule.log = False
        rule.auditlog = False
    elif key == "auditlog":
        rule.auditlog = True
    elif key == "noauditlog":
        rule.auditlog = False
    elif key in RUNTIME_ACTIONS:
        runtime.append(RUNTIME_ACTIONS[key](value))
    elif key in IGNORED_ACTIONS:
        pass
    else:
        return False
    return True
