from __future__ import annotations

from collections import deque
from typing import Any

import pytest
from pydantic import ValidationError

from stockade.ratelimit.gcra import MICROSECONDS, WindowSpec
from stockade.ratelimit.sliding_log import decide_log
from tests.auth.support import Gate, field, gateway_config
from tests.ratelimit.redis_support import SHARED_REDIS_URL, unique_prefix

SECOND = MICROSECONDS


def window(requests: int, seconds: float) -> WindowSpec:
    return WindowSpec("w", requests, seconds, requests, "sliding_log")


def test_any_span_admits_at_most_limit() -> None:
    spec = window(10, 1)
    log: deque[float] = deque()
    admitted = []
    for step in range(3000):  # one request per millisecond for 3 s
        at = step * SECOND / 1000
        if decide_log(at, [log], [spec]).allowed:
            admitted.append(at)
    assert len(admitted) == 30
    for start in admitted:
        assert len([at for at in admitted if start <= at < start + SECOND]) <= 10


def test_retry_after_when_oldest_leaves() -> None:
    spec = window(2, 10)
    log: deque[float] = deque()
    decide_log(0, [log], [spec])
    decide_log(4 * SECOND, [log], [spec])
    rejected = decide_log(5 * SECOND, [log], [spec])
    assert not rejected.allowed
    assert rejected.retry_after_seconds == 5
    assert list(log) == [0, 4 * SECOND]
    assert decide_log(10 * SECOND, [log], [spec]).allowed


def test_rejected_request_recorded_nowhere() -> None:
    hourly, tight = window(100, 3600), window(1, 10)
    logs: list[deque[float]] = [deque(), deque()]
    assert decide_log(0, logs, [hourly, tight]).allowed
    rejected = decide_log(SECOND, logs, [hourly, tight])
    assert not rejected.allowed
    assert [len(log) for log in logs] == [1, 1]
    assert rejected.windows[0].remaining == 99


def test_burst_not_allowed_with_sliding_log() -> None:
    limits = [
        {"id": "x", "key": ["ip"], "windows": [{"requests": 5, "per_seconds": 1, "burst": 2}]}
    ]
    with pytest.raises(ValidationError, match="burst applies to gcra"):
        gateway_config({"rate_limit": {"algorithm": "sliding_log", "limits": limits}})


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "memory":
        return {"store": "memory"}
    request.getfixturevalue("shared_redis")
    return {"store": "redis", "redis_url": SHARED_REDIS_URL, "key_prefix": unique_prefix()}


def log_gate(store: dict[str, Any], limits: list[dict[str, Any]]) -> Gate:
    policy = {"rate_limit": {**store, "algorithm": "sliding_log", "limits": limits}}
    return Gate(gateway_config(policy))


async def test_stage_limits_and_fields(store: dict[str, Any]) -> None:
    gate = log_gate(
        store, [{"id": "ip", "key": ["ip"], "windows": [{"requests": 3, "per_seconds": 60}]}]
    )
    verdicts = [(await gate.request())[0] for _ in range(4)]
    await gate.close()
    assert [verdict.reject for verdict in verdicts] == [False, False, False, True]
    assert field(verdicts[3], "Retry-After") == ["60"]
    assert field(verdicts[3], "RateLimit") == ['"ip-0";r=0;t=60']
    assert field(verdicts[3], "RateLimit-Policy") == ['"ip-0";q=3;w=60']


async def test_stage_rejected_consume_nothing(store: dict[str, Any]) -> None:
    limits = [
        {"id": "hourly", "key": ["ip"], "windows": [{"requests": 10, "per_seconds": 3600}]},
        {"id": "burst", "key": ["ip"], "windows": [{"requests": 2, "per_seconds": 30}]},
    ]
    gate = log_gate(store, limits)
    verdicts = [(await gate.request())[0] for _ in range(6)]
    await gate.close()
    assert [verdict.reject for verdict in verdicts] == [False, False, True, True, True, True]
    assert field(verdicts[-1], "RateLimit") == ['"hourly-0";r=8;t=3600, "burst-0";r=0;t=30']
