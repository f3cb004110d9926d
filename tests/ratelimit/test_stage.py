from __future__ import annotations

from typing import Any

import pytest

from stockade.auth.hashing import hash_api_key, new_api_key
from tests.auth.support import Gate, field, gateway_config
from tests.ratelimit.redis_support import SHARED_REDIS_URL, unique_prefix

KEY_A = new_api_key()
KEY_B = new_api_key()
CONSUMERS = [
    {"id": "a", "api_keys": [{"id": "a", "hash": hash_api_key(KEY_A)}]},
    {"id": "b", "api_keys": [{"id": "b", "hash": hash_api_key(KEY_B)}]},
]


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "memory":
        return {"store": "memory"}
    request.getfixturevalue("shared_redis")
    return {"store": "redis", "redis_url": SHARED_REDIS_URL, "key_prefix": unique_prefix()}


def limited(store: dict[str, Any], limits: list[dict[str, Any]], **extra: Any) -> Gate:
    policy = {"auth": {"api_key": {}, "required": False}, "rate_limit": {**store, "limits": limits}}
    return Gate(gateway_config(policy, consumers=CONSUMERS, **extra))


def per_consumer(
    requests: int, seconds: float, key: list[str] | None = None
) -> list[dict[str, Any]]:
    return [
        {
            "id": "basic",
            "key": key or ["consumer"],
            "windows": [{"requests": requests, "per_seconds": seconds}],
        }
    ]


async def test_limit_answers_429_with_retry_after(store: dict[str, Any]) -> None:
    gate = limited(store, per_consumer(3, 60))
    results = [await gate.request(headers=[("X-API-Key", KEY_A)]) for _ in range(4)]
    await gate.close()
    assert [verdict.reject for verdict, _ in results] == [False, False, False, True]
    verdict, exchange = results[3]
    assert verdict.status == 429
    assert verdict.reason == "rate-limited"
    assert field(verdict, "Retry-After") == ["20"]
    assert field(verdict, "RateLimit-Policy") == ['"basic-0";q=3;w=60']
    assert field(verdict, "RateLimit") == ['"basic-0";r=0;t=60']
    assert exchange.events[0].layer == "ratelimit"


async def test_allowed_responses_carry_fields(store: dict[str, Any]) -> None:
    gate = limited(store, per_consumer(3, 60))
    _, exchange = await gate.request(headers=[("X-API-Key", KEY_A)])
    await gate.close()
    extra = {name.decode(): value.decode() for name, value in exchange.response_fields_extra}
    assert extra["RateLimit-Policy"] == '"basic-0";q=3;w=60'
    assert extra["RateLimit"] == '"basic-0";r=2;t=20'


async def test_consumers_counted_apart(store: dict[str, Any]) -> None:
    gate = limited(store, per_consumer(1, 60))
    assert not (await gate.request(headers=[("X-API-Key", KEY_A)]))[0].reject
    assert not (await gate.request(headers=[("X-API-Key", KEY_B)]))[0].reject
    assert (await gate.request(headers=[("X-API-Key", KEY_A)]))[0].status == 429
    await gate.close()


async def test_anonymous_counted_by_address(store: dict[str, Any]) -> None:
    gate = limited(store, per_consumer(1, 60))
    assert not (await gate.request(peer="192.0.2.1"))[0].reject
    assert not (await gate.request(peer="192.0.2.2"))[0].reject
    assert (await gate.request(peer="192.0.2.1"))[0].status == 429
    await gate.close()


async def test_ipv6_counted_per_prefix(store: dict[str, Any]) -> None:
    gate = limited(store, per_consumer(1, 60, ["ip"]))
    assert not (await gate.request(peer="2001:db8:1:2::1"))[0].reject
    assert (await gate.request(peer="2001:db8:1:2::ffff"))[0].status == 429
    assert not (await gate.request(peer="2001:db8:1:3::1"))[0].reject
    await gate.close()


async def test_route_in_key_separates_routes(store: dict[str, Any]) -> None:
    routes = [{"id": "orders", "path": "/orders"}, {"id": "users", "path": "/users"}]
    gate = limited(store, per_consumer(1, 60, ["consumer", "route"]), routes=routes)
    assert not (await gate.request("/orders", headers=[("X-API-Key", KEY_A)]))[0].reject
    assert not (await gate.request("/users", headers=[("X-API-Key", KEY_A)]))[0].reject
    assert (await gate.request("/users", headers=[("X-API-Key", KEY_A)]))[0].status == 429
    await gate.close()


async def test_tenant_key_shared_by_routes(store: dict[str, Any]) -> None:
    routes = [{"id": "orders", "path": "/orders"}, {"id": "users", "path": "/users"}]
    gate = limited(store, per_consumer(1, 60, ["tenant"]), routes=routes)
    assert not (await gate.request("/orders", headers=[("X-API-Key", KEY_A)]))[0].reject
    assert (await gate.request("/users", headers=[("X-API-Key", KEY_B)]))[0].status == 429
    await gate.close()


async def test_rejected_requests_consume_nothing(store: dict[str, Any]) -> None:
    limits = [
        {"id": "hourly", "key": ["consumer"], "windows": [{"requests": 10, "per_seconds": 3600}]},
        {"id": "burst", "key": ["consumer"], "windows": [{"requests": 2, "per_seconds": 30}]},
    ]
    gate = limited(store, limits)
    verdicts = [(await gate.request(headers=[("X-API-Key", KEY_A)]))[0] for _ in range(6)]
    await gate.close()
    assert [verdict.reject for verdict in verdicts] == [False, False, True, True, True, True]
    # Only the two admitted requests were taken from the hourly quota.
    assert field(verdicts[-1], "RateLimit") == ['"hourly-0";r=8;t=720, "burst-0";r=0;t=30']


async def test_several_windows_in_one_limit(store: dict[str, Any]) -> None:
    limits = [
        {
            "id": "tiered",
            "key": ["consumer"],
            "windows": [
                {"requests": 2, "per_seconds": 60},
                {"requests": 100, "per_seconds": 86400},
            ],
        }
    ]
    gate = limited(store, limits)
    verdicts = [(await gate.request(headers=[("X-API-Key", KEY_A)]))[0] for _ in range(3)]
    await gate.close()
    assert verdicts[2].status == 429
    assert field(verdicts[2], "RateLimit-Policy") == [
        '"tiered-0";q=2;w=60, "tiered-1";q=100;w=86400'
    ]


async def test_limits_by_consumer_group(store: dict[str, Any]) -> None:
    consumers = [
        {"id": "free", "groups": ["free"], "api_keys": [{"id": "f", "hash": hash_api_key(KEY_A)}]},
        {"id": "pro", "groups": ["pro"], "api_keys": [{"id": "p", "hash": hash_api_key(KEY_B)}]},
    ]
    limits = [
        {
            "id": "free",
            "key": ["consumer"],
            "groups": ["free"],
            "windows": [{"requests": 1, "per_seconds": 60}],
        },
        {
            "id": "pro",
            "key": ["consumer"],
            "groups": ["pro"],
            "windows": [{"requests": 3, "per_seconds": 60}],
        },
        {
            "id": "everyone",
            "key": ["consumer"],
            "except_groups": ["pro"],
            "windows": [{"requests": 100, "per_seconds": 60}],
        },
    ]
    policy = {"auth": {"api_key": {}}, "rate_limit": {**store, "limits": limits}}
    gate = Gate(gateway_config(policy, consumers=consumers))
    free = [(await gate.request(headers=[("X-API-Key", KEY_A)]))[0] for _ in range(2)]
    pro = [(await gate.request(headers=[("X-API-Key", KEY_B)]))[0] for _ in range(4)]
    await gate.close()
    assert [verdict.reject for verdict in free] == [False, True]
    assert [verdict.reject for verdict in pro] == [False, False, False, True]
    assert field(free[1], "RateLimit-Policy") == ['"free-0";q=1;w=60, "everyone-0";q=100;w=60']
    assert field(pro[3], "RateLimit-Policy") == ['"pro-0";q=3;w=60']
