from __future__ import annotations

import pytest

from tests.ratelimit.redis_support import shared_redis_reachable


@pytest.fixture
def shared_redis() -> None:
    if not shared_redis_reachable():
        pytest.skip("Redis is not running on 127.0.0.1:6379; start it with scripts/services")
