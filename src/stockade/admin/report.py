"""The per-tenant security report for a period, as data and as HTML."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from stockade.admin.inventory import new_shadow_endpoints
from stockade.events.model import Severity
from stockade.store import reporting, tenancy
from stockade.store.scope import Scope


def build_report(scope: Scope, tenant_id: str, since: float, until: float,
                 inventory_database: str | None = None) -> dict[str, Any]:
    """Collect the report's sections; every figure comes from the store or discovery."""
    if until <= since:
        raise ValueError(f"report period is empty: until ({until}) must be after since ({since})")
    totals = reporting.event_totals(scope, tenant_id, since, until)
    shadow: list[dict[str, Any]] | None = None
    if inventory_database is not None:
        services = tenancy.list_service_ids(scope, tenant_id)
        shadow = new_shadow_endpoints(inventory_database, tenant_id, services, since, until)
    return {
        "tenant": tenant_id,
        "since": since,
        "until": until,
        "events": totals["total"],
        "blocked": totals["by_action"].get("blocked", 0),
        "detected": totals["by_action"].get("detected", 0),
        "by_severity": {Severity(level).name.lower(): count
                        for level, count in sorted(totals["by_severity"].items())},
        "top_attacks": reporting.top_attacks(scope, tenant_id, since, until),
        "top_sources": reporting.top_sources(scope, tenant_id, since, until),
        "top_blocked_paths": reporting.top_blocked_paths(scope, tenant_id, since, until),
        "new_shadow_endpoints": shadow,
        "scan_findings": reporting.scan_findings(scope, tenant_id, since, until),
    }


def _time(value: float) -> str:
    return dt.datetime.fromtimestamp(value, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _table(title: str, columns: list[str], rows: list[dict[str, Any]]) -> str:
    parts = [f"<h2>{html.escape(title)}</h2>"]
    if not rows:
        parts.append("<p>None in this period.</p>")
        return "\n".join(parts)
    parts.append("<table><thead><tr>"
                 + "".join(f"<th>{html.escape(column)}</th>" for column in columns)
                 + "</tr></thead><tbody>")
    for row in rows:
        cells = "".join(f"<td>{html.escape(str(row.get(column, '')))}</td>" for column in columns)
        parts.append(f"<tr>{cells}</tr>")
    parts.append("</tbody></table>")
    return "\n".join(parts)


_STYLE = ("body{font-family:sans-serif;margin:2em;color:#222}"
          "table{border-collapse:collapse;margin-bottom:1.5em}"
          "th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
          "th{background:#f0f0f0}")


def render_html(report: dict[str, Any]) -> str:
    """Render the report as a standalone HTML page, escaping every value from the store."""
    tenant = html.escape(report["tenant"])
    period = f"{_time(report['since'])} to {_time(report['until'])}"
    summary = [{"figure": "security events", "value": report["events"]},
               {"figure": "blocked requests", "value": report["blocked"]},
               {"figure": "detections (not blocked)", "value": report["detected"]}]
    summary += [{"figure": f"severity {name}", "value": count}
                for name, count in report["by_severity"].items()]
    sections = [
        _table("Summary", ["figure", "value"], summary),
        _table("Top attacks", ["layer", "kind", "events", "blocked"], report["top_attacks"]),
        _table("Top sources", ["client_ip", "events", "blocked"], report["top_sources"]),
        _table("Most blocked paths", ["service", "method", "path", "blocked"],
               report["top_blocked_paths"]),
    ]
    if report["new_shadow_endpoints"] is None:
        sections.append("<h2>New shadow endpoints</h2><p>Discovery is not configured.</p>")
    else:
        sections.append(_table("New shadow endpoints",
                               ["service", "method", "path", "hits", "first_seen"],
                               report["new_shadow_endpoints"]))
    findings = [{"scan": finding.get("scan_id"), "service": finding.get("service"),
                 "finding": finding.get("title") or finding.get("check") or finding.get("kind"),
                 "severity": finding.get("severity"), "endpoint": finding.get("endpoint")}
                for finding in report["scan_findings"]]
    sections.append(_table("Scan findings", ["scan", "service", "finding", "severity",
                                             "endpoint"], findings))
    body = "\n".join(sections)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Security report: {tenant}</title><style>{_STYLE}</style></head>\n"
            f"<body><h1>Security report: {tenant}</h1><p>{html.escape(period)}</p>\n"
            f"{body}\n</body></html>\n")
