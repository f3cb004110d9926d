"""Plain reverse proxy benchmark: nginx and Stockade in front of the same nginx upstream.

Usage: .venv/bin/python bench/gateway.py [--seconds 10] [--rounds 3] [--connections 50]

Both proxies run one worker, keep-alive on both sides, and write an access
log. The upstream is nginx returning a small JSON body. Rounds alternate
between the proxies; the table shows medians and the Stockade/nginx ratio.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    WrkResult,
    free_port,
    machine_line,
    median_result,
    nginx,
    stockade,
    wait_for_port,
    wrk,
)

UPSTREAM_BODY = '{"id":42,"name":"widget","price":9.5,"tags":["a","b"]}'


def upstream_block(port: int) -> str:
    return f"""
    server {{
        listen 127.0.0.1:{port};
        location / {{
            default_type application/json;
            return 200 '{UPSTREAM_BODY}';
        }}
    }}"""


def proxy_block(port: int, upstream_port: int, log_dir: str) -> str:
    return f"""
    upstream backend {{ server 127.0.0.1:{upstream_port}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        access_log {log_dir}/access.log combined buffer=64k flush=1s;
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
        }}
    }}"""


def stockade_config(upstream_port: int) -> dict[str, object]:
    return {
        "tenants": [
            {
                "id": "bench",
                "services": [
                    {
                        "id": "api",
                        "hosts": ["127.0.0.1", "localhost"],
                        "upstream": {"targets": [f"127.0.0.1:{upstream_port}"]},
                        "routes": [{"id": "item", "methods": ["GET"], "path": "/items/{itemId}"}],
                    }
                ],
            }
        ],
    }


def run(seconds: int, rounds: int, connections: int) -> dict[str, WrkResult]:
    upstream_port, nginx_port, stockade_port = free_port(), free_port(), free_port()
    results: dict[str, list[WrkResult]] = {"nginx": [], "stockade": []}
    with nginx(upstream_block(upstream_port)):
        wait_for_port(upstream_port)
        with (
            nginx(proxy_block(nginx_port, upstream_port, "/tmp")) as _,
            stockade(stockade_config(upstream_port), stockade_port),
        ):
            wait_for_port(nginx_port)
            for port in (nginx_port, stockade_port):
                wrk(
                    f"http://127.0.0.1:{port}/items/1", seconds=2, connections=connections
                )  # warm-up
            for _ in range(rounds):
                for name, port in (("nginx", nginx_port), ("stockade", stockade_port)):
                    results[name].append(
                        wrk(
                            f"http://127.0.0.1:{port}/items/42",
                            seconds=seconds,
                            connections=connections,
                        )
                    )
    return {name: median_result(values) for name, values in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="Duration of each wrk run.")
    parser.add_argument("--rounds", type=int, default=3, help="Alternating rounds per proxy.")
    parser.add_argument("--connections", type=int, default=50, help="Concurrent wrk connections.")
    args = parser.parse_args()
    medians = run(args.seconds, args.rounds, args.connections)
    print(f"machine: {machine_line()}")
    print(f"{'proxy':<10} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, result in medians.items():
        print(
            f"{name:<10} {result.requests_per_second:>10.0f} {result.p50_ms:>8.2f} "
            f"{result.p99_ms:>8.2f} {result.errors:>7}"
        )
    ratio = medians["stockade"].requests_per_second / medians["nginx"].requests_per_second
    print(f"ratio stockade/nginx throughput: {ratio:.2f}")


if __name__ == "__main__":
    main()
