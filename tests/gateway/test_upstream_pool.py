from __future__ import annotations

import pytest

from stockade.config.models import Upstream
from stockade.gateway.upstream import Overloaded, UpstreamPool


def pool_with(max_concurrent: int | None) -> UpstreamPool:
    settings = Upstream(targets=["127.0.0.1:9"], max_concurrent=max_concurrent, queue_timeout=0)
    return UpstreamPool("t1/s1", settings)


def test_try_admit_without_limit_always_admits() -> None:
    pool = pool_with(None)
    assert all(pool.try_admit() for _ in range(5))
    assert pool.in_flight == 0


def test_try_admit_stops_at_the_limit() -> None:
    pool = pool_with(1)
    assert pool.try_admit()
    assert not pool.try_admit()
    pool.leave()
    assert pool.try_admit()


async def test_admit_over_the_limit_raises_overloaded() -> None:
    pool = pool_with(1)
    await pool.admit()
    with pytest.raises(Overloaded):
        await pool.admit()


def test_take_idle_with_empty_pool_returns_none() -> None:
    pool = pool_with(None)
    assert pool.take_idle(pool.targets[0]) is None
