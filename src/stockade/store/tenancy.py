"""Tenants, services, routes and policies: the config model kept in the store.

Objects go in and come out as the pydantic models of ``config.models``, so
the admin API, the YAML file and the gateway share one model. Settings are
stored with only the keys that were set, because an unset policy key means
"inherit from the level above".
"""

from __future__ import annotations

import time
from typing import Any

from stockade.config.models import Policy, Route, Service, Tenant
from stockade.store import consumers, schema
from stockade.store.errors import NotFound
from stockade.store.scope import Row, Scope, all_of

NO_ID = ""
"""Stands for "not set" in the service and route columns of the policies table."""

_TENANT_COLUMNS = frozenset({"id", "name", "policy", "services", "consumers"})
_SERVICE_COLUMNS = frozenset({"id", "hosts", "path_prefix", "upstream", "openapi", "policy",
                              "routes"})
_ROUTE_COLUMNS = frozenset({"id", "methods", "path", "policy"})


def _dump(model: Any) -> dict[str, Any]:
    data: dict[str, Any] = model.model_dump(mode="json", exclude_unset=True)
    return data


def _extra(data: dict[str, Any], known: frozenset[str]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in known}


# --- tenants -----------------------------------------------------------------

def list_tenant_ids(scope: Scope) -> list[str]:
    table = schema.tenants
    return [row["tenant_id"] for row in scope.fetch_all(table, order_by=[table.c.tenant_id])]


CHILDREN = frozenset({"services", "consumers"})


def put_tenant(scope: Scope, tenant: Tenant, *, replace: frozenset[str] = frozenset()) -> bool:
    """Create or replace a tenant's own settings; return True when it was created.

    Services and consumers stay as they are unless named in ``replace``:
    ``"services"`` replaces them with ``tenant.services``, ``"consumers"``
    with ``tenant.consumers``.
    """
    unknown = replace - CHILDREN
    if unknown:
        raise ValueError(f"cannot replace {sorted(unknown)}; use {sorted(CHILDREN)}")
    table = schema.tenants
    data = _dump(tenant)
    key = table.c.tenant_id == tenant.id
    existing = scope.fetch_one(table, key)
    values = {"tenant_id": tenant.id, "name": tenant.name,
              "extra": _extra(data, _TENANT_COLUMNS)}
    if existing is None:
        scope.require_all_tenants(f"creating tenant {tenant.id!r}")
        scope.insert("tenant", tenant.id, table, {**values, "created_at": time.time()})
    else:
        scope.update("tenant", tenant.id, table, key, values)
    _set_policy(scope, tenant.id, NO_ID, NO_ID, tenant.policy if "policy" in data else None)
    if "services" in replace:
        _replace_services(scope, tenant)
    if "consumers" in replace:
        _replace_consumers(scope, tenant)
    return existing is None


def _replace_services(scope: Scope, tenant: Tenant) -> None:
    keep = {service.id for service in tenant.services}
    for service_id in list_service_ids(scope, tenant.id):
        if service_id not in keep:
            delete_service(scope, tenant.id, service_id)
    for position, service in enumerate(tenant.services):
        put_service(scope, tenant.id, service, position=position)


def _replace_consumers(scope: Scope, tenant: Tenant) -> None:
    keep = {consumer.id for consumer in tenant.consumers}
    for consumer_id in consumers.list_consumer_ids(scope, tenant.id):
        if consumer_id not in keep:
            consumers.delete_consumer(scope, tenant.id, consumer_id)
    for consumer in tenant.consumers:
        consumers.put_consumer(scope, tenant.id, consumer)


def get_tenant(scope: Scope, tenant_id: str, *, with_children: bool = True) -> Tenant:
    row = scope.get("tenant", tenant_id, schema.tenants, schema.tenants.c.tenant_id == tenant_id)
    data: dict[str, Any] = {"id": tenant_id, **row["extra"]}
    if row["name"] is not None:
        data["name"] = row["name"]
    policy = get_policy(scope, tenant_id)
    if policy is not None:
        data["policy"] = policy
    if with_children:
        services = [get_service(scope, tenant_id, service_id)
                    for service_id in list_service_ids(scope, tenant_id)]
        if services:
            data["services"] = services
        tenant_consumers = [consumers.get_consumer(scope, tenant_id, consumer_id)
                            for consumer_id in consumers.list_consumer_ids(scope, tenant_id)]
        if tenant_consumers:
            data["consumers"] = tenant_consumers
    return Tenant.model_validate(data)


def delete_tenant(scope: Scope, tenant_id: str) -> None:
    """Delete a tenant with everything it owns except its security events."""
    scope.require_all_tenants(f"deleting tenant {tenant_id!r}")
    for service_id in list_service_ids(scope, tenant_id):
        delete_service(scope, tenant_id, service_id)
    for consumer_id in consumers.list_consumer_ids(scope, tenant_id):
        consumers.delete_consumer(scope, tenant_id, consumer_id)
    for table, kind, column in (
        (schema.policies, "policy", None),
        (schema.blocks, "block", schema.blocks.c.block_id),
        (schema.alert_rules, "alert rule", schema.alert_rules.c.rule_id),
        (schema.operators, "operator", schema.operators.c.operator_id),
    ):
        for row in scope.fetch_all(table, table.c.tenant_id == tenant_id):
            object_id = row[column.name] if column is not None else tenant_id
            condition = all_of(*(table.c[name] == row[name] for name in _primary_key(table)))
            scope.delete(kind, object_id, table, condition)
    scope.delete("tenant", tenant_id, schema.tenants, schema.tenants.c.tenant_id == tenant_id)


def _primary_key(table: Any) -> list[str]:
    return [column.name for column in table.primary_key.columns]


# --- services ------------------------------------------------------------------

def list_service_ids(scope: Scope, tenant_id: str) -> list[str]:
    table = schema.services
    rows = scope.fetch_all(table, table.c.tenant_id == tenant_id,
                           order_by=[table.c.position, table.c.service_id])
    return [row["service_id"] for row in rows]


def _service_key(tenant_id: str, service_id: str) -> Any:
    table = schema.services
    return all_of(table.c.tenant_id == tenant_id, table.c.service_id == service_id)


def put_service(scope: Scope, tenant_id: str, service: Service,
                *, position: int | None = None, replace_routes: bool = True) -> bool:
    """Create or replace a service with its policy; True when created.

    Its routes are replaced with ``service.routes`` too, unless
    ``replace_routes`` is False, which leaves the stored routes as they are.
    """
    scope.require_tenant(tenant_id)
    table = schema.services
    data = _dump(service)
    key = _service_key(tenant_id, service.id)
    existing = scope.fetch_one(table, key)
    if position is None:
        position = existing["position"] if existing else len(list_service_ids(scope, tenant_id))
    values = {
        "tenant_id": tenant_id, "service_id": service.id, "position": position,
        "hosts": data["hosts"], "path_prefix": service.path_prefix,
        "upstream": data["upstream"], "openapi": service.openapi,
        "extra": _extra(data, _SERVICE_COLUMNS),
    }
    object_id = f"{tenant_id}/{service.id}"
    if existing is None:
        scope.insert("service", object_id, table, values)
    else:
        scope.update("service", object_id, table, key, values)
    _set_policy(scope, tenant_id, service.id, NO_ID,
                service.policy if "policy" in data else None)
    if not replace_routes:
        return existing is None
    keep = {route.id for route in service.routes}
    for route_id in list_route_ids(scope, tenant_id, service.id):
        if route_id not in keep:
            delete_route(scope, tenant_id, service.id, route_id)
    for route_position, route in enumerate(service.routes):
        put_route(scope, tenant_id, service.id, route, position=route_position)
    return existing is None


def get_service(scope: Scope, tenant_id: str, service_id: str) -> Service:
    object_id = f"{tenant_id}/{service_id}"
    row = scope.get("service", object_id, schema.services, _service_key(tenant_id, service_id))
    data: dict[str, Any] = {
        "id": service_id, "hosts": row["hosts"], "upstream": row["upstream"], **row["extra"]}
    routes = [get_route(scope, tenant_id, service_id, route_id)
              for route_id in list_route_ids(scope, tenant_id, service_id)]
    if routes:
        data["routes"] = routes
    if row["path_prefix"] != "/":
        data["path_prefix"] = row["path_prefix"]
    if row["openapi"] is not None:
        data["openapi"] = row["openapi"]
    policy = get_policy(scope, tenant_id, service_id)
    if policy is not None:
        data["policy"] = policy
    return Service.model_validate(data)


def delete_service(scope: Scope, tenant_id: str, service_id: str) -> None:
    for route_id in list_route_ids(scope, tenant_id, service_id):
        delete_route(scope, tenant_id, service_id, route_id)
    _set_policy(scope, tenant_id, service_id, NO_ID, None)
    scope.delete("service", f"{tenant_id}/{service_id}", schema.services,
                 _service_key(tenant_id, service_id))


# --- routes --------------------------------------------------------------------

def _route_key(tenant_id: str, service_id: str, route_id: str) -> Any:
    table = schema.routes
    return all_of(table.c.tenant_id == tenant_id, table.c.service_id == service_id,
                  table.c.route_id == route_id)


def list_route_ids(scope: Scope, tenant_id: str, service_id: str) -> list[str]:
    table = schema.routes
    rows = scope.fetch_all(
        table, table.c.tenant_id == tenant_id, table.c.service_id == service_id,
        order_by=[table.c.position, table.c.route_id])
    return [row["route_id"] for row in rows]


def put_route(scope: Scope, tenant_id: str, service_id: str, route: Route,
              *, position: int | None = None) -> bool:
    """Create or replace one route of a service; return True when it was created."""
    object_id = f"{tenant_id}/{service_id}/{route.id}"
    scope.get("service", f"{tenant_id}/{service_id}", schema.services,
              _service_key(tenant_id, service_id))
    table = schema.routes
    data = _dump(route)
    key = _route_key(tenant_id, service_id, route.id)
    existing = scope.fetch_one(table, key)
    if position is None:
        position = (existing["position"] if existing
                    else len(list_route_ids(scope, tenant_id, service_id)))
    values = {
        "tenant_id": tenant_id, "service_id": service_id, "route_id": route.id,
        "position": position, "methods": route.methods, "path": route.path,
        "extra": _extra(data, _ROUTE_COLUMNS),
    }
    if existing is None:
        scope.insert("route", object_id, table, values)
    else:
        scope.update("route", object_id, table, key, values)
    _set_policy(scope, tenant_id, service_id, route.id, route.policy if "policy" in data else None)
    return existing is None


def get_route(scope: Scope, tenant_id: str, service_id: str, route_id: str) -> Route:
    row = scope.get("route", f"{tenant_id}/{service_id}/{route_id}", schema.routes,
                    _route_key(tenant_id, service_id, route_id))
    data: dict[str, Any] = {"id": route_id, "path": row["path"], **row["extra"]}
    if row["methods"] != ["*"]:
        data["methods"] = row["methods"]
    policy = get_policy(scope, tenant_id, service_id, route_id)
    if policy is not None:
        data["policy"] = policy
    return Route.model_validate(data)


def delete_route(scope: Scope, tenant_id: str, service_id: str, route_id: str) -> None:
    _set_policy(scope, tenant_id, service_id, route_id, None)
    scope.delete("route", f"{tenant_id}/{service_id}/{route_id}", schema.routes,
                 _route_key(tenant_id, service_id, route_id))


# --- policies --------------------------------------------------------------------

def _policy_key(tenant_id: str, service_id: str, route_id: str) -> Any:
    table = schema.policies
    return all_of(table.c.tenant_id == tenant_id, table.c.service_id == service_id,
                  table.c.route_id == route_id)


def _policy_object_id(tenant_id: str, service_id: str, route_id: str) -> str:
    return "/".join(part for part in (tenant_id, service_id, route_id) if part)


def get_policy(scope: Scope, tenant_id: str, service_id: str = NO_ID,
               route_id: str = NO_ID) -> Policy | None:
    """Return the policy set at exactly this level, or None when nothing is set there."""
    row = scope.fetch_one(schema.policies, _policy_key(tenant_id, service_id, route_id))
    if row is None:
        return None
    return Policy.model_validate(row["document"])


def put_policy(scope: Scope, policy: Policy | None, tenant_id: str, service_id: str = NO_ID,
               route_id: str = NO_ID) -> None:
    """Set (or with None, clear) the policy of a tenant, service or route."""
    _require_policy_owner(scope, tenant_id, service_id, route_id)
    _set_policy(scope, tenant_id, service_id, route_id, policy)


def _require_policy_owner(scope: Scope, tenant_id: str, service_id: str, route_id: str) -> None:
    scope.require_tenant(tenant_id)
    if service_id:
        scope.get("service", f"{tenant_id}/{service_id}", schema.services,
                  _service_key(tenant_id, service_id))
    if route_id:
        scope.get("route", f"{tenant_id}/{service_id}/{route_id}", schema.routes,
                  _route_key(tenant_id, service_id, route_id))


def _set_policy(scope: Scope, tenant_id: str, service_id: str, route_id: str,
                policy: Policy | None) -> None:
    table = schema.policies
    key = _policy_key(tenant_id, service_id, route_id)
    object_id = _policy_object_id(tenant_id, service_id, route_id)
    existing = scope.fetch_one(table, key)
    if policy is None:
        if existing is not None:
            scope.delete("policy", object_id, table, key)
        return
    document = _dump(policy)
    if existing is None:
        scope.insert("policy", object_id, table, {
            "tenant_id": tenant_id, "service_id": service_id, "route_id": route_id,
            "document": document})
    elif existing["document"] != document:
        scope.update("policy", object_id, table, key, {"document": document})


def require_service(scope: Scope, tenant_id: str, service_id: str) -> Row:
    return scope.get("service", f"{tenant_id}/{service_id}", schema.services,
                     _service_key(tenant_id, service_id))


__all__ = [
    "NO_ID", "NotFound", "delete_route", "delete_service", "delete_tenant", "get_policy",
    "get_route", "get_service", "get_tenant", "list_route_ids", "list_service_ids",
    "list_tenant_ids", "put_policy", "put_route", "put_service", "put_tenant", "require_service",
]
