"""The deny list that gateways share through Redis, listed and cleared through the admin API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from stockade.protection.blocking import ALL_TENANTS, DenyList, RedisDenyStore
from stockade.protection.state_redis import RedisState
from stockade.store.operators import Role
from tests.ratelimit.redis_support import SHARED_REDIS_URL, shared_redis_reachable, unique_prefix


@pytest.fixture
def prefix() -> str:
    if not shared_redis_reachable():
        pytest.skip("Redis is not running on 127.0.0.1:6379; start it with scripts/services")
    return unique_prefix()


def _policy(store: str, prefix: str) -> dict[str, Any]:
    return {"protection": {"state": {"store": store, "redis_url": SHARED_REDIS_URL,
                                     "key_prefix": prefix},
                           "blocking": {}}}


def _block(prefix: str, kind: str, value: str, tenant: str) -> None:
    async def add() -> None:
        state = RedisState(SHARED_REDIS_URL, 1.0)
        try:
            deny_list = DenyList(RedisDenyStore(state, prefix), cache_seconds=0)
            await deny_list.add(kind, value, tenant, 600, "5 critical events", "detector")
        finally:
            await state.close()

    asyncio.run(add())


def _root(admin: Any, policy: dict[str, Any]) -> Any:
    root = admin.client(admin.operator("root", Role.MSSP_ADMIN))
    assert root.put("/v1/tenants/acme", json={"id": "acme"}).status_code == 201
    assert root.put("/v1/tenants/acme/policy", json=policy).status_code in (200, 201)
    return root


def test_list_and_lift_threshold_block(admin: Any, prefix: str) -> None:
    root = _root(admin, _policy("redis", prefix))
    _block(prefix, "ip", "203.0.113.7", "acme")
    _block(prefix, "jwt-subject", "user-9", ALL_TENANTS)
    _block(prefix, "ip", "203.0.113.8", "globex")
    viewer = admin.client(admin.operator("viv", Role.TENANT_VIEWER, "acme"))
    listed = viewer.get("/v1/tenants/acme/deny-list")
    assert listed.status_code == 200, listed.text
    found = {(entry["tenant"], entry["kind"], entry["value"]) for entry in listed.json()}
    assert found == {("acme", "ip", "203.0.113.7"), ("*", "jwt-subject", "user-9")}
    assert listed.json()[0]["origin"] == "detector"

    source = {"kind": "ip", "value": "203.0.113.7"}
    assert viewer.delete("/v1/tenants/acme/deny-list", params=source).status_code == 403
    assert root.delete("/v1/tenants/acme/deny-list", params=source).status_code == 204
    again = root.delete("/v1/tenants/acme/deny-list", params=source)
    assert again.status_code == 404
    assert "not on the deny list" in again.text
    remaining = root.get("/v1/tenants/acme/deny-list").json()
    assert [entry["value"] for entry in remaining] == ["user-9"]


def test_invalid_source_rejected(admin: Any, prefix: str) -> None:
    root = _root(admin, _policy("redis", prefix))
    bad = root.delete("/v1/tenants/acme/deny-list", params={"kind": "ip", "value": "nope"})
    assert bad.status_code == 422
    assert "invalid IP address" in bad.text
    unknown = root.delete("/v1/tenants/acme/deny-list", params={"kind": "cookie", "value": "x"})
    assert unknown.status_code == 422


def test_memory_deny_list_is_out_of_reach(admin: Any, prefix: str) -> None:
    root = _root(admin, _policy("memory", prefix))
    response = root.get("/v1/tenants/acme/deny-list")
    assert response.status_code == 409
    assert "protection.state.store to redis" in response.text


def test_tenant_without_blocking_has_empty_list(admin: Any) -> None:
    root = _root(admin, {"mode": "detect"})
    assert root.get("/v1/tenants/acme/deny-list").json() == []
