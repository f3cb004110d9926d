"""One of several processes that share a Redis rate limit; prints how many requests it got through.

Run as ``python -m tests.ratelimit.burst_worker URL PREFIX LIMIT REQUESTS ALGORITHM``.
"""

from __future__ import annotations

import asyncio
import json
import sys

from tests.auth.support import Gate, gateway_config

CONCURRENCY = 50  # requests in flight at once in this process


async def burst(url: str, prefix: str, limit: int, requests: int, algorithm: str) -> dict[str, int]:
    policy = {
        "rate_limit": {
            "store": "redis",
            "redis_url": url,
            "key_prefix": prefix,
            "redis_timeout_seconds": 2,
            "algorithm": algorithm,
            "limits": [
                {
                    "id": "shared",
                    "key": ["tenant"],
                    "windows": [{"requests": limit, "per_seconds": 3600}],
                }
            ],
        }
    }
    gate = Gate(gateway_config(policy))
    counts = {"admitted": 0, "rejected": 0}
    # Tell the parent this process is set up, then wait for its signal so the bursts overlap.
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    queue = iter(range(requests))

    async def client() -> None:
        for _ in queue:
            verdict, _ = await gate.request()
            counts["rejected" if verdict.reject else "admitted"] += 1

    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    await gate.close()
    return counts


if __name__ == "__main__":
    url, prefix, limit, requests, algorithm = sys.argv[1:6]
    print(json.dumps(asyncio.run(burst(url, prefix, int(limit), int(requests), algorithm))))
