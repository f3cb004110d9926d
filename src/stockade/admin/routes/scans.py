"""Scans of a tenant's services and their findings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from stockade.admin.context import TenantConfigWriter, TenantReader
from stockade.config.base import Identifier
from stockade.scanner.queue import ScanRequest, queue_scan
from stockade.store import scans

router = APIRouter(prefix="/v1/tenants/{tenant_id}/scans", tags=["scans"])


class NewScan(ScanRequest):
    service_id: Identifier


@router.get("")
def list_scans(context: TenantReader, tenant_id: str, service_id: str | None = None,
               status_filter: Annotated[str | None, Query(alias="status")] = None,
               ) -> list[dict[str, Any]]:
    with context.session() as scope:
        return scans.list_scans(scope, tenant_id, service_id, status_filter)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_scan(context: TenantConfigWriter, tenant_id: str, body: NewScan) -> dict[str, Any]:
    """Queue a scan of a service; the admin server's scan runner carries it out.

    The target must be one of the service's hosts or upstream targets
    (default: its first upstream target). The scan's status goes from
    queued to running to finished or failed; its findings are stored as
    security events of the tenant.
    """
    request = ScanRequest.model_validate(body.model_dump(exclude={"service_id"}))
    with context.session() as scope:
        return queue_scan(scope, tenant_id, body.service_id, request)


@router.get("/{scan_id}")
def get_scan(context: TenantReader, tenant_id: str, scan_id: str) -> dict[str, Any]:
    with context.session() as scope:
        return scans.get_scan(scope, tenant_id, scan_id)


@router.delete("/{scan_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_scan(context: TenantConfigWriter, tenant_id: str, scan_id: str) -> None:
    with context.session() as scope:
        scans.delete_scan(scope, tenant_id, scan_id)
