"""Route blocks: methods and paths of a tenant's services that the gateway refuses."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from stockade.admin.context import TenantBlockWriter, TenantReader
from stockade.config.base import Identifier
from stockade.store import route_blocks
from stockade.store.blocks import MAX_BLOCK_SECONDS
from stockade.store.route_blocks import MAX_METHOD_CHARS, MAX_PATH_CHARS

router = APIRouter(prefix="/v1/tenants/{tenant_id}/route-blocks", tags=["blocks"])


class NewRouteBlock(BaseModel):
    service_id: Identifier
    method: str = Field(min_length=1, max_length=MAX_METHOD_CHARS,
                        description="HTTP method, or * for every method.")
    path: str = Field(min_length=1, max_length=MAX_PATH_CHARS,
                      description="Path the client sends; a {name} segment matches any one "
                                  "segment, e.g. /api/v1/debug or /users/{id}/export.")
    reason: str = Field(min_length=1, max_length=1000)
    ttl_seconds: float | None = Field(
        None, gt=0, le=MAX_BLOCK_SECONDS, description="Seconds until the block ends; none: never.")


@router.get("")
def list_route_blocks(context: TenantReader, tenant_id: str,
                      service_id: str | None = None) -> list[dict[str, Any]]:
    """Route blocks in force now."""
    with context.session() as scope:
        found = route_blocks.list_route_blocks(scope, tenant_id, service_id)
    return [dataclasses.asdict(block) for block in found]


@router.post("", status_code=status.HTTP_201_CREATED)
def add_route_block(context: TenantBlockWriter, tenant_id: str,
                    body: NewRouteBlock) -> dict[str, Any]:
    """Block a route; a block in force for the same route is renewed instead."""
    with context.session() as scope:
        block = route_blocks.add_route_block(scope, tenant_id, body.service_id, body.method,
                                             body.path, body.reason, body.ttl_seconds)
    return dataclasses.asdict(block)


@router.get("/{route_block_id}")
def get_route_block(context: TenantReader, tenant_id: str,
                    route_block_id: str) -> dict[str, Any]:
    with context.session() as scope:
        block = route_blocks.get_route_block(scope, tenant_id, route_block_id)
    return dataclasses.asdict(block)


@router.delete("/{route_block_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_route_block(context: TenantBlockWriter, tenant_id: str, route_block_id: str) -> None:
    with context.session() as scope:
        route_blocks.delete_route_block(scope, tenant_id, route_block_id)
