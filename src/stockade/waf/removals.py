"""Rules and targets removed for one transaction by ctl actions or tenant exclusions."""

from __future__ import annotations

from dataclasses import dataclass, field

from stockade.waf.rules import Rule
from stockade.waf.seclang.variables import VariableSpec

IdRanges = tuple[tuple[int, int], ...]


def in_ranges(rule_id: int, ranges: IdRanges) -> bool:
    return any(low <= rule_id <= high for low, high in ranges)


@dataclass(slots=True)
class Removals:
    id_ranges: list[tuple[int, int]] = field(default_factory=list)
    tags: set[str] = field(default_factory=set)
    messages: set[str] = field(default_factory=set)
    targets_by_id: list[tuple[IdRanges, VariableSpec]] = field(default_factory=list)
    targets_by_tag: list[tuple[str, VariableSpec]] = field(default_factory=list)
    changed: bool = False  # something was removed since this copy was made

    def copy(self) -> Removals:
        return Removals(list(self.id_ranges), set(self.tags), set(self.messages),
                        list(self.targets_by_id), list(self.targets_by_tag))

    def remove_ids(self, ranges: IdRanges) -> None:
        self.id_ranges.extend(ranges)
        self.changed = True

    def remove_tag(self, tag: str) -> None:
        # NOTE: tags compare exactly, as libmodsecurity 3 does (containsTag), so an
        # exclusion that relies on a pattern in the tag removes nothing.
        self.tags.add(tag)
        self.changed = True

    def remove_msg(self, message: str) -> None:
        self.messages.add(message)
        self.changed = True

    def remove_target_by_ids(self, ranges: IdRanges, target: VariableSpec) -> None:
        self.targets_by_id.append((ranges, target))
        self.changed = True

    def remove_target_by_tag(self, tag: str, target: VariableSpec) -> None:
        self.targets_by_tag.append((tag, target))
        self.changed = True

    def removes(self, rule: Rule) -> bool:
        if self.id_ranges:
            rule_id = rule.id
            for low, high in self.id_ranges:
                if low <= rule_id <= high:
                    return True
        if self.tags and not self.tags.isdisjoint(rule.tags):
            return True
        return bool(self.messages) and rule.msg in self.messages

    def removes_targets(self) -> bool:
        """Return True when some target is removed from some rule."""
        return bool(self.targets_by_id or self.targets_by_tag)

    def excluded_targets(self, rule: Rule) -> list[VariableSpec]:
        """Return the targets removed from ``rule`` (and so from all of its chain)."""
        if not self.targets_by_id and not self.targets_by_tag:
            return []
        result = [spec for ranges, spec in self.targets_by_id if in_ranges(rule.id, ranges)]
        if self.targets_by_tag:
            result.extend(spec for tag, spec in self.targets_by_tag if tag in rule.tags)
        return result
