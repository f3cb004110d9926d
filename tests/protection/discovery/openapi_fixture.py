"""A declared OpenAPI document shared by the comparison, export and gateway tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

USER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "address": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def declared_document(version: str = "2.0.0", *, with_legacy: bool = False) -> dict[str, Any]:
    """A shop API at /api: users (v2), a deprecated export, and an operation never called."""
    paths: dict[str, Any] = {
        "/v2/users": {
            "get": {
                "parameters": [{"name": "page", "in": "query", "schema": {"type": "integer"}}],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/User"},
                                }
                            }
                        },
                    }
                },
            },
            "post": {
                "requestBody": {
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/User"}}
                    }
                },
                "responses": {"201": {"description": "created"}},
            },
        },
        "/v2/users/{id}": {
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "get": {
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/User"}}
                        },
                    },
                    "404": {"description": "missing"},
                }
            },
        },
        "/v2/users/me": {"get": {"responses": {"200": {"description": "ok"}}}},
        "/v2/exports": {"get": {"deprecated": True, "responses": {"200": {"description": "ok"}}}},
        "/v2/audit": {"get": {"responses": {"200": {"description": "ok"}}}},
    }
    if with_legacy:
        paths["/v2/legacy"] = {"get": {"responses": {"200": {"description": "ok"}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Shop", "version": version},
        "servers": [{"url": "https://shop.example/api"}],
        "paths": paths,
        "components": {
            "schemas": {"User": USER_SCHEMA},
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
    }


def write_document(directory: Path, document: dict[str, Any], name: str = "openapi.yaml") -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(document))
    return path
