from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.ratelimit.redis_support import PrivateRedis, shared_redis_reachable


@pytest.fixture
def shared_redis() -> None:
    if not shared_redis_reachable():
        pytest.skip("Redis is not running on 127.0.0.1:6379; start it with scripts/services")


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        pytest.skip("redis-server and redis-cli are not installed (apt-get install redis-server)")
    server = PrivateRedis().start()
    yield server
    server.stop()
