"""API inventory: the endpoints discovery observed on a service, documented or not."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement

from stockade.store import schema
from stockade.store.scope import Row, Scope, all_of
from stockade.store.tenancy import require_service


@dataclass(frozen=True, slots=True)
class Observation:
    """Requests discovery saw for one endpoint since its last report."""

    tenant_id: str
    service_id: str
    method: str
    path_template: str
    documented: bool
    first_seen: float
    last_seen: float
    request_count: int
    details: dict[str, Any] = field(default_factory=dict)


def record_observations(scope: Scope, observations: list[Observation]) -> int:
    """Merge observations into the inventory; return how many endpoints were new.

    Records, not config, so they are not audited.
    """
    table = schema.api_endpoints
    new = 0
    for item in observations:
        key = all_of(table.c.tenant_id == item.tenant_id, table.c.service_id == item.service_id,
                     table.c.method == item.method, table.c.path_template == item.path_template)
        row = scope.fetch_one(table, key)
        if row is None:
            require_service(scope, item.tenant_id, item.service_id)
            scope.insert_unaudited(table, [{
                "tenant_id": item.tenant_id, "service_id": item.service_id,
                "method": item.method, "path_template": item.path_template,
                "documented": item.documented, "first_seen": item.first_seen,
                "last_seen": item.last_seen, "request_count": item.request_count,
                "details": item.details}])
            new += 1
            continue
        scope.connection.execute(table.update().where(scope.where_scope(table), key).values(
            documented=item.documented,
            first_seen=min(row["first_seen"], item.first_seen),
            last_seen=max(row["last_seen"], item.last_seen),
            request_count=row["request_count"] + item.request_count,
            details={**row["details"], **item.details}))
    return new


def list_endpoints(scope: Scope, tenant_id: str, service_id: str | None = None,
                   documented: bool | None = None, first_seen_since: float | None = None,
                   first_seen_until: float | None = None) -> list[Row]:
    table = schema.api_endpoints
    conditions: list[ColumnElement[bool]] = [table.c.tenant_id == tenant_id]
    if service_id is not None:
        require_service(scope, tenant_id, service_id)
        conditions.append(table.c.service_id == service_id)
    else:
        scope.require_tenant(tenant_id)
    if documented is not None:
        conditions.append(table.c.documented == documented)
    if first_seen_since is not None:
        conditions.append(table.c.first_seen >= first_seen_since)
    if first_seen_until is not None:
        conditions.append(table.c.first_seen < first_seen_until)
    return scope.fetch_all(table, *conditions, order_by=[
        table.c.service_id, table.c.path_template, table.c.method])
