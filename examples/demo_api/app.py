"""Assemble the demo API for one variant."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from demo_api.context import AppContext
from demo_api.middleware import (
    DISCLOSURE_HEADERS,
    SECURITY_HEADERS,
    ErrorMiddleware,
    HeadersMiddleware,
    ReflectingCorsMiddleware,
)
from demo_api.routes import admin, debug, legacy, meta, orders, products, session, tools, users
from demo_api.settings import Settings

logger = logging.getLogger(__name__)

ROUTE_MODULES = (meta, session, users, orders, products, admin, tools, legacy, debug)
"""Route modules in registration order; a fixed path such as /api/v2/users/me
must come before the template /api/v2/users/{userId}, and it does within users."""


def create_app(settings: Settings) -> FastAPI:
    """Build the app and reset its database to the seed data."""
    context = AppContext.create(settings)
    context.database.reset()

    app = FastAPI(
        title="Stockade demo API",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    for module in ROUTE_MODULES:
        app.include_router(module.build_router(context))
    _add_error_handlers(app, fixed=settings.fixed)

    # Middleware added last runs first: response headers wrap the error page.
    app.add_middleware(ErrorMiddleware, verbose=not settings.fixed)
    if settings.fixed:
        app.add_middleware(HeadersMiddleware, headers=SECURITY_HEADERS)
    else:
        app.add_middleware(HeadersMiddleware, headers=DISCLOSURE_HEADERS)
        app.add_middleware(ReflectingCorsMiddleware)
    logger.info("demo API built in %s mode", settings.mode)
    return app


def _add_error_handlers(app: FastAPI, *, fixed: bool) -> None:
    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, StarletteHTTPException):
            raise exc
        if exc.status_code == 405 and not fixed:
            # Planted: a method the route does not support still gets 200.
            return JSONResponse({"ok": True, "method": request.method, "path": request.url.path})
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, RequestValidationError):
            raise exc
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        return JSONResponse({"error": f"invalid request: {problems}"}, status_code=400)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
