"""Operators of the admin API: their role, their tenant and a hashed token."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass

from stockade.store import schema
from stockade.store.errors import NotFound
from stockade.store.scope import Row, Scope
from stockade.store.secrets import generate_secret, hash_secret

TOKEN_LABEL = "stk"  # noqa: S105 - a label in front of each token, not a secret


class Role(enum.Enum):
    MSSP_ADMIN = "mssp-admin"  # everything
    MSSP_ANALYST = "mssp-analyst"  # read every tenant, manage blocks and events
    TENANT_ADMIN = "tenant-admin"  # the config of their tenant
    TENANT_VIEWER = "tenant-viewer"  # read their tenant

    @property
    def is_tenant_role(self) -> bool:
        return self in (Role.TENANT_ADMIN, Role.TENANT_VIEWER)


@dataclass(frozen=True, slots=True)
class Operator:
    operator_id: str
    role: Role
    tenant_id: str | None
    created_at: float
    disabled: bool

    @property
    def scope_tenant(self) -> str | None:
        """The tenant this operator's sessions are limited to; None for MSSP roles."""
        return self.tenant_id if self.role.is_tenant_role else None


def _operator(row: Row) -> Operator:
    return Operator(row["operator_id"], Role(row["role"]), row["tenant_id"], row["created_at"],
                    bool(row["disabled"]))


def create_operator(scope: Scope, operator_id: str, role: Role,
                    tenant_id: str | None = None) -> tuple[Operator, str]:
    """Create an operator; return it with its token, which is shown only this once."""
    if role.is_tenant_role:
        if tenant_id is None:
            raise ValueError(f"role {role.value!r} needs a tenant; pass the tenant id")
        scope.require_tenant(tenant_id)
    elif tenant_id is not None:
        raise ValueError(f"role {role.value!r} covers every tenant; leave the tenant unset")
    token = generate_secret(TOKEN_LABEL)
    row = {"operator_id": operator_id, "role": role.value, "tenant_id": tenant_id,
           "token_hash": hash_secret(token), "created_at": time.time(), "disabled": False}
    scope.insert("operator", operator_id, schema.operators, row, config=False)
    return _operator(row), token


def list_operators(scope: Scope) -> list[Operator]:
    table = schema.operators
    return [_operator(row) for row in scope.fetch_all(table, order_by=[table.c.operator_id])]


def get_operator(scope: Scope, operator_id: str) -> Operator:
    table = schema.operators
    return _operator(scope.get("operator", operator_id, table, table.c.operator_id == operator_id))


def set_operator_disabled(scope: Scope, operator_id: str, disabled: bool) -> Operator:
    table = schema.operators
    row = scope.update("operator", operator_id, table, table.c.operator_id == operator_id,
                       {"disabled": disabled}, config=False)
    return _operator(row)


def rotate_token(scope: Scope, operator_id: str) -> str:
    """Replace an operator's token; return the new one, shown only this once."""
    table = schema.operators
    token = generate_secret(TOKEN_LABEL)
    scope.update("operator", operator_id, table, table.c.operator_id == operator_id,
                 {"token_hash": hash_secret(token)}, config=False)
    return token


def delete_operator(scope: Scope, operator_id: str) -> None:
    table = schema.operators
    scope.delete("operator", operator_id, table, table.c.operator_id == operator_id, config=False)


def authenticate(scope: Scope, token: str) -> Operator:
    """Return the enabled operator whose token this is; NotFound otherwise.

    The token is looked up by its SHA-256 hash, so the clear token is never
    compared with anything stored.
    """
    table = schema.operators
    row = scope.fetch_one(table, table.c.token_hash == hash_secret(token))
    if row is None or row["disabled"]:
        raise NotFound("operator token", "(hidden)")
    return _operator(row)
