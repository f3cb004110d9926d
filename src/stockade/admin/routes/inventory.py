"""The API inventory of a service, as discovery stored it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status

from stockade.admin.context import TenantReader
from stockade.admin.inventory import service_endpoints
from stockade.store import tenancy

router = APIRouter(tags=["inventory"])


@router.get("/v1/tenants/{tenant_id}/services/{service_id}/inventory")
def service_inventory(context: TenantReader, request: Request, tenant_id: str,
                      service_id: str) -> list[dict[str, Any]]:
    """Endpoints seen in traffic; ``documented`` is false for shadow endpoints."""
    with context.session() as scope:
        tenancy.require_service(scope, tenant_id, service_id)
    database: str | None = request.app.state.inventory_database
    if database is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            "discovery is not configured; set the discovery section of the config")
    return service_endpoints(database, tenant_id, service_id)
