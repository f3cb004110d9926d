"""The per-tenant security report."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from stockade.admin.context import TenantReader
from stockade.admin.report import build_report, render_html

router = APIRouter(tags=["reports"])

DEFAULT_PERIOD_SECONDS = 7 * 24 * 3600
"""A report without ``since`` covers the last week."""


@router.get("/v1/tenants/{tenant_id}/report", response_model=None)
def tenant_report(context: TenantReader, request: Request, tenant_id: str,
                  since: Annotated[float | None, Query(description="Unix seconds.")] = None,
                  until: Annotated[float | None, Query(description="Unix seconds.")] = None,
                  format: Literal["json", "html"] = "json") -> HTMLResponse | JSONResponse:
    end = until if until is not None else time.time()
    start = since if since is not None else end - DEFAULT_PERIOD_SECONDS
    with context.session() as scope:
        report: dict[str, Any] = build_report(scope, tenant_id, start, end,
                                              request.app.state.inventory_database)
    if format == "html":
        return HTMLResponse(render_html(report))
    return JSONResponse(report)
