from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
import redis.asyncio as redis

from stockade.ratelimit.redis_store import redacted
from stockade.ratelimit.stage import RateLimitStage
from tests.auth.support import Gate, gateway_config
from tests.ratelimit.redis_support import SHARED_REDIS_URL, PrivateRedis, unique_prefix

ROOT = Path(__file__).resolve().parents[2]
SHARED_LIMIT = 1000
REQUESTS_PER_PROCESS = 1500


@pytest.mark.usefixtures("shared_redis")
@pytest.mark.parametrize("algorithm", ["gcra", "sliding_log"])
def test_two_processes_share_one_limit(algorithm: str) -> None:
    prefix = unique_prefix()
    command = [
        sys.executable,
        "-m",
        "tests.ratelimit.burst_worker",
        SHARED_REDIS_URL,
        prefix,
        str(SHARED_LIMIT),
        str(REQUESTS_PER_PROCESS),
        algorithm,
    ]
    processes = [
        subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    for process in processes:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    results = [json.loads(process.communicate(timeout=120)[0]) for process in processes]
    admitted = sum(result["admitted"] for result in results)
    assert (
        sum(result["admitted"] + result["rejected"] for result in results)
        == 2 * REQUESTS_PER_PROCESS
    )
    # Each process alone would admit 1000, so a total near 1000 shows the limit is shared.
    # A gcra window refills 1000 per hour, so a burst of a few seconds may add a request or two.
    # A sliding log admits exactly the limit.
    assert SHARED_LIMIT <= admitted <= SHARED_LIMIT * 1.01, results
    if algorithm == "sliding_log":
        assert admitted == SHARED_LIMIT


def gate_on(url: str, on_store_error: str) -> Gate:
    policy = {
        "rate_limit": {
            "store": "redis",
            "redis_url": url,
            "key_prefix": unique_prefix(),
            "redis_timeout_seconds": 0.5,
            "on_store_error": on_store_error,
            "limits": [
                {"id": "ip", "key": ["ip"], "windows": [{"requests": 2, "per_seconds": 60}]}
            ],
        }
    }
    return Gate(gateway_config(policy))


@pytest.mark.parametrize("mode", ["open", "closed"])
async def test_redis_stopped_follows_failure_mode(
    private_redis: PrivateRedis, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    gate = gate_on(private_redis.url, mode)
    before = [(await gate.request())[0] for _ in range(3)]
    assert [verdict.status for verdict in before] == [0, 0, 429]
    private_redis.shutdown()
    after = [(await gate.request())[0] for _ in range(3)]
    await gate.close()
    if mode == "open":
        assert [verdict.reject for verdict in after] == [False, False, False]
    else:
        assert [verdict.status for verdict in after] == [503, 503, 503]
        assert after[0].reason == "ratelimit-store-unavailable"
    errors = [
        record for record in caplog.records if "rate limit store unavailable" in record.getMessage()
    ]
    assert len(errors) == 1  # repeats within the log interval are counted, not logged


async def test_unreachable_redis_never_crashes() -> None:
    gate = gate_on("redis://127.0.0.1:9/0", "open")
    verdict, _ = await gate.request()
    await gate.close()
    assert not verdict.reject


def test_password_redacted_in_logs() -> None:
    assert redacted("redis://user:hunter2@127.0.0.1:6380/0") == "redis://user:***@127.0.0.1:6380/0"
    assert redacted("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


@pytest.mark.usefixtures("shared_redis")
async def test_store_keys_expire() -> None:
    gate = gate_on(SHARED_REDIS_URL, "closed")
    exchange = gate.exchange()
    await gate.run(exchange)
    await gate.close()
    assert exchange.match is not None
    stage = next(
        stage for stage in exchange.match.pipeline.stages if isinstance(stage, RateLimitStage)
    )
    client = redis.Redis.from_url(SHARED_REDIS_URL)
    ttl = await client.pttl(stage.keys_of(exchange)[0])
    await client.aclose()
    # One request of a 2-per-minute window: full again after 30 s, and the key expires then.
    assert 29_000 < ttl <= 30_001


async def test_script_cache_flush_recovered(private_redis: PrivateRedis) -> None:
    gate = gate_on(private_redis.url, "closed")
    assert not (await gate.request())[0].reject
    # A restarted or flushed server has lost the script; the store loads it again.
    client = redis.Redis.from_url(private_redis.url)
    await client.script_flush()
    await client.aclose()
    verdicts = await asyncio.gather(*(gate.request() for _ in range(3)))
    await gate.close()
    assert [verdict.status for verdict, _ in verdicts] == [0, 429, 429]


async def test_concurrent_decisions_share_pipelines(private_redis: PrivateRedis) -> None:
    policy = {
        "rate_limit": {
            "store": "redis",
            "redis_url": private_redis.url,
            "key_prefix": unique_prefix(),
            # The test is about pipelining: on a busy machine 300 decisions at once may
            # take longer than the default 0.25 s, and a decision that times out admits.
            "redis_timeout_seconds": 10,
            "limits": [
                {"id": "t", "key": ["tenant"], "windows": [{"requests": 50, "per_seconds": 3600}]}
            ],
        }
    }
    gate = Gate(gateway_config(policy))
    verdicts = await asyncio.gather(*(gate.request() for _ in range(300)))
    await gate.close()
    assert sum(1 for verdict, _ in verdicts if not verdict.reject) == 50
    client = redis.Redis.from_url(private_redis.url)
    connections = (await client.info("stats"))["total_connections_received"]
    await client.aclose()
    # One at a time, 300 concurrent calls would each take a pooled connection.
    assert connections <= 5
