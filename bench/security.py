"""Gateway security benchmark: Stockade as a plain proxy, with API-key auth, and with a Redis limit.

Usage: .venv/bin/python bench/security.py [--seconds 10] [--rounds 3] [--connections 50]

All three gateways run one worker in front of the same nginx upstream and
write an access log. The rate limit is high enough that no request is
rejected, so the runs measure the cost of the checks, not of 429 responses.
Rounds alternate between the configurations; the table shows medians and
each configuration's throughput as a ratio to the plain proxy.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from common import (
    WrkResult,
    free_port,
    machine_line,
    median_result,
    nginx,
    stockade,
    stockade_build,
    wait_for_port,
    wrk,
)

from stockade.auth.hashing import hash_api_key, new_api_key

UPSTREAM_BODY = '{"id":42,"name":"widget","price":9.5,"tags":["a","b"]}'
REDIS_URL = "redis://127.0.0.1:6379/0"
UNREACHED_LIMIT = 10_000_000  # requests per hour, the maximum; far above what one run sends


def upstream_block(port: int) -> str:
    return f"""
    server {{
        listen 127.0.0.1:{port};
        keepalive_requests 1000000;
        location / {{
            default_type application/json;
            return 200 '{UPSTREAM_BODY}';
        }}
    }}"""


def gateway_config(upstream_port: int, policy: dict[str, Any] | None, key: str) -> dict[str, Any]:
    service: dict[str, Any] = {
        "id": "api",
        "hosts": ["127.0.0.1", "localhost"],
        "upstream": {"targets": [f"127.0.0.1:{upstream_port}"]},
        "routes": [{"id": "item", "methods": ["GET"], "path": "/items/{itemId}"}],
    }
    if policy is not None:
        service["policy"] = policy
    consumers = [{"id": "bench", "api_keys": [{"id": "k1", "hash": hash_api_key(key)}]}]
    return {"tenants": [{"id": "bench", "services": [service], "consumers": consumers}]}


def policies() -> dict[str, dict[str, Any] | None]:
    redis_limit = {
        "store": "redis",
        "redis_url": REDIS_URL,
        "key_prefix": f"stockade-bench:{uuid.uuid4().hex[:8]}",
        "limits": [
            {
                "id": "bench",
                "key": ["consumer"],
                "windows": [{"requests": UNREACHED_LIMIT, "per_seconds": 3600}],
            }
        ],
    }
    return {
        "plain": None,
        "api-key": {"auth": {"api_key": {}}},
        "api-key+redis": {"auth": {"api_key": {}}, "rate_limit": redis_limit},
    }


def run(seconds: int, rounds: int, connections: int) -> dict[str, WrkResult]:
    key = new_api_key()
    upstream_port = free_port()
    configs = policies()
    ports = {name: free_port() for name in configs}
    results: dict[str, list[WrkResult]] = {name: [] for name in configs}
    headers = [f"X-API-Key: {key}"]
    with nginx(upstream_block(upstream_port)):
        wait_for_port(upstream_port)
        with (
            stockade(gateway_config(upstream_port, configs["plain"], key), ports["plain"]),
            stockade(gateway_config(upstream_port, configs["api-key"], key), ports["api-key"]),
            stockade(
                gateway_config(upstream_port, configs["api-key+redis"], key), ports["api-key+redis"]
            ),
        ):
            for port in ports.values():
                wrk(
                    f"http://127.0.0.1:{port}/items/1",
                    seconds=2,
                    connections=connections,
                    headers=headers,
                )  # warm-up
            for _ in range(rounds):
                for name, port in ports.items():
                    results[name].append(
                        wrk(
                            f"http://127.0.0.1:{port}/items/42",
                            seconds=seconds,
                            connections=connections,
                            headers=headers,
                        )
                    )
    return {name: median_result(values) for name, values in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="Duration of each wrk run.")
    parser.add_argument(
        "--rounds", type=int, default=3, help="Alternating rounds per configuration."
    )
    parser.add_argument("--connections", type=int, default=50, help="Concurrent wrk connections.")
    args = parser.parse_args()
    medians = run(args.seconds, args.rounds, args.connections)
    plain = medians["plain"].requests_per_second
    print(f"machine: {machine_line()}; {stockade_build()}")
    print(f"{'gateway':<14} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'ratio':>6}")
    for name, result in medians.items():
        print(
            f"{name:<14} {result.requests_per_second:>10.0f} {result.p50_ms:>8.2f} "
            f"{result.p99_ms:>8.2f} {result.errors:>7} {result.requests_per_second / plain:>6.2f}"
        )


if __name__ == "__main__":
    main()
