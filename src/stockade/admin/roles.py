"""Permissions of each operator role.

Reads are open to every role: the scoped store already limits tenant roles
to their own tenant. Writes need the permission listed here.
"""

from __future__ import annotations

import enum

from stockade.store.operators import Role


class Permission(enum.Enum):
    MANAGE_TENANTS = "manage-tenants"  # create and delete tenants, import a whole config
    WRITE_CONFIG = "write-config"  # services, routes, consumers, policies, alert rules, scans
    MANAGE_BLOCKS = "manage-blocks"
    MANAGE_EVENTS = "manage-events"  # acknowledge security events
    MANAGE_OPERATORS = "manage-operators"
    READ_ALL_TENANTS = "read-all-tenants"  # export the whole config, read history of all


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.MSSP_ADMIN: frozenset(Permission),
    Role.MSSP_ANALYST: frozenset({Permission.MANAGE_BLOCKS, Permission.MANAGE_EVENTS,
                                  Permission.READ_ALL_TENANTS}),
    Role.TENANT_ADMIN: frozenset({Permission.WRITE_CONFIG, Permission.MANAGE_BLOCKS}),
    Role.TENANT_VIEWER: frozenset(),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
