"""Scans of a tenant's services and their findings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from stockade.admin.context import TenantConfigWriter, TenantReader
from stockade.config.base import Identifier
from stockade.store import scans

router = APIRouter(prefix="/v1/tenants/{tenant_id}/scans", tags=["scans"])


class NewScan(BaseModel):
    service_id: Identifier


@router.get("")
def list_scans(context: TenantReader, tenant_id: str, service_id: str | None = None,
               status_filter: Annotated[str | None, Query(alias="status")] = None,
               ) -> list[dict[str, Any]]:
    with context.session() as scope:
        return scans.list_scans(scope, tenant_id, service_id, status_filter)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_scan(context: TenantConfigWriter, tenant_id: str, body: NewScan) -> dict[str, Any]:
    """Queue a scan; the scanner runs queued scans and records their findings here."""
    # TODO: nothing runs queued scans yet; the scanner has to poll list_scans(status="queued").
    with context.session() as scope:
        return scans.create_scan(scope, tenant_id, body.service_id)


@router.get("/{scan_id}")
def get_scan(context: TenantReader, tenant_id: str, scan_id: str) -> dict[str, Any]:
    with context.session() as scope:
        return scans.get_scan(scope, tenant_id, scan_id)


@router.delete("/{scan_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_scan(context: TenantConfigWriter, tenant_id: str, scan_id: str) -> None:
    with context.session() as scope:
        scans.delete_scan(scope, tenant_id, scan_id)
