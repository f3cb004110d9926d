"""Dynamic blocks: a tenant's deny list of addresses, consumers, API keys and JWT subjects."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from stockade.admin.context import TenantBlockWriter, TenantReader
from stockade.store import blocks
from stockade.store.blocks import MAX_BLOCK_SECONDS, MAX_SOURCE_CHARS

router = APIRouter(prefix="/v1/tenants/{tenant_id}/blocks", tags=["blocks"])


class NewBlock(BaseModel):
    kind: Literal["ip", "consumer", "api-key", "jwt-subject"] = Field(
        "ip", description="What ``client`` names.")
    client: str = Field(
        max_length=MAX_SOURCE_CHARS,
        description="For kind ip an address or CIDR network, e.g. 192.0.2.7 or 2001:db8::/32; "
                    "else the consumer id, API key id or JWT subject.")
    reason: str = Field(min_length=1, max_length=1000)
    ttl_seconds: float | None = Field(
        None, gt=0, le=MAX_BLOCK_SECONDS, description="Seconds until the block ends; none: never.")


@router.get("")
def list_blocks(context: TenantReader, tenant_id: str) -> list[dict[str, Any]]:
    """Blocks in force now."""
    with context.session() as scope:
        return [dataclasses.asdict(block) for block in blocks.list_blocks(scope, tenant_id)]


@router.post("", status_code=status.HTTP_201_CREATED)
def add_block(context: TenantBlockWriter, tenant_id: str, body: NewBlock) -> dict[str, Any]:
    with context.session() as scope:
        block = blocks.add_block(scope, tenant_id, body.client, body.reason, body.ttl_seconds,
                                 body.kind)
    return dataclasses.asdict(block)


@router.get("/{block_id}")
def get_block(context: TenantReader, tenant_id: str, block_id: str) -> dict[str, Any]:
    with context.session() as scope:
        return dataclasses.asdict(blocks.get_block(scope, tenant_id, block_id))


@router.delete("/{block_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_block(context: TenantBlockWriter, tenant_id: str, block_id: str) -> None:
    with context.session() as scope:
        blocks.delete_block(scope, tenant_id, block_id)
