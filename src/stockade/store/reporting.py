"""Aggregate queries behind the per-tenant security report."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, desc, func, select

from stockade.events.model import Action
from stockade.store import schema
from stockade.store.scope import Scope

TOP_N = 10
"""Rows in each "top" table of a report."""


def _period(tenant_id: str, since: float, until: float) -> list[ColumnElement[bool]]:
    table = schema.events
    return [table.c.tenant_id == tenant_id, table.c.time >= since, table.c.time < until]


def event_totals(scope: Scope, tenant_id: str, since: float, until: float) -> dict[str, Any]:
    """Counts of events in the period by action and by severity."""
    scope.require_tenant(tenant_id)
    table = schema.events
    conditions = [scope.where_scope(table), *_period(tenant_id, since, until)]
    by_action = {row[0]: int(row[1]) for row in scope.connection.execute(
        select(table.c.action, func.count()).where(*conditions).group_by(table.c.action))}
    by_severity = {int(row[0]): int(row[1]) for row in scope.connection.execute(
        select(table.c.severity, func.count()).where(*conditions).group_by(table.c.severity))}
    return {"total": sum(by_action.values()), "by_action": by_action,
            "by_severity": by_severity}


def top_attacks(scope: Scope, tenant_id: str, since: float, until: float,
                limit: int = TOP_N) -> list[dict[str, Any]]:
    """Most frequent (layer, kind) pairs, with how many of them were blocked."""
    scope.require_tenant(tenant_id)
    table = schema.events
    count = func.count().label("events")
    blocked = func.sum(case((table.c.action == Action.BLOCKED.value, 1), else_=0))
    query = (select(table.c.layer, table.c.kind, count, blocked.label("blocked"),
                    func.max(table.c.severity).label("max_severity"))
             .where(scope.where_scope(table), *_period(tenant_id, since, until))
             .group_by(table.c.layer, table.c.kind)
             .order_by(desc("events"), table.c.layer, table.c.kind).limit(limit))
    return [{"layer": row.layer, "kind": row.kind, "events": int(row.events),
             "blocked": int(row.blocked or 0), "max_severity": int(row.max_severity)}
            for row in scope.connection.execute(query)]


def top_sources(scope: Scope, tenant_id: str, since: float, until: float,
                limit: int = TOP_N) -> list[dict[str, Any]]:
    """Client addresses with the most events."""
    scope.require_tenant(tenant_id)
    table = schema.events
    count = func.count().label("events")
    blocked = func.sum(case((table.c.action == Action.BLOCKED.value, 1), else_=0))
    query = (select(table.c.client_ip, count, blocked.label("blocked"))
             .where(scope.where_scope(table), *_period(tenant_id, since, until),
                    table.c.client_ip.is_not(None))
             .group_by(table.c.client_ip)
             .order_by(desc("events"), table.c.client_ip).limit(limit))
    return [{"client_ip": row.client_ip, "events": int(row.events),
             "blocked": int(row.blocked or 0)} for row in scope.connection.execute(query)]


def top_blocked_paths(scope: Scope, tenant_id: str, since: float, until: float,
                      limit: int = TOP_N) -> list[dict[str, Any]]:
    scope.require_tenant(tenant_id)
    table = schema.events
    count = func.count().label("blocked")
    query = (select(table.c.service_id, table.c.method, table.c.path, count)
             .where(scope.where_scope(table), *_period(tenant_id, since, until),
                    table.c.action == Action.BLOCKED.value)
             .group_by(table.c.service_id, table.c.method, table.c.path)
             .order_by(desc("blocked"), table.c.path).limit(limit))
    return [{"service": row.service_id, "method": row.method, "path": row.path,
             "blocked": int(row.blocked)} for row in scope.connection.execute(query)]


def scan_findings(scope: Scope, tenant_id: str, since: float, until: float) -> list[dict[str, Any]]:
    """Findings of scans that finished in the period, each tagged with its scan and service."""
    scope.require_tenant(tenant_id)
    table = schema.scans
    rows = scope.fetch_all(table, table.c.tenant_id == tenant_id, table.c.finished_at >= since,
                           table.c.finished_at < until, order_by=[table.c.finished_at])
    findings = []
    for row in rows:
        for finding in row["findings"]:
            findings.append({"scan_id": row["scan_id"], "service": row["service_id"], **finding})
    return findings
