"""Debug endpoints that only the vulnerable variant serves."""

import platform
from typing import Any

from fastapi import APIRouter

from demo_api.context import AppContext

DEBUG_PATHS = ("/api/v2/debug/config", "/actuator/env")


def build_router(context: AppContext) -> APIRouter:
    router = APIRouter()
    if context.fixed:
        return router

    def read_config() -> dict[str, Any]:
        # Planted: configuration, including the token signing key, for anyone.
        settings = context.settings
        return {
            "mode": settings.mode,
            "debug": True,
            "database": str(settings.db_path),
            "jwt_secret": settings.jwt_secret,
            "jwt_algorithms": ["HS256", "none"],
            "python": platform.python_version(),
        }

    for path in DEBUG_PATHS:
        router.add_api_route(path, read_config, methods=["GET"])
    return router
