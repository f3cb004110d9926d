"""Cost of DDoS baseline tracking on the plain-proxy benchmark.

Usage: .venv/bin/python bench/ddos_baseline.py [--seconds 10] [--rounds 3] [--connections 50]
                                               [--redis]

Two Stockade gateways, one worker each, proxy the same nginx upstream as
bench/gateway.py: one plain, one with a ``ddos`` policy on the service.
The policy's rate floor is set out of reach, so no surge starts and no
request is shed: what is measured is the work every request pays (counting,
bucket closes, per-client rates, known sources, the log-phase observer).
With --redis the tracked gateway also sends its bucket totals to the Redis
on 127.0.0.1:6379 once per bucket. Rounds alternate; the table shows medians.

Because whole-proxy numbers on a shared machine move by more than the cost
measured, the script also times the same route's stages and log observer in
this process, without sockets, and prints microseconds per request.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

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
from gateway import stockade_config, upstream_block

from stockade.config.models import GatewayConfig
from stockade.ddos.observer import DdosObserver
from stockade.gateway.exchange import ClientInfo, Exchange
from stockade.gateway.pipeline import Phase
from stockade.gateway.plugins import build_registry
from stockade.gateway.routing import Resources, RouteTable
from stockade.http.fields import Fields
from stockade.http.messages import BodyFraming, RequestHead

UNREACHABLE_RATE_FLOOR = 1e12  # cost per second; keeps detection from ever tripping
IN_PROCESS_REQUESTS = 50_000  # requests per in-process timing run
IN_PROCESS_RUNS = 5
UNUSED_UPSTREAM_PORT = 9  # the in-process timing stops before any upstream is contacted


def tracked_config(upstream_port: int, redis: bool) -> dict[str, object]:
    config = stockade_config(upstream_port, None)
    ddos: dict[str, object] = {"detection": {"rate_floor": UNREACHABLE_RATE_FLOOR}}
    if redis:
        ddos.update(
            store="redis",
            redis_url="redis://127.0.0.1:6379/0",
            key_prefix=f"stockade-bench:{uuid.uuid4().hex[:8]}",
        )
    service = config["tenants"][0]["services"][0]  # type: ignore[index]
    service["policy"] = {"ddos": ddos}
    return config


async def time_in_process(config: dict[str, object]) -> float:
    """Return microseconds per request for routing, the request stages and the ddos observer."""
    resources = Resources()
    table = RouteTable(GatewayConfig.model_validate(config), build_registry(), resources)
    observer = DdosObserver(resources)
    started = time.perf_counter()
    for _ in range(IN_PROCESS_REQUESTS):
        fields = Fields([(b"Host", b"127.0.0.1")])
        head = RequestHead(b"GET", b"/items/42", b"1.1", fields, BodyFraming.NONE)
        exchange = Exchange("bench", ClientInfo("127.0.0.1", 40000, "127.0.0.1"), head)
        match = table.match("127.0.0.1", "GET", "/items/42")
        assert match is not None
        exchange.match = match
        if match.pipeline.has_phase(Phase.REQUEST_HEADERS):
            await match.pipeline.run(exchange, Phase.REQUEST_HEADERS)
        exchange.upstream_seconds = 0.001
        observer.observe(exchange)
    return (time.perf_counter() - started) / IN_PROCESS_REQUESTS * 1e6


def run(seconds: int, rounds: int, connections: int, redis: bool) -> dict[str, WrkResult]:
    upstream_port, plain_port, tracked_port = (free_port() for _ in range(3))
    results: dict[str, list[WrkResult]] = {"plain": [], "tracked": []}
    with nginx(upstream_block(upstream_port, None)):
        wait_for_port(upstream_port)
        with (
            stockade(stockade_config(upstream_port, None), plain_port),
            stockade(tracked_config(upstream_port, redis), tracked_port),
        ):
            ports = {"plain": plain_port, "tracked": tracked_port}
            for port in ports.values():  # warm-up: connections and the baseline's first buckets
                wrk(f"http://127.0.0.1:{port}/items/1", seconds=2, connections=connections)
            for _ in range(rounds):
                for name, port in ports.items():
                    results[name].append(
                        wrk(
                            f"http://127.0.0.1:{port}/items/42",
                            seconds=seconds,
                            connections=connections,
                        )
                    )
    return {name: median_result(values) for name, values in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="Duration of each wrk run.")
    parser.add_argument("--rounds", type=int, default=3, help="Alternating rounds per gateway.")
    parser.add_argument("--connections", type=int, default=50, help="Concurrent wrk connections.")
    parser.add_argument(
        "--redis", action="store_true", help="Share bucket totals in Redis on 127.0.0.1:6379."
    )
    args = parser.parse_args()
    medians = run(args.seconds, args.rounds, args.connections, args.redis)
    store = "Redis store" if args.redis else "memory store"
    print(
        f"machine: {machine_line()}; {stockade_build()}; {store}; "
        f"{args.rounds} rounds of {args.seconds}s, {args.connections} connections, medians"
    )
    print(f"{'gateway':<10} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, result in medians.items():
        print(
            f"{name:<10} {result.requests_per_second:>10.0f} {result.p50_ms:>8.2f} "
            f"{result.p99_ms:>8.2f} {result.errors:>7}"
        )
    ratio = medians["tracked"].requests_per_second / medians["plain"].requests_per_second
    print(f"ratio tracked/plain throughput: {ratio:.3f}")

    costs = {}
    for name, config in (
        ("plain", stockade_config(UNUSED_UPSTREAM_PORT, None)),
        ("tracked", tracked_config(UNUSED_UPSTREAM_PORT, args.redis)),
    ):
        runs = [asyncio.run(time_in_process(config)) for _ in range(IN_PROCESS_RUNS)]
        costs[name] = statistics.median(runs)
    print(
        f"in process, routing + stages + observer: plain {costs['plain']:.1f} us, "
        f"tracked {costs['tracked']:.1f} us per request "
        f"(+{costs['tracked'] - costs['plain']:.1f} us, median of {IN_PROCESS_RUNS} runs)"
    )


if __name__ == "__main__":
    main()
