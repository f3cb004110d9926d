"""Tenants, their services and routes, and the policy at each level."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response, status

from stockade.admin.context import Context, TenantConfigWriter, TenantReader
from stockade.admin.roles import Permission
from stockade.config.models import Policy, Route, Service, Tenant
from stockade.store import tenancy

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])

Document = dict[str, Any]


def _dump(model: Any) -> Document:
    data: Document = model.model_dump(mode="json", exclude_unset=True)
    return data


def _check_id(path_id: str, body_id: str, kind: str) -> None:
    if path_id != body_id:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"{kind} id {body_id!r} in the body differs from {path_id!r} in the "
                            "path; send the same id in both")


# --- tenants -----------------------------------------------------------------

@router.get("")
def list_tenants(context: Context) -> list[str]:
    """List the ids of the tenants the caller can see."""
    with context.session() as scope:
        return tenancy.list_tenant_ids(scope)


@router.put("/{tenant_id}")
def put_tenant(context: Context, tenant_id: str, tenant: Tenant,
               response: Response) -> Document:
    """Create or replace a tenant; a services or consumers list in the body replaces that list."""
    with context.session() as scope:
        if not scope.visible(tenant_id):
            scope.require_tenant(tenant_id)  # raises NotFound: another tenant looks absent
        exists = tenant_id in tenancy.list_tenant_ids(scope)
        context.require(Permission.WRITE_CONFIG if exists else Permission.MANAGE_TENANTS)
        _check_id(tenant_id, tenant.id, "tenant")
        replace = tenancy.CHILDREN & tenant.model_fields_set
        created = tenancy.put_tenant(scope, tenant, replace=frozenset(replace))
        response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return _dump(tenancy.get_tenant(scope, tenant_id))


@router.get("/{tenant_id}")
def get_tenant(context: TenantReader, tenant_id: str) -> Document:
    with context.session() as scope:
        return _dump(tenancy.get_tenant(scope, tenant_id))


@router.delete("/{tenant_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_tenant(context: TenantReader, tenant_id: str) -> None:
    """Delete a tenant and its config; its security events stay until purged."""
    context.require(Permission.MANAGE_TENANTS)
    with context.session() as scope:
        tenancy.delete_tenant(scope, tenant_id)


# --- services ------------------------------------------------------------------

@router.get("/{tenant_id}/services")
def list_services(context: TenantReader, tenant_id: str) -> list[str]:
    with context.session() as scope:
        return tenancy.list_service_ids(scope, tenant_id)


@router.put("/{tenant_id}/services/{service_id}")
def put_service(context: TenantConfigWriter, tenant_id: str, service_id: str,
                service: Service, response: Response) -> Document:
    """Create or replace a service; a routes list in the body replaces the stored routes."""
    _check_id(service_id, service.id, "service")
    with context.session() as scope:
        created = tenancy.put_service(scope, tenant_id, service,
                                      replace_routes="routes" in service.model_fields_set)
        response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return _dump(tenancy.get_service(scope, tenant_id, service_id))


@router.get("/{tenant_id}/services/{service_id}")
def get_service(context: TenantReader, tenant_id: str, service_id: str) -> Document:
    with context.session() as scope:
        return _dump(tenancy.get_service(scope, tenant_id, service_id))


@router.delete("/{tenant_id}/services/{service_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_service(context: TenantConfigWriter, tenant_id: str, service_id: str) -> None:
    with context.session() as scope:
        tenancy.delete_service(scope, tenant_id, service_id)


# --- routes ----------------------------------------------------------------------

@router.get("/{tenant_id}/services/{service_id}/routes")
def list_routes(context: TenantReader, tenant_id: str, service_id: str) -> list[str]:
    with context.session() as scope:
        tenancy.require_service(scope, tenant_id, service_id)
        return tenancy.list_route_ids(scope, tenant_id, service_id)


@router.put("/{tenant_id}/services/{service_id}/routes/{route_id}")
def put_route(context: TenantConfigWriter, tenant_id: str, service_id: str, route_id: str,
              route: Route, response: Response) -> Document:
    _check_id(route_id, route.id, "route")
    with context.session() as scope:
        created = tenancy.put_route(scope, tenant_id, service_id, route)
        response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return _dump(tenancy.get_route(scope, tenant_id, service_id, route_id))


@router.get("/{tenant_id}/services/{service_id}/routes/{route_id}")
def get_route(context: TenantReader, tenant_id: str, service_id: str, route_id: str) -> Document:
    with context.session() as scope:
        return _dump(tenancy.get_route(scope, tenant_id, service_id, route_id))


@router.delete("/{tenant_id}/services/{service_id}/routes/{route_id}",
               status_code=status.HTTP_204_NO_CONTENT)
def delete_route(context: TenantConfigWriter, tenant_id: str, service_id: str,
                 route_id: str) -> None:
    with context.session() as scope:
        tenancy.delete_route(scope, tenant_id, service_id, route_id)


# --- policies --------------------------------------------------------------------

@router.get("/{tenant_id}/policy")
def get_tenant_policy(context: TenantReader, tenant_id: str) -> Document | None:
    """Return the policy set on the tenant itself, or null when none is set."""
    with context.session() as scope:
        policy = tenancy.get_policy(scope, tenant_id)
        return _dump(policy) if policy else None


@router.put("/{tenant_id}/policy")
def put_tenant_policy(context: TenantConfigWriter, tenant_id: str, policy: Policy) -> Document:
    with context.session() as scope:
        tenancy.put_policy(scope, policy, tenant_id)
    return _dump(policy)


@router.delete("/{tenant_id}/policy", status_code=status.HTTP_204_NO_CONTENT)
def delete_tenant_policy(context: TenantConfigWriter, tenant_id: str) -> None:
    with context.session() as scope:
        tenancy.put_policy(scope, None, tenant_id)


@router.get("/{tenant_id}/services/{service_id}/policy")
def get_service_policy(context: TenantReader, tenant_id: str,
                       service_id: str) -> Document | None:
    with context.session() as scope:
        tenancy.require_service(scope, tenant_id, service_id)
        policy = tenancy.get_policy(scope, tenant_id, service_id)
        return _dump(policy) if policy else None


@router.put("/{tenant_id}/services/{service_id}/policy")
def put_service_policy(context: TenantConfigWriter, tenant_id: str, service_id: str,
                       policy: Policy) -> Document:
    with context.session() as scope:
        tenancy.put_policy(scope, policy, tenant_id, service_id)
    return _dump(policy)


@router.delete("/{tenant_id}/services/{service_id}/policy",
               status_code=status.HTTP_204_NO_CONTENT)
def delete_service_policy(context: TenantConfigWriter, tenant_id: str, service_id: str) -> None:
    with context.session() as scope:
        tenancy.put_policy(scope, None, tenant_id, service_id)


@router.get("/{tenant_id}/services/{service_id}/routes/{route_id}/policy")
def get_route_policy(context: TenantReader, tenant_id: str, service_id: str,
                     route_id: str) -> Document | None:
    with context.session() as scope:
        tenancy.get_route(scope, tenant_id, service_id, route_id)
        policy = tenancy.get_policy(scope, tenant_id, service_id, route_id)
        return _dump(policy) if policy else None


@router.put("/{tenant_id}/services/{service_id}/routes/{route_id}/policy")
def put_route_policy(context: TenantConfigWriter, tenant_id: str, service_id: str,
                     route_id: str, policy: Policy) -> Document:
    with context.session() as scope:
        tenancy.put_policy(scope, policy, tenant_id, service_id, route_id)
    return _dump(policy)


@router.delete("/{tenant_id}/services/{service_id}/routes/{route_id}/policy",
               status_code=status.HTTP_204_NO_CONTENT)
def delete_route_policy(context: TenantConfigWriter, tenant_id: str, service_id: str,
                        route_id: str) -> None:
    with context.session() as scope:
        tenancy.put_policy(scope, None, tenant_id, service_id, route_id)
