"""The API inventory of a service, read from the discovery database.

Discovery keeps its own database (``discovery.database`` in the config);
the admin API only reads it. An endpoint is a shadow endpoint when the
service has a declared API (an OpenAPI document) and the endpoint is not
in it. Without a declared API, ``documented`` is null.
"""

from __future__ import annotations

from typing import Any

from stockade.protection.discovery.storage import InventoryStore


def service_endpoints(database: str, tenant_id: str, service_id: str) -> list[dict[str, Any]]:
    """Endpoints discovery has seen on a service, sorted by path template and method."""
    store = InventoryStore(database)
    try:
        inventory = store.load(tenant_id, service_id)
        _, declared, _ = store.declared_state(tenant_id, service_id)
    finally:
        store.close()
    if inventory is None:
        return []
    rows = []
    for endpoint in inventory.endpoints.values():
        documented = endpoint.key in declared if declared else None
        rows.append({
            "method": endpoint.method, "path": endpoint.template, "hits": endpoint.hits,
            "first_seen": endpoint.first_seen, "last_seen": endpoint.last_seen,
            "statuses": dict(endpoint.statuses), "documented": documented,
        })
    return sorted(rows, key=lambda row: (row["path"], row["method"]))


def new_shadow_endpoints(database: str, tenant_id: str, service_ids: list[str], since: float,
                         until: float) -> list[dict[str, Any]]:
    """Undocumented endpoints first seen in the period, over the given services."""
    found = []
    for service_id in service_ids:
        for row in service_endpoints(database, tenant_id, service_id):
            if row["documented"] is False and since <= row["first_seen"] < until:
                found.append({"service": service_id, **row})
    return found
