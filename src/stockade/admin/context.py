"""Request dependencies of the admin API: who is calling, and what they may reach.

Checks run in a fixed order so that nothing leaks across tenants. A missing
or unknown token gets 401. A tenant the operator cannot see gets 404, the
same as a tenant that does not exist. Only then does a missing permission
get 403, and a bad request body 422.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from stockade.admin.roles import Permission, allows
from stockade.store.errors import NotFound
from stockade.store.operators import Operator, authenticate
from stockade.store.scope import Scope, Store

log = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False, description="An operator token, stk_...")

AUTHENTICATOR = "admin-api-authenticate"


@dataclass(frozen=True, slots=True)
class AdminContext:
    store: Store
    operator: Operator

    @contextmanager
    def session(self) -> Iterator[Scope]:
        """Open a store session limited to what this operator may see, audited under its id."""
        with self.store.session(self.operator.scope_tenant, self.operator.operator_id) as scope:
            yield scope

    def require(self, permission: Permission) -> None:
        if not allows(self.operator.role, permission):
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"role {self.operator.role.value} may not {permission.value}")


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def current_context(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AdminContext:
    store = get_store(request)
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
    try:
        with store.session(None, AUTHENTICATOR) as scope:
            operator = authenticate(scope, credentials.credentials)
    except NotFound:
        log.info("admin API request with an unknown or disabled token from %s",
                 request.client.host if request.client else "-")
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or disabled token",
                            headers={"WWW-Authenticate": "Bearer"}) from None
    return AdminContext(store, operator)


Context = Annotated[AdminContext, Depends(current_context)]


def tenant_context(permission: Permission | None = None) -> Callable[..., AdminContext]:
    """Build the dependency for paths under /tenants/{tenant_id}: 404 first, then 403."""

    def dependency(context: Context,
                   tenant_id: Annotated[str, Path(max_length=63)]) -> AdminContext:
        with context.session() as scope:
            scope.require_tenant(tenant_id)  # NotFound becomes 404
        if permission is not None:
            context.require(permission)
        return context

    return dependency


TenantReader = Annotated[AdminContext, Depends(tenant_context())]
TenantConfigWriter = Annotated[AdminContext, Depends(tenant_context(Permission.WRITE_CONFIG))]
TenantBlockWriter = Annotated[AdminContext, Depends(tenant_context(Permission.MANAGE_BLOCKS))]
TenantEventWriter = Annotated[AdminContext, Depends(tenant_context(Permission.MANAGE_EVENTS))]
