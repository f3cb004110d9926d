"""Scans of a service by the active scanner, and their findings."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import null

from stockade.store import schema
from stockade.store.scope import Row, Scope, all_of
from stockade.store.tenancy import require_service

SCAN_STATES = frozenset({"queued", "running", "finished", "failed"})
MASK = "***"
SECRET_FIELDS = frozenset({"token", "value", "password"})
"""Fields of a scan request's auth profiles that contain credentials."""
SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key"})


def create_scan(scope: Scope, tenant_id: str, service_id: str,
                request: dict[str, Any] | None = None) -> Row:
    """Queue a scan of a service; the scan runner picks queued scans that have a ``request``.

    The request may carry credentials: the config history leaves it out,
    and the read functions return it with its secrets masked.
    """
    require_service(scope, tenant_id, service_id)
    scan_id = uuid.uuid4().hex
    row = {
        "scan_id": scan_id, "tenant_id": tenant_id, "service_id": service_id,
        "status": "queued", "requested_by": scope.actor, "created_at": time.time(),
        "finished_at": None, "findings": [], "request": request, "started_at": None,
        "error": None, "notes": [],
    }
    # A JSON column stores None as JSON null; SQL NULL keeps a scan without a request unclaimed.
    stored = {**row, "request": request if request is not None else null()}
    scope.insert("scan", scan_id, schema.scans, stored, config=False)
    return _public(row)


def _public(row: Row) -> Row:
    """Return ``row`` with the secrets of its request masked."""
    request = row.get("request")
    if not request:
        return row
    masked = dict(request)
    masked["profiles"] = [
        {name: MASK if name in SECRET_FIELDS and value is not None else value
         for name, value in profile.items()}
        for profile in request.get("profiles", [])
    ]
    masked["headers"] = {
        name: MASK if name.lower() in SECRET_HEADERS else value
        for name, value in request.get("headers", {}).items()
    }
    return {**row, "request": masked}


def _scan_key(tenant_id: str, scan_id: str) -> Any:
    table = schema.scans
    return all_of(table.c.tenant_id == tenant_id, table.c.scan_id == scan_id)


def get_scan(scope: Scope, tenant_id: str, scan_id: str) -> Row:
    return _public(scope.get("scan", scan_id, schema.scans, _scan_key(tenant_id, scan_id)))


def list_scans(scope: Scope, tenant_id: str, service_id: str | None = None,
               status: str | None = None) -> list[Row]:
    scope.require_tenant(tenant_id)
    table = schema.scans
    conditions = [table.c.tenant_id == tenant_id]
    if service_id is not None:
        conditions.append(table.c.service_id == service_id)
    if status is not None:
        conditions.append(table.c.status == status)
    rows = scope.fetch_all(table, *conditions, order_by=[table.c.created_at.desc()])
    return [_public(row) for row in rows]


def claim_scan(scope: Scope, now: float | None = None) -> Row | None:
    """Mark the oldest queued scan that has a request as running and return it, unmasked.

    The status change is conditional, so two runners never claim one scan.
    """
    table = schema.scans
    started = time.time() if now is None else now
    queued = scope.fetch_all(table, table.c.status == "queued", table.c.request.is_not(None),
                             order_by=[table.c.created_at, table.c.scan_id])
    for row in queued:
        claimed = scope.connection.execute(table.update().where(
            scope.where_scope(table), table.c.scan_id == row["scan_id"],
            table.c.status == "queued").values(status="running", started_at=started))
        if claimed.rowcount == 1:
            return {**row, "status": "running", "started_at": started}
    return None


def fail_stale_scans(scope: Scope, older_than: float) -> int:
    """Mark scans still running since before ``older_than`` as failed; return how many.

    A runner that stopped without finishing its scan leaves it running.
    """
    table = schema.scans
    stale = scope.fetch_all(table, table.c.status == "running", table.c.started_at < older_than)
    for row in stale:
        update_scan(scope, row["tenant_id"], row["scan_id"], "failed",
                    error="the scan runner stopped before the scan finished")
    return len(stale)


def update_scan(scope: Scope, tenant_id: str, scan_id: str, status: str,
                findings: list[dict[str, Any]] | None = None, error: str | None = None,
                notes: list[str] | None = None) -> Row:
    """Record a scan's progress; ``finished`` and ``failed`` also set the finish time.

    An ended scan no longer needs its credentials, so its stored request
    keeps them masked from then on.
    """
    if status not in SCAN_STATES:
        raise ValueError(f"invalid scan status {status!r}; use one of {sorted(SCAN_STATES)}")
    values: dict[str, Any] = {"status": status}
    if status in ("finished", "failed"):
        stored = scope.get("scan", scan_id, schema.scans, _scan_key(tenant_id, scan_id))
        if stored.get("request"):
            values["request"] = _public(stored)["request"]
    if findings is not None:
        values["findings"] = findings
    if error is not None:
        values["error"] = error
    if notes is not None:
        values["notes"] = notes
    if status in ("finished", "failed"):
        values["finished_at"] = time.time()
    return _public(scope.update("scan", scan_id, schema.scans, _scan_key(tenant_id, scan_id),
                                values, config=False))


def delete_scan(scope: Scope, tenant_id: str, scan_id: str) -> None:
    scope.delete("scan", scan_id, schema.scans, _scan_key(tenant_id, scan_id), config=False)
