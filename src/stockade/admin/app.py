"""The admin REST API application."""

from __future__ import annotations

from fastapi import FastAPI

from stockade import __version__
from stockade.admin.errors import install_error_handlers
from stockade.admin.limits import BodyLimitMiddleware
from stockade.admin.routes import (
    alerts,
    blocks,
    config,
    consumers,
    deny_list,
    events,
    history,
    inventory,
    operators,
    reports,
    route_blocks,
    scans,
    tenants,
)
from stockade.store.scope import Store

ROUTERS = (tenants, consumers, blocks, route_blocks, deny_list, events, scans, alerts, inventory,
           history, reports, operators, config)


def create_admin_app(store: Store, inventory_database: str | None = None) -> FastAPI:
    """Build the API over ``store``; ``inventory_database`` is discovery's database, if any."""
    # The interactive docs pages load their scripts from a CDN, so they are off;
    # the OpenAPI document at /openapi.json describes every endpoint.
    app = FastAPI(
        title="Stockade admin API",
        version=__version__,
        description="Tenants, their config, operators, security events and reports. "
                    "Send an operator token as 'Authorization: Bearer stk_...'.",
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(BodyLimitMiddleware)
    app.state.store = store
    app.state.inventory_database = inventory_database
    install_error_handlers(app)
    for module in ROUTERS:
        app.include_router(module.router)

    @app.get("/healthz", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
