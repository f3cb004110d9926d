"""Route blocks: a method and path of a service that the gateway refuses until they expire.

Operators add them through the admin API, and ``stockade scan`` adds them
for findings that refusing the route closes (debug endpoints, undocumented
and deprecated operations). Gateways read them with the store's other
dynamic blocks (``protection.blocking.store_sync_seconds``).

A path is the path a client sends, as an OpenAPI-style template: a
segment written ``{name}`` matches any one segment, so ``/users/{id}``
blocks ``/users/7`` but not ``/users`` or ``/users/7/orders``.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement

from stockade.store import schema
from stockade.store.blocks import MAX_BLOCK_SECONDS, in_force, purge_expired
from stockade.store.scope import Row, Scope, all_of
from stockade.store.tenancy import require_service

ANY_METHOD = "*"
MAX_METHOD_CHARS = 32
MAX_PATH_CHARS = 2048
ORIGINS = frozenset({"operator", "scanner"})
TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
"""Characters of an upper-cased HTTP method (the RFC 9110 token characters)."""


@dataclass(frozen=True, slots=True)
class RouteBlock:
    block_id: str
    tenant_id: str
    service_id: str
    method: str  # an upper-case method, or "*" for every method
    path: str  # a path template such as /api/v1/debug or /users/{id}
    reason: str
    origin: str  # "operator" or "scanner"
    finding_id: str | None  # the scanner finding the block closes
    created_by: str
    created_at: float
    expires_at: float | None


def _route_block(row: Row) -> RouteBlock:
    return RouteBlock(row["block_id"], row["tenant_id"], row["service_id"], row["method"],
                      row["path"], row["reason"], row["origin"], row["finding_id"],
                      row["created_by"], row["created_at"], row["expires_at"])


def normalize_method(method: str) -> str:
    """Return the upper-cased method, or ``*``; raise ValueError if it is not a method."""
    text = method.strip().upper()
    if text == ANY_METHOD:
        return text
    if not text or len(text) > MAX_METHOD_CHARS or not set(text) <= TOKEN_CHARS:
        raise ValueError(f"invalid method {method!r}; use an HTTP method such as GET, or * "
                         "for every method")
    return text


def normalize_path(path: str) -> str:
    """Return the path template unchanged if it is valid; raise ValueError naming the problem."""
    if not path.startswith("/") or len(path) > MAX_PATH_CHARS:
        raise ValueError(f"invalid path {path[:80]!r}; use an absolute path of at most "
                         f"{MAX_PATH_CHARS} characters, such as /api/v1/debug or /users/{{id}}")
    if any(char in path for char in "?# \t\r\n"):
        raise ValueError(f"invalid path {path[:80]!r}: a path template has no query, "
                         "fragment or whitespace")
    for segment in path.split("/")[1:]:
        if segment in (".", ".."):
            raise ValueError(f"invalid path {path[:80]!r}: dot segments never reach a route")
        inner = segment[1:-1]
        if ("{" in segment or "}" in segment) and not (
                segment.startswith("{") and segment.endswith("}") and inner
                and "{" not in inner and "}" not in inner):
            raise ValueError(f"invalid path {path[:80]!r}: a parameter must be a whole "
                             "segment such as {id}")
    return path


def add_route_block(scope: Scope, tenant_id: str, service_id: str, method: str, path: str,
                    reason: str, ttl_seconds: float | None = None, *, origin: str = "operator",
                    finding_id: str | None = None) -> RouteBlock:
    """Block ``method`` on ``path`` of a service for ``ttl_seconds`` (None: until deleted).

    A block in force for the same service, method and path is renewed with
    the new reason and expiry instead of being added twice, so repeated
    scans keep one block per route.
    """
    require_service(scope, tenant_id, service_id)
    if ttl_seconds is not None and not 0 < ttl_seconds <= MAX_BLOCK_SECONDS:
        raise ValueError(f"block duration {ttl_seconds} s is out of range; "
                         f"use 1 to {MAX_BLOCK_SECONDS} seconds or none for a permanent block")
    if origin not in ORIGINS:
        raise ValueError(f"invalid origin {origin!r}; use one of {sorted(ORIGINS)}")
    method = normalize_method(method)
    path = normalize_path(path)
    now = time.time()
    values = {
        "reason": reason, "origin": origin, "finding_id": finding_id,
        "created_by": scope.actor, "created_at": now,
        "expires_at": now + ttl_seconds if ttl_seconds is not None else None,
    }
    table = schema.route_blocks
    for existing in list_route_blocks(scope, tenant_id, service_id, now):
        if existing.method == method and existing.path == path:
            updated = scope.update("route block", existing.block_id, table,
                                   _key(tenant_id, existing.block_id), values)
            return _route_block(updated)
    block_id = uuid.uuid4().hex
    row = {"tenant_id": tenant_id, "block_id": block_id, "service_id": service_id,
           "method": method, "path": path, **values}
    scope.insert("route block", block_id, table, row)
    return _route_block(row)


def list_route_blocks(scope: Scope, tenant_id: str | None = None,
                      service_id: str | None = None, now: float | None = None
                      ) -> list[RouteBlock]:
    """Route blocks in force at ``now``, of one tenant (and service) or of every visible tenant."""
    table = schema.route_blocks
    current = time.time() if now is None else now
    conditions = [in_force(table, current)]
    if tenant_id is not None:
        scope.require_tenant(tenant_id)
        conditions.append(table.c.tenant_id == tenant_id)
    if service_id is not None:
        conditions.append(table.c.service_id == service_id)
    rows = scope.fetch_all(table, *conditions, order_by=[table.c.created_at, table.c.block_id])
    return [_route_block(row) for row in rows]


def _key(tenant_id: str, block_id: str) -> ColumnElement[bool]:
    table = schema.route_blocks
    return all_of(table.c.tenant_id == tenant_id, table.c.block_id == block_id)


def get_route_block(scope: Scope, tenant_id: str, block_id: str) -> RouteBlock:
    return _route_block(scope.get("route block", block_id, schema.route_blocks,
                                  _key(tenant_id, block_id)))


def delete_route_block(scope: Scope, tenant_id: str, block_id: str) -> None:
    scope.delete("route block", block_id, schema.route_blocks, _key(tenant_id, block_id))


def purge_expired_route_blocks(scope: Scope, now: float | None = None) -> int:
    """Delete expired route blocks; return how many were deleted."""
    return purge_expired(scope, schema.route_blocks, delete_route_block, now)
