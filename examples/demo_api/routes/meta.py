"""Service routes: health check and the API's own OpenAPI document."""

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse

from demo_api.context import AppContext

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"


def build_router(context: AppContext) -> APIRouter:
    router = APIRouter()

    @router.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "mode": context.settings.mode}

    @router.get("/openapi.yaml")
    def openapi_document() -> FileResponse:
        return FileResponse(OPENAPI_PATH, media_type="application/yaml")

    return router
