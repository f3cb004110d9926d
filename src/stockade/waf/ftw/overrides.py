"""The overrides file: CRS tests this engine skips or fails on purpose, each with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True, slots=True)
class Override:
    rule_id: int
    test_ids: frozenset[str]
    reason: str


def load_overrides(path: Path, suite: str) -> dict[str, Override]:
    """Return the overrides of ``suite`` (e.g. crs-4.28.0) keyed by "RULE-TEST"."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = (document.get("suites") or {}).get(suite) or []
    result: dict[str, Override] = {}
    for entry in entries:
        override = Override(int(entry["rule_id"]), frozenset(str(item) for item in
                                                            entry["test_ids"]),
                            str(entry["reason"]))
        for test_id in override.test_ids:
            result[f"{override.rule_id}-{test_id}"] = override
    return result
