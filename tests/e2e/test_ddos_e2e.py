"""A surge from many loopback addresses against a real gateway, with consumers kept served.

The load generator runs here on asyncio. Consumers with API keys send a
steady rate from 127.0.0.1 throughout. After the baseline has warmed up,
anonymous clients bound to 127.0.0.2 to 127.0.0.60 send a surge several
times that rate. Every address is on loopback. The checks are counts and
ratios of responses, not throughput.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as redis

from stockade.auth.hashing import hash_api_key, new_api_key
from tests.ratelimit.redis_support import SHARED_REDIS_URL, shared_redis_reachable, unique_prefix
from tests.support.gateway import GatewayProcess, service_config
from tests.support.upstream import TestUpstream

Factory = Callable[..., GatewayProcess]

CONSUMERS = 4
CONSUMER_RATE = 10.0  # requests per second each, so the baseline is about 40
ATTACK_SOURCES = [f"127.0.0.{last}" for last in range(2, 61)]
ATTACK_RATE = 12.0  # requests per second per source: about 700 in all
WARMUP_SECONDS = 4.0
"""Normal load before the surge. The tracker trips only after warmup_seconds of learned
history, and a surge that starts earlier is learned as normal traffic, so this leaves
margin over the policy's 1.5 s for the gateway's first requests."""
SURGE_SECONDS = 3.0
WINDOW_SECONDS = 1.0
QUIET_SECONDS = 2.0
DDOS = {
    "bucket_seconds": 0.25,
    "baseline_seconds": 10,
    "warmup_seconds": 1.5,
    "detection": {"window_seconds": WINDOW_SECONDS, "rate_multiplier": 4, "rate_floor": 30},
    "release": {"quiet_seconds": QUIET_SECONDS, "relax_seconds": 2},
    "shedding": {"retry_after_seconds": 3},
}


@dataclass
class Reply:
    kind: str  # "consumer", "attack", "after" or "probe"
    sent: float  # time.monotonic() when sent
    status: int
    headers: dict[str, str] = field(default_factory=dict)


async def read_reply(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    await reader.readexactly(int(headers.get("content-length", "0")))
    return int(lines[0].split(" ")[1]), headers


async def client(
    port: int,
    source: str,
    extra: str,
    rate: float,
    until: float,
    kind: str,
    replies: list[Reply],
) -> None:
    """Send GET requests from ``source`` at ``rate`` per second on keep-alive connections."""
    request = f"GET /items HTTP/1.1\r\nHost: api.test\r\n{extra}\r\n".encode()
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    due = time.monotonic()
    while time.monotonic() < until:
        if connection is None:
            connection = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        reader, writer = connection
        sent = time.monotonic()
        try:
            writer.write(request)
            status, headers = await read_reply(reader)
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()
            connection = None
            replies.append(Reply(kind, sent, 0))
            continue
        replies.append(Reply(kind, sent, status, headers))
        if headers.get("connection", "").lower() == "close":
            writer.close()
            connection = None
        due += 1 / rate
        await asyncio.sleep(max(0.0, due - time.monotonic()))
    if connection is not None:
        connection[1].close()


async def run_load(port: int, keys: list[str]) -> tuple[list[Reply], float, float]:
    """Run the whole scenario; return the replies and when the surge started and stopped."""
    replies: list[Reply] = []
    start = time.monotonic()
    end = start + WARMUP_SECONDS + SURGE_SECONDS + WINDOW_SECONDS + QUIET_SECONDS + 1.5
    consumers = [
        asyncio.create_task(
            client(
                port, "127.0.0.1", f"X-API-Key: {key}\r\n", CONSUMER_RATE, end, "consumer", replies
            )
        )
        for key in keys
    ]
    await asyncio.sleep(WARMUP_SECONDS)
    surge_start = time.monotonic()
    surge_end = surge_start + SURGE_SECONDS
    attackers = [
        asyncio.create_task(client(port, source, "", ATTACK_RATE, surge_end, "attack", replies))
        for source in ATTACK_SOURCES
    ]
    await asyncio.gather(*attackers)
    await asyncio.sleep(max(0.0, end - 1.0 - time.monotonic()))
    # After the quiet period the same addresses are served again.
    after_end = time.monotonic() + 0.5
    await asyncio.gather(
        *(
            client(port, source, "", 4.0, after_end, "after", replies)
            for source in ATTACK_SOURCES[:10]
        )
    )
    await asyncio.gather(*consumers)
    return replies, surge_start, surge_end


def config(upstream: TestUpstream, keys: list[str], events: Path) -> dict[str, Any]:
    consumers = [
        {"id": f"consumer-{index}", "api_keys": [{"id": f"k{index}", "hash": hash_api_key(key)}]}
        for index, key in enumerate(keys)
    ]
    gateway_config = service_config(
        [upstream.address], policy={"auth": {"required": False, "api_key": {}}, "ddos": DDOS}
    )
    gateway_config["tenants"][0]["consumers"] = consumers
    gateway_config["events"] = {
        "spool_dir": str(events.parent / "spool"),
        # Every shed request is an event, so the sink writes in large batches to keep up.
        "sinks": [{"name": "file", "type": "jsonl", "path": str(events), "batch_size": 1000}],
    }
    gateway_config["access_log"] = {"enabled": False}
    return gateway_config


def read_events(path: Path, kinds: set[str]) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 5
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        if path.exists():
            lines = path.read_text().splitlines()
            found = [json.loads(line) for line in lines if line.strip()]
            found = [event for event in found if event["kind"] in kinds]
            if {event["kind"] for event in found} >= kinds:
                return found
        time.sleep(0.2)
    return found


def test_surge_shed_while_consumers_served(
    gateway_factory: Factory, upstream: TestUpstream, tmp_path: Path
) -> None:
    keys = [new_api_key() for _ in range(CONSUMERS)]
    events_path = tmp_path / "events.jsonl"
    gateway = gateway_factory(config(upstream, keys, events_path))
    replies, surge_start, surge_end = asyncio.run(run_load(gateway.port, keys))

    during = [r for r in replies if r.kind == "consumer" and surge_start <= r.sent <= surge_end]
    served = sum(1 for r in during if r.status == 200)
    assert len(during) >= 40, f"only {len(during)} consumer requests during the surge"
    assert served / len(during) >= 0.95, f"{served} of {len(during)} consumer requests served"

    attack = [r for r in replies if r.kind == "attack"]
    shed = [r for r in attack if r.status == 503]
    statuses = sorted({r.status for r in attack})
    assert shed, f"no attack request was shed: {len(attack)} attack replies, statuses {statuses}"
    first_shed = min(r.sent for r in shed)
    assert first_shed - surge_start <= WINDOW_SECONDS, (
        f"surge detected {first_shed - surge_start:.2f}s after it began"
    )
    after_detection = [r for r in attack if r.sent > first_shed]
    shed_after = sum(1 for r in after_detection if r.status == 503)
    assert shed_after / len(after_detection) >= 0.95, f"{shed_after} of {len(after_detection)} shed"
    assert all(r.headers.get("retry-after") == "3" for r in shed)

    after = [r for r in replies if r.kind == "after"]
    assert after, "no request was sent after the surge"
    assert all(r.status == 200 for r in after), [r.status for r in after]

    events = read_events(events_path, {"ddos-surge-detected", "ddos-surge-ended"})
    kinds = [event["kind"] for event in events]
    assert kinds.count("ddos-surge-detected") == 1
    assert kinds.count("ddos-surge-ended") == 1
    detected = next(event for event in events if event["kind"] == "ddos-surge-detected")
    assert detected["evidence"]["signals"] == ["rate"]
    assert detected["evidence"]["shedding"] == ["unauthenticated"]


async def run_cluster_load(
    first: int, second: int, keys: list[str]
) -> tuple[list[Reply], float, float]:
    """Surge against the first gateway only; consumers and probes use the second."""
    replies: list[Reply] = []
    start = time.monotonic()
    end = start + WARMUP_SECONDS + SURGE_SECONDS
    consumers = [
        asyncio.create_task(
            client(
                second,
                "127.0.0.1",
                f"X-API-Key: {key}\r\n",
                CONSUMER_RATE,
                end,
                "consumer",
                replies,
            )
        )
        for key in keys
    ]
    await asyncio.sleep(WARMUP_SECONDS)
    surge_start = time.monotonic()
    attackers = [
        asyncio.create_task(client(first, source, "", ATTACK_RATE, end, "attack", replies))
        for source in ATTACK_SOURCES
    ]
    # Anonymous clients of the second gateway that never sent anything to the first.
    probes = [
        asyncio.create_task(client(second, f"127.0.0.{last}", "", 4.0, end, "probe", replies))
        for last in range(61, 66)
    ]
    await asyncio.gather(*attackers, *probes, *consumers)
    return replies, surge_start, end


def test_surge_on_one_node_sheds_on_another(
    gateway_factory: Factory, upstream: TestUpstream, tmp_path: Path
) -> None:
    if not shared_redis_reachable():
        pytest.skip("Redis is not running on 127.0.0.1:6379; start it with scripts/services")
    keys = [new_api_key() for _ in range(CONSUMERS)]
    prefix = unique_prefix()
    gateways = []
    for name in ("first", "second"):
        gateway_config = config(upstream, keys, tmp_path / f"{name}-events.jsonl")
        policy = gateway_config["tenants"][0]["services"][0]["policy"]
        policy["ddos"] = {
            **DDOS,
            "store": "redis",
            "redis_url": SHARED_REDIS_URL,
            "key_prefix": prefix,
        }
        gateways.append(gateway_factory(gateway_config))
    try:
        replies, surge_start, _ = asyncio.run(
            run_cluster_load(gateways[0].port, gateways[1].port, keys)
        )
    finally:
        asyncio.run(delete_keys(prefix))

    during = [r for r in replies if r.kind == "consumer" and r.sent >= surge_start]
    served = sum(1 for r in during if r.status == 200)
    assert served / len(during) >= 0.95, f"{served} of {len(during)} consumer requests served"
    probes = [r for r in replies if r.kind == "probe"]
    late = [r for r in probes if r.sent >= surge_start + 2 * WINDOW_SECONDS]
    assert late, "no probe request late in the surge"
    shed = sum(1 for r in late if r.status == 503)
    assert shed / len(late) >= 0.9, f"the second gateway shed {shed} of {len(late)}"


async def delete_keys(prefix: str) -> None:
    client = redis.Redis.from_url(SHARED_REDIS_URL)
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
