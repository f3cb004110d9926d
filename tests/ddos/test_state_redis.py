"""The shared DDoS state on the real Redis at 127.0.0.1:6379, under a unique key prefix."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as redis

from stockade.ddos.buckets import BucketTotals
from stockade.ddos.config import DdosPolicy
from stockade.ddos.state import BucketReport, StateUnavailable
from stockade.ddos.state_redis import RedisTrafficStore
from tests.ddos.support import Clock, anonymous, consumer, drive, mixed, policy, tracker
from tests.ratelimit.redis_support import SHARED_REDIS_URL, free_port, unique_prefix


@pytest.fixture
def prefix() -> Iterator[str]:
    yield unique_prefix()


@pytest.fixture
async def cleanup(prefix: str) -> AsyncIterator[redis.Redis]:
    client = redis.Redis.from_url(SHARED_REDIS_URL)
    yield client
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def shared_policy(prefix: str, **settings: object) -> DdosPolicy:
    return policy(store="redis", redis_url=SHARED_REDIS_URL, key_prefix=prefix, **settings)


def report(cost: float = 0.0, **fields: object) -> BucketReport:
    values: dict[str, object] = {"new_sources": (), "queries": (), "tripped": False, **fields}
    return BucketReport(BucketTotals(cost=cost, admitted=cost, requests=int(cost)), **values)  # type: ignore[arg-type]


async def server_bucket(client: redis.Redis, bucket_seconds: float) -> int:
    seconds, micros = await client.time()
    return int((seconds * 1000 + micros // 1000) // (bucket_seconds * 1000))


@pytest.mark.usefixtures("shared_redis")
async def test_nodes_share_window_totals(prefix: str, cleanup: redis.Redis) -> None:
    rules = shared_policy(prefix, bucket_seconds=0.5, detection={"window_seconds": 1.0})
    first, second = RedisTrafficStore(rules), RedisTrafficStore(rules)
    try:
        for attempt in range(3):
            # Both reports must land in one server bucket. Each attempt uses a route of its
            # own, so an attempt that straddled a boundary stays out of the next one's totals.
            route = f"api/attempt-{attempt}"
            before = await server_bucket(cleanup, 0.5)
            await first.publish("acme", route, report(10))
            await second.publish("acme", route, report(30))
            if await server_bucket(cleanup, 0.5) == before:
                break
        while await server_bucket(cleanup, 0.5) == before:
            await asyncio.sleep(0.02)
        view = await first.publish("acme", route, report(0))
        assert view.window.cost == 40
        assert view.window.requests == 40
    finally:
        await first.close()
        await second.close()


@pytest.mark.usefixtures("shared_redis")
async def test_surge_signal_shared_and_expires(prefix: str, cleanup: redis.Redis) -> None:
    rules = shared_policy(prefix, release={"quiet_seconds": 0.5})
    first, second = RedisTrafficStore(rules), RedisTrafficStore(rules)
    try:
        quiet = await second.publish("acme", "api/default", report())
        assert quiet.tripped_ago is None
        await first.publish("acme", "api/default", report(tripped=True))
        seen = await second.publish("acme", "api/default", report())
        assert seen.tripped_ago is not None
        assert 0 <= seen.tripped_ago < 0.5
        await asyncio.sleep(0.7)
        later = await second.publish("acme", "api/default", report())
        assert later.tripped_ago is None
    finally:
        await first.close()
        await second.close()


@pytest.mark.usefixtures("shared_redis")
async def test_known_sources_shared_with_cutoff(prefix: str, cleanup: redis.Redis) -> None:
    rules = shared_policy(prefix)
    first, second = RedisTrafficStore(rules), RedisTrafficStore(rules)
    try:
        await first.publish("acme", "api/default", report(new_sources=("127.0.0.9",)))
        asked = ("127.0.0.9", "127.0.0.10")
        now_view = await second.publish("acme", "api/default", report(queries=asked))
        assert now_view.known == frozenset({"127.0.0.9"})
        strict_view = await second.publish(
            "acme", "api/default", report(queries=asked, cutoff_age=60.0)
        )
        assert strict_view.known == frozenset()
        other_tenant = await second.publish("other", "api/default", report(queries=asked))
        assert other_tenant.known == frozenset()
    finally:
        await first.close()
        await second.close()


@pytest.mark.usefixtures("shared_redis")
async def test_every_key_expires(prefix: str, cleanup: redis.Redis) -> None:
    store = RedisTrafficStore(shared_policy(prefix))
    try:
        await store.publish(
            "acme", "api/default", report(5, tripped=True, new_sources=("127.0.0.9",))
        )
        keys = [key async for key in cleanup.scan_iter(match=f"{prefix}:*")]
        assert len(keys) == 3
        for key in keys:
            assert await cleanup.pttl(key) > 0
    finally:
        await store.close()


@pytest.mark.usefixtures("shared_redis")
async def test_shared_signal_starts_surge_on_quiet_node(prefix: str, cleanup: redis.Redis) -> None:
    rules = shared_policy(prefix, bucket_seconds=0.1, detection={"window_seconds": 0.2})
    signal = RedisTrafficStore(rules)
    clock = Clock()
    quiet_node = tracker(
        clock,
        RedisTrafficStore(rules),
        store="redis",
        redis_url=SHARED_REDIS_URL,
        key_prefix=prefix,
        bucket_seconds=0.1,
        detection={"window_seconds": 0.2},
    )
    try:
        await signal.publish("acme", "api/default", report(tripped=True))
        for _ in range(20):
            drive(quiet_node, clock, 0.1, 20, lambda index: consumer("alice"))
            await asyncio.sleep(0.02)
            if quiet_node.surge.active:
                break
        assert quiet_node.surge.active
        assert quiet_node.signals is not None
        assert not quiet_node.signals.tripped  # its own traffic is normal
        events = quiet_node.take_events()
        assert events[0].kind == "ddos-surge-detected"
        assert events[0].evidence["signals"] == ["shared"]
    finally:
        await signal.close()
        assert quiet_node.store is not None
        await quiet_node.store.close()  # type: ignore[attr-defined]


async def test_unreachable_redis_falls_back_to_local(caplog: pytest.LogCaptureFixture) -> None:
    closed_port = free_port()  # nothing listens there
    rules = policy(store="redis", redis_url=f"redis://127.0.0.1:{closed_port}/0")
    store = RedisTrafficStore(rules)
    with pytest.raises(StateUnavailable, match=f"127.0.0.1:{closed_port}"):
        await store.publish("acme", "api/default", report())

    clock = Clock()
    route = tracker(
        clock,
        RedisTrafficStore(rules),
        store="redis",
        redis_url=f"redis://127.0.0.1:{closed_port}/0",
    )
    drive(route, clock, 3.0, 10, lambda index: consumer("alice"))
    await asyncio.sleep(0.1)
    pick = mixed(
        lambda index: consumer("alice"), lambda index: anonymous(f"127.0.0.{2 + index % 40}"), 20
    )
    for _ in range(20):
        drive(route, clock, 0.1, 200, pick)
        await asyncio.sleep(0.01)
    assert route.surge.active
    assert "judging this worker's traffic alone" in caplog.text
    await store.close()
