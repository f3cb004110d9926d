"""``ctl``: change engine settings or remove rules for the current transaction only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from stockade.waf.seclang.variables import VariableSpec, parse_variable

if TYPE_CHECKING:
    from stockade.waf.rules import Rule
    from stockade.waf.transaction import Transaction

RULE_ENGINE_VALUES = {"on": "On", "off": "Off", "detectiononly": "DetectionOnly"}
BODY_PROCESSORS = frozenset({"URLENCODED", "MULTIPART", "JSON", "XML"})
ACCEPTED_NO_EFFECT = frozenset({"auditengine", "auditlogparts", "debugloglevel",
                                "hashengine", "hashenforcement", "parseXmlIntoArgs".lower()})
"""ctl options that only affect ModSecurity's audit log files, which this engine does not write."""


def parse_id_ranges(text: str) -> tuple[tuple[int, int], ...]:
    """Parse ``1,5-9 12`` into inclusive ranges; raise ValueError on anything else."""
    ranges: list[tuple[int, int]] = []
    for item in text.replace(",", " ").split():
        low, dash, high = item.partition("-")
        if not low.strip().isdigit() or (dash and not high.strip().isdigit()):
            raise ValueError(f"invalid rule id or range {item!r}; use 942100 or 942100-942199")
        start = int(low)
        end = int(high) if dash else start
        if end < start:
            raise ValueError(f"rule id range {item!r} ends before it starts")
        ranges.append((start, end))
    if not ranges:
        raise ValueError("expected at least one rule id")
    return tuple(ranges)


@dataclass(frozen=True, slots=True)
class Ctl:
    option: str  # lower-case option name
    value: str
    ranges: tuple[tuple[int, int], ...] = ()
    target: VariableSpec | None = None
    name: str = "ctl"

    def execute(self, transaction: Transaction, rule: Rule) -> None:
        option = self.option
        if option == "ruleengine":
            transaction.rule_engine = RULE_ENGINE_VALUES[self.value.lower()]
        elif option == "ruleremovebyid":
            transaction.removals.remove_ids(self.ranges)
        elif option == "ruleremovebytag":
            transaction.removals.remove_tag(transaction.expand_macros(self.value))
        elif option == "ruleremovebymsg":
            transaction.removals.remove_msg(transaction.expand_macros(self.value))
        elif option == "ruleremovetargetbyid" and self.target is not None:
            transaction.removals.remove_target_by_ids(self.ranges, self.target)
        elif option == "ruleremovetargetbytag" and self.target is not None:
            tag = self.value.partition(";")[0]
            transaction.removals.remove_target_by_tag(tag, self.target)
        elif option == "requestbodyprocessor":
            transaction.request_body_processor = self.value.upper()
            transaction.scalars["REQBODY_PROCESSOR"] = self.value.upper().encode()
            transaction.forget_screened_values()
        elif option == "forcerequestbodyvariable":
            transaction.force_request_body_variable = self.value.lower() == "on"
        elif option == "requestbodyaccess":
            transaction.request_body_access = self.value.lower() == "on"
        elif option == "requestbodylimit":
            transaction.request_body_limit = int(self.value)
        elif option == "responsebodyaccess":
            transaction.response_body_access = self.value.lower() == "on"


def build(value: str | None) -> Ctl:
    option, equals, argument = (value or "").partition("=")
    option = option.strip()
    key = option.lower()
    argument = argument.strip()
    if not equals:
        raise ValueError(f"ctl {value!r} must be option=value")
    if key == "ruleengine":
        if argument.lower() not in RULE_ENGINE_VALUES:
            raise ValueError(f"ctl:ruleEngine={argument!r}; use On, Off or DetectionOnly")
        return Ctl(key, argument)
    if key == "ruleremovebyid":
        return Ctl(key, argument, parse_id_ranges(argument))
    if key in ("ruleremovebytag", "ruleremovebymsg"):
        return Ctl(key, argument)
    if key in ("ruleremovetargetbyid", "ruleremovetargetbytag"):
        selector, semicolon, target = argument.partition(";")
        if not semicolon or not target.strip():
            raise ValueError(f"ctl:{option}={argument!r} must be ID_OR_TAG;VARIABLE")
        spec = parse_variable(target.strip())
        ranges = parse_id_ranges(selector) if key == "ruleremovetargetbyid" else ()
        return Ctl(key, argument, ranges, spec)
    if key == "requestbodyprocessor":
        if argument.upper() not in BODY_PROCESSORS:
            raise ValueError(f"ctl:requestBodyProcessor={argument!r}; use one of "
                             f"{sorted(BODY_PROCESSORS)}")
        return Ctl(key, argument)
    if key in ("forcerequestbodyvariable", "requestbodyaccess", "responsebodyaccess"):
        if argument.lower() not in ("on", "off"):
            raise ValueError(f"ctl:{option}={argument!r}; use On or Off")
        return Ctl(key, argument)
    if key == "requestbodylimit":
        if not argument.isdigit():
            raise ValueError(f"ctl:requestBodyLimit={argument!r} must be a number of bytes")
        return Ctl(key, argument)
    if key in ACCEPTED_NO_EFFECT:
        return Ctl(key, argument)
    raise ValueError(f"unsupported ctl option {option!r}")
