"""Dynamic blocks: a tenant's deny list of sources, with expiry.

A source is a client address or network (kind ``ip``), a consumer id
(``consumer``), an API key id (``api-key``) or a JWT subject
(``jwt-subject``). Gateways with ``protection.blocking.store_sync_seconds``
read the blocks in force into their deny list.
"""

from __future__ import annotations

import ipaddress
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Table, or_

from stockade.store import schema
from stockade.store.scope import Row, Scope, all_of

MAX_BLOCK_SECONDS = 365 * 24 * 3600
"""Maximum block duration, one year. A permanent block sets no expiry."""
BLOCK_KINDS = ("ip", "consumer", "api-key", "jwt-subject")
MAX_SOURCE_CHARS = 512
"""Maximum length of a consumer id, API key id or JWT subject in a block, as in the deny list."""


@dataclass(frozen=True, slots=True)
class Block:
    block_id: str
    tenant_id: str
    client: str  # kind ip: an address or a network in CIDR notation; else the id or subject
    reason: str
    created_by: str
    created_at: float
    expires_at: float | None
    kind: str = "ip"


def _block(row: Row) -> Block:
    return Block(row["block_id"], row["tenant_id"], row["client"], row["reason"],
                 row["created_by"], row["created_at"], row["expires_at"], row["kind"])


def normalize_client(client: str) -> str:
    """Return the canonical form of an address or network; raise ValueError if invalid."""
    try:
        network = ipaddress.ip_network(client.strip(), strict=False)
    except ValueError as exc:
        raise ValueError(f"invalid client address or network {client!r}; use an IP address "
                         "such as 192.0.2.7 or a network such as 192.0.2.0/24") from exc
    if network.num_addresses == 1:
        return str(network.network_address)
    return str(network)


def normalize_source(kind: str, value: str) -> str:
    """Return the canonical form of a source of ``kind``; raise ValueError naming the problem."""
    if kind == "ip":
        return normalize_client(value)
    if kind not in BLOCK_KINDS:
        raise ValueError(f"invalid block kind {kind!r}; use one of {', '.join(BLOCK_KINDS)}")
    text = value.strip()
    if not 0 < len(text) <= MAX_SOURCE_CHARS or not text.isprintable():
        raise ValueError(f"invalid {kind} {value[:80]!r}: use 1 to {MAX_SOURCE_CHARS} "
                         "printable characters")
    return text


def add_block(scope: Scope, tenant_id: str, client: str, reason: str,
              ttl_seconds: float | None = None, kind: str = "ip") -> Block:
    """Block source ``client`` of ``kind`` for ``ttl_seconds`` (None: until deleted)."""
    scope.require_tenant(tenant_id)
    if ttl_seconds is not None and not 0 < ttl_seconds <= MAX_BLOCK_SECONDS:
        raise ValueError(f"block duration {ttl_seconds} s is out of range; "
                         f"use 1 to {MAX_BLOCK_SECONDS} seconds or none for a permanent block")
    now = time.time()
    block_id = uuid.uuid4().hex
    row = {
        "tenant_id": tenant_id, "block_id": block_id, "kind": kind,
        "client": normalize_source(kind, client),
        "reason": reason, "created_by": scope.actor, "created_at": now,
        "expires_at": now + ttl_seconds if ttl_seconds is not None else None,
    }
    scope.insert("block", block_id, schema.blocks, row)
    return _block(row)


def list_blocks(scope: Scope, tenant_id: str | None = None,
                now: float | None = None) -> list[Block]:
    """Blocks in force at ``now``, of one tenant or of every tenant in the scope."""
    table = schema.blocks
    current = time.time() if now is None else now
    conditions = [in_force(table, current)]
    if tenant_id is not None:
        scope.require_tenant(tenant_id)
        conditions.append(table.c.tenant_id == tenant_id)
    rows = scope.fetch_all(table, *conditions, order_by=[table.c.created_at, table.c.block_id])
    return [_block(row) for row in rows]


def get_block(scope: Scope, tenant_id: str, block_id: str) -> Block:
    table = schema.blocks
    return _block(scope.get("block", block_id, table, all_of(
        table.c.tenant_id == tenant_id, table.c.block_id == block_id)))


def delete_block(scope: Scope, tenant_id: str, block_id: str) -> None:
    table = schema.blocks
    scope.delete("block", block_id, table, all_of(
        table.c.tenant_id == tenant_id, table.c.block_id == block_id))


def purge_expired_blocks(scope: Scope, now: float | None = None) -> int:
    """Delete expired blocks; return how many were deleted."""
    return purge_expired(scope, schema.blocks, delete_block, now)


def in_force(table: Table, now: float) -> ColumnElement[bool]:
    """Select the rows of a block table that have not expired at ``now``."""
    return or_(table.c.expires_at.is_(None), table.c.expires_at > now)


def purge_expired(scope: Scope, table: Table, delete: Callable[[Scope, str, str], None],
                  now: float | None = None) -> int:
    """Delete the expired rows of a block table with ``delete``; return how many."""
    current = time.time() if now is None else now
    expired = scope.fetch_all(table, table.c.expires_at.is_not(None),
                              table.c.expires_at <= current)
    for row in expired:
        delete(scope, row["tenant_id"], row["block_id"])
    return len(expired)
