"""Gateway benchmark with OpenAPI enforcement and BOLA tracking on, against the plain proxy.

Usage: .venv/bin/python bench/protection.py [--seconds 10] [--rounds 3] [--connections 50]
                                           [--state memory|redis]

Two Stockade gateways (one worker each) run side by side in front of the
same nginx upstream, which returns a small JSON item. "plain" proxies only.
"protected" also matches every request to the service's OpenAPI document,
validates its path parameter and checks the JSON response for undeclared
properties. It runs BOLA too: the returned item id is filed under the caller
that the bearer token's subject names, and the requested id is checked
against it. Rounds alternate; the table shows medians and the throughput ratio of
protected to plain. With --state redis the BOLA state lives in the local
Redis on 127.0.0.1:6379.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import yaml
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

UPSTREAM_BODY = '{"id":42,"name":"widget","price":9.5,"tags":["a","b"]}'
ITEM_PATH = "/items/42"

OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "bench", "version": "1"},
    "paths": {
        "/items/{itemId}": {
            "get": {
                "parameters": [
                    {
                        "name": "itemId",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "the item",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Item"}}
                        },
                    }
                },
            }
        }
    },
    "components": {
        "schemas": {
            "Item": {
                "type": "object",
                "required": ["id", "name", "price"],
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "price": {"type": "number"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
            }
        }
    },
}


def bearer_token() -> str:
    """Return an HS256-shaped token, never verified, whose subject names the benchmark caller."""

    def segment(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{segment({'alg': 'HS256', 'typ': 'JWT'})}.{segment({'sub': 'bench-user'})}.c2ln"


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


def gateway_config(upstream_port: int, openapi_path: Path | None, state: str) -> dict[str, object]:
    service: dict[str, object] = {
        "id": "api",
        "hosts": ["127.0.0.1", "localhost"],
        "upstream": {"targets": [f"127.0.0.1:{upstream_port}"]},
    }
    if openapi_path is not None:
        state_section: dict[str, object] = {"store": state}
        if state == "redis":
            state_section["key_prefix"] = "stockade-bench:" + uuid.uuid4().hex[:8]
        service["openapi"] = str(openapi_path)
        service["policy"] = {
            "protection": {
                "state": state_section,
                "identity": {"jwt_claim": "sub"},
                "openapi": {},
                "bola": {},
            }
        }
    return {"tenants": [{"id": "bench", "services": [service]}]}


def run(seconds: int, rounds: int, connections: int, state: str) -> dict[str, WrkResult]:
    upstream_port, plain_port, protected_port = (free_port() for _ in range(3))
    folder = Path(tempfile.mkdtemp(prefix="stockade-bench-protection-"))
    openapi_path = folder / "openapi.yaml"
    openapi_path.write_text(yaml.safe_dump(OPENAPI))
    headers = [f"Authorization: Bearer {bearer_token()}"]
    results: dict[str, list[WrkResult]] = {"plain": [], "protected": []}
    with nginx(upstream_block(upstream_port)):
        wait_for_port(upstream_port)
        with (
            stockade(gateway_config(upstream_port, None, state), plain_port),
            stockade(gateway_config(upstream_port, openapi_path, state), protected_port),
        ):
            ports = {"plain": plain_port, "protected": protected_port}
            for port in ports.values():  # warm-up: connections, and BOLA learns the item
                wrk(f"http://127.0.0.1:{port}{ITEM_PATH}", seconds=2, connections=connections,
                    headers=headers)
            for _ in range(rounds):
                for name, port in ports.items():
                    results[name].append(
                        wrk(f"http://127.0.0.1:{port}{ITEM_PATH}", seconds=seconds,
                            connections=connections, headers=headers)
                    )
    return {name: median_result(values) for name, values in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="Duration of each wrk run.")
    parser.add_argument("--rounds", type=int, default=3, help="Alternating rounds per gateway.")
    parser.add_argument("--connections", type=int, default=50, help="Concurrent wrk connections.")
    parser.add_argument("--state", choices=["memory", "redis"], default="memory",
                        help="Where the BOLA state lives.")
    args = parser.parse_args()
    medians = run(args.seconds, args.rounds, args.connections, args.state)
    print(
        f"machine: {machine_line()}; {stockade_build()}; state {args.state}; "
        f"{args.rounds} rounds of {args.seconds}s, {args.connections} connections, medians"
    )
    print(f"{'gateway':<10} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, result in medians.items():
        print(
            f"{name:<10} {result.requests_per_second:>10.0f} {result.p50_ms:>8.2f} "
            f"{result.p99_ms:>8.2f} {result.errors:>7}"
        )
    ratio = medians["protected"].requests_per_second / medians["plain"].requests_per_second
    print(f"ratio protected/plain: {ratio:.2f}")


if __name__ == "__main__":
    main()
