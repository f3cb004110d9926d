"""The gateways' shared deny list of a tenant: sources blocked by detector thresholds.

Store blocks (``/blocks``) are what operators add. The deny list also contains
what the gateways add themselves when a source reaches a ``blocking``
threshold. It lives in the Redis named by the tenant's ``protection.state``.
This API can list and clear it only when that store is ``redis``, because
with ``memory`` each gateway process keeps its own.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import select

from stockade.admin.context import TenantBlockWriter, TenantReader
from stockade.config.models import Policy, merge_policy
from stockade.protection.blocking import (
    ALL_TENANTS,
    MAX_VALUE_CHARS,
    DenyEntry,
    normalize,
    redis_deny_store,
)
from stockade.protection.config import StateSettings
from stockade.protection.state import StateUnavailable
from stockade.store import schema, tenancy
from stockade.store.scope import Scope

router = APIRouter(prefix="/v1/tenants/{tenant_id}/deny-list", tags=["blocks"])

SourceKind = Literal["ip", "consumer", "api-key", "jwt-subject"]


def shared_states(scope: Scope, tenant_id: str) -> tuple[list[StateSettings], bool]:
    """Return the Redis state settings of the tenant's blocking policies.

    The flag is True when some policy with ``blocking`` keeps its deny list
    in process memory, out of this API's reach.
    """
    row = scope.connection.execute(
        select(schema.settings.c.document).where(schema.settings.c.key == "policy")).first()
    gateway_policy = Policy.model_validate(row[0]) if row is not None else Policy()
    tenant = tenancy.get_tenant(scope, tenant_id)
    tenant_policy = merge_policy(gateway_policy, tenant.policy)
    policies = [tenant_policy]
    for service in tenant.services:
        service_policy = merge_policy(tenant_policy, service.policy)
        policies.append(service_policy)
        policies.extend(merge_policy(service_policy, route.policy) for route in service.routes)
    shared: dict[tuple[str, str], StateSettings] = {}
    in_memory = False
    for policy in policies:
        protection = policy.protection
        if protection is None or protection.blocking is None:
            continue
        state = protection.state
        if state.store == "redis":
            shared[(state.redis_url, state.key_prefix)] = state
        else:
            in_memory = True
    return list(shared.values()), in_memory


def _states_or_409(scope: Scope, tenant_id: str) -> list[StateSettings]:
    states, in_memory = shared_states(scope, tenant_id)
    if not states and in_memory:
        raise HTTPException(status.HTTP_409_CONFLICT, (
            f"the deny list of tenant {tenant_id!r} is kept in each gateway process "
            "(protection.state.store: memory), so this API cannot reach it; set "
            "protection.state.store to redis to share and manage it"))
    return states


async def _entries(states: list[StateSettings], tenant_id: str) -> list[DenyEntry]:
    found: list[DenyEntry] = []
    for settings in states:
        async with redis_deny_store(settings) as deny_store:
            found += await deny_store.entries(tenant_id)
            found += await deny_store.entries(ALL_TENANTS)
    return found


async def _remove(states: list[StateSettings], tenant_id: str, kind: str, value: str) -> int:
    removed = 0
    for settings in states:
        async with redis_deny_store(settings) as deny_store:
            if await deny_store.find([(tenant_id, kind, value)]) is not None:
                await deny_store.delete(tenant_id, kind, value)
                removed += 1
    return removed


def _unavailable(error: StateUnavailable) -> HTTPException:
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"the deny list store is "
                                                              f"unavailable: {error}")


@router.get("")
def list_deny_list(context: TenantReader, tenant_id: str) -> list[dict[str, Any]]:
    """Entries in force for the tenant, its own and MSSP-wide ones (tenant ``*``)."""
    with context.session() as scope:
        states = _states_or_409(scope, tenant_id)
    try:
        entries = asyncio.run(_entries(states, tenant_id))
    except StateUnavailable as error:
        raise _unavailable(error) from None
    entries.sort(key=lambda entry: entry.created_at)
    return [dataclasses.asdict(entry) for entry in entries]


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
def remove_from_deny_list(
    context: TenantBlockWriter,
    tenant_id: str,
    kind: Annotated[SourceKind, Query()],
    value: Annotated[str, Query(min_length=1, max_length=MAX_VALUE_CHARS)],
) -> None:
    """Lift the tenant's block of one source.

    Gateways stop refusing it once their cached lookup result expires (the
    policy's ``blocking.cache_seconds``, 1 s by default).

    An MSSP-wide entry (tenant ``*``) is not lifted here.
    """
    source = normalize(kind, value)
    with context.session() as scope:
        states = _states_or_409(scope, tenant_id)
    try:
        removed = asyncio.run(_remove(states, tenant_id, kind, source))
    except StateUnavailable as error:
        raise _unavailable(error) from None
    if not removed:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"{kind} {source!r} is not on the deny list of tenant {tenant_id!r}")
