"""Scans of a service by the active scanner, and their findings."""

from __future__ import annotations

import time
import uuid
from typing import Any

from stockade.store import schema
from stockade.store.scope import Row, Scope, all_of
from stockade.store.tenancy import require_service

SCAN_STATES = frozenset({"queued", "running", "finished", "failed"})


def create_scan(scope: Scope, tenant_id: str, service_id: str) -> Row:
    """Queue a scan of a service; the scanner picks queued scans up."""
    require_service(scope, tenant_id, service_id)
    scan_id = uuid.uuid4().hex
    row = {
        "scan_id": scan_id, "tenant_id": tenant_id, "service_id": service_id,
        "status": "queued", "requested_by": scope.actor, "created_at": time.time(),
        "finished_at": None, "findings": [],
    }
    scope.insert("scan", scan_id, schema.scans, row, config=False)
    return row


def _scan_key(tenant_id: str, scan_id: str) -> Any:
    table = schema.scans
    return all_of(table.c.tenant_id == tenant_id, table.c.scan_id == scan_id)


def get_scan(scope: Scope, tenant_id: str, scan_id: str) -> Row:
    return scope.get("scan", scan_id, schema.scans, _scan_key(tenant_id, scan_id))


def list_scans(scope: Scope, tenant_id: str, service_id: str | None = None,
               status: str | None = None) -> list[Row]:
    scope.require_tenant(tenant_id)
    table = schema.scans
    conditions = [table.c.tenant_id == tenant_id]
    if service_id is not None:
        conditions.append(table.c.service_id == service_id)
    if status is not None:
        conditions.append(table.c.status == status)
    return scope.fetch_all(table, *conditions, order_by=[table.c.created_at.desc()])


def update_scan(scope: Scope, tenant_id: str, scan_id: str, status: str,
                findings: list[dict[str, Any]] | None = None) -> Row:
    """Record a scan's progress; ``finished`` and ``failed`` also set the finish time."""
    if status not in SCAN_STATES:
        raise ValueError(f"invalid scan status {status!r}; use one of {sorted(SCAN_STATES)}")
    values: dict[str, Any] = {"status": status}
    if findings is not None:
        values["findings"] = findings
    if status in ("finished", "failed"):
        values["finished_at"] = time.time()
    return scope.update("scan", scan_id, schema.scans, _scan_key(tenant_id, scan_id), values,
                        config=False)


def delete_scan(scope: Scope, tenant_id: str, scan_id: str) -> None:
    scope.delete("scan", scan_id, schema.scans, _scan_key(tenant_id, scan_id), config=False)
