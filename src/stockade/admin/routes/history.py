"""Config history: who changed what, and when."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from stockade.admin.context import Context, TenantReader
from stockade.admin.roles import Permission
from stockade.store import history
from stockade.store.history import MAX_HISTORY_PAGE

router = APIRouter(tags=["history"])

Limit = Annotated[int, Query(ge=1, le=MAX_HISTORY_PAGE)]


@router.get("/v1/tenants/{tenant_id}/history")
def tenant_history(context: TenantReader, tenant_id: str, since: float | None = None,
                   until: float | None = None, limit: Limit = 100) -> list[dict[str, Any]]:
    with context.session() as scope:
        return history.list_changes(scope, tenant_id, since, until, limit)


@router.get("/v1/history")
def all_history(context: Context, since: float | None = None, until: float | None = None,
                limit: Limit = 100) -> list[dict[str, Any]]:
    """List every change, including those outside any tenant (operators, settings)."""
    context.require(Permission.READ_ALL_TENANTS)
    with context.session() as scope:
        return history.list_changes(scope, None, since, until, limit)
