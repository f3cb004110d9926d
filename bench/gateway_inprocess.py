"""Python CPU time per request of the callback path, measured in-process without sockets.

Usage: PYTHONPATH=src .venv/bin/python bench/gateway_inprocess.py [--requests 10000] [--batches 7]
       [--waf] [--varied] [--gc]

One worker with the config of bench/gateway.py gets a client connection and
a pooled upstream connection whose transports only collect what is written.
Each request feeds wrk's request head to the client side and an nginx
response to the upstream side. The gateway parses, routes, forwards, relays
and records the access line and metrics as it does under wrk, but no socket
is read or written. The access log file is flushed every 1000 requests.
The result is the process CPU time per request, the minimum and the median
over batches. It moves much less with other load on the machine than wrk's
throughput does, but it leaves out the event loop and the kernel.

With --waf, the config and the request are those of bench/waf.py's plain
API GET: the CRS from /usr/share/modsecurity-crs at paranoia level 1 in
block mode, and no access log. That measures the whole worker path of a
WAF request, of which bench/waf_mypyc.py times only the engine. With
--varied as well, each request is one of bench/waf.py's varied GETs: a new
item id, query values and request id every time. They are made before the
timing starts. --gc adds the garbage collector's runs, wall time per
request and longest pause, by generation, during the timed batches.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import waf
from gateway import UPSTREAM_BODY, stockade_config

from stockade.config.loader import load_config
from stockade.gateway.server import ClientConnection
from stockade.gateway.upstream import UpstreamConnection
from stockade.gateway.worker import YOUNG_COLLECTION_ALLOCATIONS, Worker

LISTEN_ADDRESS = "127.0.0.1:8080"
UPSTREAM_PORT = 9
"""Never connected to: the upstream connection is made by hand and pooled."""

REQUEST = b"GET /items/42 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
WAF_REQUEST = (
    b"GET /api/items/42?fields=name,price HTTP/1.1\r\nHost: localhost\r\n"
    b"User-Agent: stockade-bench/1.0\r\nAccept: application/json\r\n\r\n"
)
"""wrk's request for bench/waf.py's plain API GET."""
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sat, 05 Dec 2026 06:50:00 GMT\r\n"
    b"Content-Type: application/json\r\nContent-Length: %d\r\nConnection: keep-alive\r\n\r\n%s"
    % (len(UPSTREAM_BODY), UPSTREAM_BODY.encode())
)
FLUSH_EVERY = 1000
"""Requests between access log flushes (the timer that flushes it never runs here)."""


class CollectingTransport:
    """A transport that keeps what is written and never touches a socket."""

    def __init__(self, peer: tuple[str, int]) -> None:
        self.peer = peer
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.peer if name == "peername" else default

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def varied_request(number: int) -> bytes:
    """Return bench/waf.py's varied GET number ``number``, as its wrk script makes it."""
    target = f"/api/items/{number}?page={number % 97}&fields=name,price&q=item{number * 7}"
    request_id = f"{number * 2654435761 % 4294967296:08x}-{number}"
    return (
        f"GET {target} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: stockade-bench/1.0\r\n"
        f"Accept: application/json\r\nX-Request-Id: {request_id}\r\n\r\n"
    ).encode()


class CollectionTimes:
    """Runs of the garbage collector and their wall time, by generation, while registered
    in gc.callbacks."""

    def __init__(self) -> None:
        self.runs = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self.longest = [0.0, 0.0, 0.0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        elapsed = time.perf_counter() - self._started
        generation = info["generation"]
        self.runs[generation] += 1
        self.seconds[generation] += elapsed
        self.longest[generation] = max(self.longest[generation], elapsed)

    def report(self, requests: int) -> str:
        lines = ["garbage collection during the batches:"]
        for generation in range(3):
            lines.append(
                f"  generation {generation}: {self.runs[generation]} runs, "
                f"{self.seconds[generation] / requests * 1e6:.1f} us per request, "
                f"longest {self.longest[generation] * 1e3:.1f} ms"
            )
        return "\n".join(lines)


async def measure(requests: int, batches: int, with_waf: bool,
                  varied: bool = False, collections: CollectionTimes | None = None) -> list[float]:
    """Return the CPU microseconds per request of each batch."""
    folder = Path(tempfile.mkdtemp(prefix="stockade-inprocess-"))
    request = WAF_REQUEST if with_waf else REQUEST
    # One request per relay, made in advance: the warm-up's, then each batch's.
    sent = ([varied_request(number) for number in range(1, FLUSH_EVERY + requests * batches + 1)]
            if varied else [])
    if with_waf:
        if not waf.CRS_DIR.is_dir():
            sys.exit(f"--waf needs the CRS in {waf.CRS_DIR}; run scripts/system-packages --bench")
        config = waf.stockade_config(UPSTREAM_PORT)
    else:
        config = stockade_config(UPSTREAM_PORT, None)
        config["access_log"] = {"path": str(folder / "access.log")}
    config["listeners"] = [{"name": "public", "address": LISTEN_ADDRESS}]
    path = folder / "stockade.yaml"
    path.write_text(yaml.safe_dump(config))
    worker = Worker(str(path), load_config(str(path)))

    client = ClientConnection(worker, False)
    client_transport = CollectingTransport(("127.0.0.1", 40000))
    client.connection_made(client_transport)  # type: ignore[arg-type]
    pool = next(iter(worker.runtime.pools.values()))
    upstream = UpstreamConnection(pool.targets[0])
    upstream_transport = CollectingTransport(("127.0.0.1", UPSTREAM_PORT))
    upstream.connection_made(upstream_transport)  # type: ignore[arg-type]
    pool.targets[0].idle.append(upstream)

    position = 0

    def relay(count: int) -> None:
        nonlocal position
        for number in range(count):
            if sent:
                client.data_received(sent[position])
                position += 1
            else:
                client.data_received(request)
            upstream.data_received(RESPONSE)
            if number % FLUSH_EVERY == 0:
                client_transport.written.clear()
                upstream_transport.written.clear()
                worker.access_log.flush()

    relay(FLUSH_EVERY)  # warm-up
    last = client_transport.written[-1] if client_transport.written else b""
    if not last.startswith(b"HTTP/1.1 200 "):
        raise RuntimeError(
            f"the callback path did not relay the response; the client got {last[:200]!r}"
        )
    gc.collect()
    gc.freeze()  # as the worker does after loading its config
    gc.set_threshold(YOUNG_COLLECTION_ALLOCATIONS)
    results = []
    if collections is not None:
        gc.callbacks.append(collections)
    for _ in range(batches):
        started = time.process_time()
        relay(requests)
        results.append((time.process_time() - started) / requests * 1e6)
    if collections is not None:
        gc.callbacks.remove(collections)
    worker.access_log.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=10000, help="Requests per batch.")
    parser.add_argument("--batches", type=int, default=7, help="Batches measured.")
    parser.add_argument(
        "--waf", action="store_true", help="Run bench/waf.py's CRS config and plain API GET."
    )
    parser.add_argument(
        "--varied", action="store_true", help="With --waf, send bench/waf.py's varied GETs."
    )
    parser.add_argument(
        "--gc", action="store_true", help="Also report the garbage collector's runs and time."
    )
    args = parser.parse_args()
    if args.varied and not args.waf:
        parser.error("--varied needs --waf")
    collections = CollectionTimes() if args.gc else None
    results = uvloop.run(
        measure(args.requests, args.batches, args.waf, args.varied, collections)
    )
    print(
        f"CPU per request: min {min(results):.1f} us, median {statistics.median(results):.1f} us "
        f"({args.batches} batches of {args.requests})"
    )
    if collections is not None:
        print(collections.report(args.requests * args.batches))


if __name__ == "__main__":
    main()
