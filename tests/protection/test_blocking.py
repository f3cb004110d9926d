from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from stockade.config.models import Service, Tenant
from stockade.protection.blocking import (
    ALL_TENANTS,
    DenyEntry,
    DenyList,
    MemoryDenyStore,
    RedisDenyStore,
    RoutePattern,
    block_source,
    normalize,
)
from stockade.protection.blocking_sync import StoreBlockSync
from stockade.protection.config import StateSettings
from stockade.protection.state_redis import RedisState
from stockade.store.blocks import add_block, delete_block
from stockade.store.database import migrate, open_engine
from stockade.store.route_blocks import add_route_block
from stockade.store.scope import Store
from stockade.store.tenancy import put_service, put_tenant
from tests.ratelimit.redis_support import SHARED_REDIS_URL, shared_redis_reachable


@pytest.fixture(params=["memory", "redis"])
async def deny_list(request: pytest.FixtureRequest) -> AsyncIterator[DenyList]:
    if request.param == "memory":
        yield DenyList(MemoryDenyStore(), cache_seconds=0)
        return
    if not shared_redis_reachable():
        pytest.skip("Redis is not running on 127.0.0.1:6379; start it with scripts/services")
    state = RedisState(SHARED_REDIS_URL, 1.0)
    yield DenyList(RedisDenyStore(state, "stockade-test:" + uuid.uuid4().hex[:12]), 0)
    await state.close()


async def test_added_ip_is_denied_for_its_tenant(deny_list: DenyList) -> None:
    await deny_list.add("ip", "203.0.113.7", "acme", 60, "manual", origin="operator")
    entry = await deny_list.check("acme", [("ip", "203.0.113.7")])
    assert entry is not None
    assert entry.reason == "manual"
    assert entry.origin == "operator"
    assert await deny_list.check("globex", [("ip", "203.0.113.7")]) is None
    assert await deny_list.check("acme", [("ip", "203.0.113.8")]) is None


async def test_mssp_wide_entry_denies_every_tenant(deny_list: DenyList) -> None:
    await deny_list.add("jwt-subject", "42", ALL_TENANTS, 60, "attacked acme", origin="detector")
    for tenant in ("acme", "globex"):
        entry = await deny_list.check(tenant, [("ip", "198.51.100.1"), ("jwt-subject", "42")])
        assert entry is not None
        assert entry.kind == "jwt-subject"


async def test_entry_expires(deny_list: DenyList) -> None:
    await deny_list.add("consumer", "mobile", "acme", 0.3, "short")
    assert await deny_list.check("acme", [("consumer", "mobile")]) is not None
    await asyncio.sleep(0.5)
    assert await deny_list.check("acme", [("consumer", "mobile")]) is None


async def test_remove_and_list(deny_list: DenyList) -> None:
    await deny_list.add("api-key", "k1", "acme", 60, "leaked", origin="scanner")
    await deny_list.add("ip", "203.0.113.9", "globex", 60, "other tenant")
    listed = await deny_list.entries("acme")
    assert [(entry.kind, entry.value) for entry in listed] == [("api-key", "k1")]
    await deny_list.remove("api-key", "k1", "acme")
    assert await deny_list.check("acme", [("api-key", "k1")]) is None


async def test_mapped_ipv6_matches_ipv4_entry(deny_list: DenyList) -> None:
    await deny_list.add("ip", "::ffff:203.0.113.7", "acme", 60, "mapped")
    assert await deny_list.check("acme", [("ip", "203.0.113.7")]) is not None


@pytest.mark.parametrize(("kind", "value", "message"), [
    ("ip", "203.0.113.999", "invalid IP address"),
    ("device", "x", "unknown source kind"),
    ("consumer", "", "1 to 512 characters"),
])
def test_normalize_rejects_bad_sources(kind: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalize(kind, value)


async def test_add_rejects_bad_duration() -> None:
    deny_list = DenyList(MemoryDenyStore())
    with pytest.raises(ValueError, match="out of range"):
        await deny_list.add("ip", "203.0.113.7", "acme", 0, "never")


async def test_cache_serves_until_it_expires() -> None:
    store = MemoryDenyStore()
    deny_list = DenyList(store, cache_seconds=0.3)
    assert await deny_list.check("acme", [("ip", "203.0.113.7")]) is None
    other_node = DenyList(store, cache_seconds=0)
    await other_node.add("ip", "203.0.113.7", "acme", 60, "from another node")
    assert await deny_list.check("acme", [("ip", "203.0.113.7")]) is None
    await asyncio.sleep(0.4)
    assert await deny_list.check("acme", [("ip", "203.0.113.7")]) is not None


def _acme_store(tmp_path: Path) -> tuple[str, Store]:
    """A migrated SQLite store with tenant acme; return its URL and the store."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = open_engine(url)
    migrate(engine)
    store = Store(engine)
    with store.session(None, "test") as scope:
        put_tenant(scope, Tenant.model_validate({"id": "acme"}))
    return url, store


def test_store_blocks_read_into_deny_list(tmp_path: Path) -> None:
    url, store = _acme_store(tmp_path)
    with store.session(None, "test") as scope:
        block = add_block(scope, "acme", "203.0.113.0/24", "operator block", 600)
    deny_list = DenyList(MemoryDenyStore(), cache_seconds=0)
    sync = StoreBlockSync(deny_list, url, 60)
    sync.sync_now()
    found = asyncio.run(deny_list.check("acme", [("ip", "203.0.113.77")]))
    assert found is not None
    assert found.origin == "store"
    assert asyncio.run(deny_list.check("globex", [("ip", "203.0.113.77")])) is None
    with store.session(None, "test") as scope:
        delete_block(scope, "acme", block.block_id)
    sync.sync_now()
    assert asyncio.run(deny_list.check("acme", [("ip", "203.0.113.77")])) is None


def test_block_source_from_sync_code() -> None:
    if not shared_redis_reachable():
        pytest.skip("Redis is not running on 127.0.0.1:6379; start it with scripts/services")
    settings = StateSettings(store="redis", redis_url=SHARED_REDIS_URL,
                             key_prefix="stockade-test:" + uuid.uuid4().hex[:12])
    entry = block_source(settings, "consumer", "mobile", "acme", 60, "leaked key", "scanner")
    assert (entry.kind, entry.value, entry.origin) == ("consumer", "mobile", "scanner")

    async def lookup() -> object:
        state = RedisState(settings.redis_url, 1.0)
        try:
            deny_list = DenyList(RedisDenyStore(state, settings.key_prefix), 0)
            return await deny_list.check("acme", [("consumer", "mobile")])
        finally:
            await state.close()

    assert asyncio.run(lookup()) == entry


def test_block_source_needs_redis() -> None:
    with pytest.raises(ValueError, match="shared only through Redis"):
        block_source(StateSettings(), "ip", "203.0.113.7", "acme", 60, "manual")


def _route_list(method: str, template: str, expires_in: float = 600) -> DenyList:
    deny_list = DenyList(MemoryDenyStore(), cache_seconds=0)
    entry = DenyEntry("acme", "route", f"{method} {template}", "test", 0, time.time() + expires_in)
    deny_list.routes[("acme", "api")] = [RoutePattern.compile(method, template, entry)]
    return deny_list


@pytest.mark.parametrize(("method", "path", "blocked"), [
    ("GET", "/users/7/export", True),
    ("GET", "/Users/7/EXPORT", True),
    ("GET", "//users/7/export/", True),
    ("GET", "/users/7/export;jsessionid=1", True),
    ("GET", "/users/export", False),
    ("GET", "/users/7/export/all", False),
    ("POST", "/users/7/export", False),
])
def test_route_block_matches_template(method: str, path: str, blocked: bool) -> None:
    deny_list = _route_list("GET", "/users/{id}/export")
    segments = path.split("/")[1:]
    found = deny_list.route_entry("acme", "api", method, segments)
    assert (found is not None) == blocked


def test_route_block_scope_and_expiry() -> None:
    every_method = _route_list("*", "/debug")
    assert every_method.route_entry("acme", "api", "DELETE", ["debug"]) is not None
    assert every_method.route_entry("acme", "other", "GET", ["debug"]) is None
    assert every_method.route_entry("globex", "api", "GET", ["debug"]) is None
    expired = _route_list("*", "/debug", expires_in=-1)
    assert expired.route_entry("acme", "api", "GET", ["debug"]) is None


def test_store_source_blocks_read_into_deny_list(tmp_path: Path) -> None:
    url, store = _acme_store(tmp_path)
    with store.session(None, "test") as scope:
        add_block(scope, "acme", "mobile-app", "scraping", 600, kind="consumer")
        subject = add_block(scope, "acme", "user-42", "stolen token", 600, kind="jwt-subject")
    deny_list = DenyList(MemoryDenyStore(), cache_seconds=60)
    sync = StoreBlockSync(deny_list, url, 60)
    sync.sync_now()
    found = asyncio.run(deny_list.check("acme", [("ip", "198.51.100.1"),
                                                 ("consumer", "mobile-app")]))
    assert found is not None
    assert (found.kind, found.value, found.origin) == ("consumer", "mobile-app", "store")
    assert asyncio.run(deny_list.check("acme", [("jwt-subject", "user-42")])) is not None
    assert asyncio.run(deny_list.check("globex", [("consumer", "mobile-app")])) is None
    assert asyncio.run(deny_list.check("acme", [("api-key", "mobile-app")])) is None
    with store.session(None, "test") as scope:
        delete_block(scope, "acme", subject.block_id)
    sync.sync_now()  # also clears the cached lookups
    assert asyncio.run(deny_list.check("acme", [("jwt-subject", "user-42")])) is None


def test_store_route_blocks_read_into_deny_list(tmp_path: Path) -> None:
    url, store = _acme_store(tmp_path)
    with store.session(None, "test") as scope:
        put_service(scope, "acme", Service.model_validate({
            "id": "api", "hosts": ["api.test"], "upstream": {"targets": ["127.0.0.1:9"]}}))
        add_route_block(scope, "acme", "api", "GET", "/actuator/env", "debug endpoint", 600,
                        origin="scanner", finding_id="abc")
    deny_list = DenyList(MemoryDenyStore(), cache_seconds=0)
    StoreBlockSync(deny_list, url, 60).sync_now()
    found = deny_list.route_entry("acme", "api", "GET", ["actuator", "env"])
    assert found is not None
    assert found.origin == "scanner"
    assert found.value == "GET /actuator/env"
