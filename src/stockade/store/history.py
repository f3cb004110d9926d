"""Config history: the audit trail of every write, read back for operators."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from stockade.store import schema
from stockade.store.scope import Row, Scope

MAX_HISTORY_PAGE = 1000
"""Most history entries returned by one query."""


def list_changes(scope: Scope, tenant_id: str | None = None, since: float | None = None,
                 until: float | None = None, limit: int = 100) -> list[Row]:
    """Return changes newest first, of one tenant or of every tenant in the scope."""
    if not 1 <= limit <= MAX_HISTORY_PAGE:
        raise ValueError(f"page size {limit} is out of range; use 1 to {MAX_HISTORY_PAGE}")
    table = schema.config_history
    conditions: list[ColumnElement[bool]] = []
    if tenant_id is not None:
        scope.require_tenant(tenant_id)
        conditions.append(table.c.tenant_id == tenant_id)
    if since is not None:
        conditions.append(table.c.time >= since)
    if until is not None:
        conditions.append(table.c.time < until)
    query = (scope.select(table, *conditions)
             .order_by(table.c.time.desc(), table.c.change_id.desc()).limit(limit))
    return scope.rows(query)
