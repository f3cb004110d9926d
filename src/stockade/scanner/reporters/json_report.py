"""The JSON report: scan metadata, a count per severity, and every finding."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from stockade.events.model import Severity
from stockade.scanner.runner import ScanResult

FORMAT_VERSION = 1


def iso_time(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat().replace("+00:00", "Z")


def severity_counts(result: ScanResult) -> dict[str, int]:
    counts = {level.name.lower(): 0 for level in sorted(Severity, reverse=True)}
    for finding in result.findings:
        counts[finding.severity.name.lower()] += 1
    return counts


def build_report(result: ScanResult) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "target": result.target,
        "document": result.document,
        "started": iso_time(result.started),
        "finished": iso_time(result.finished),
        "requests": result.requests,
        "checks": result.checks,
        "counts": severity_counts(result),
        "findings": [finding.to_dict() for finding in result.findings],
        "notes": result.notes,
        "errors": result.errors,
    }


def render_json(result: ScanResult) -> str:
    return json.dumps(build_report(result), indent=2) + "\n"
