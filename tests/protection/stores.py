"""The two protection state stores, for tests parametrized over both."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from stockade.protection.state import MemoryState, ProtectionState
from stockade.protection.state_redis import RedisState
from tests.ratelimit.redis_support import SHARED_REDIS_URL, shared_redis_reachable


@pytest.fixture(params=["memory", "redis"])
async def state(request: pytest.FixtureRequest) -> AsyncIterator[ProtectionState]:
    if request.param == "memory":
        yield MemoryState()
        return
    if not shared_redis_reachable():
        pytest.skip("Redis is not running on 127.0.0.1:6379; start it with scripts/services")
    store = RedisState(SHARED_REDIS_URL, 1.0)
    yield store
    await store.close()


def unique(name: str) -> str:
    """A key of its own for one test, in the tenant hash-tag form the stages use."""
    return f"stockade-test:{{{uuid.uuid4().hex[:12]}}}:{name}"
