"""Upstream concurrency limits and slow-request protection, through a real gateway."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tests.support.client import connect, is_closed, read_response, request
from tests.support.gateway import GatewayProcess, service_config
from tests.support.upstream import TestUpstream

Factory = Callable[..., GatewayProcess]


def test_concurrency_limit_sheds_with_503(gateway_factory: Factory, upstream: TestUpstream) -> None:
    config = service_config([upstream.address])
    config["tenants"][0]["services"][0]["upstream"].update(
        {"max_concurrent": 1, "queue_timeout": 0.2, "max_queue": 5}
    )
    gateway = gateway_factory(config)
    slow = b"GET /slow?ms=1500 HTTP/1.1\r\nHost: api.test\r\n\r\n"
    results: list[int] = []
    first = threading.Thread(target=lambda: results.append(request(gateway.port, slow).status))
    first.start()
    time.sleep(0.4)
    with connect(gateway.port) as sock:
        sock.sendall(b"GET /echo HTTP/1.1\r\nHost: api.test\r\n\r\n")
        shed = read_response(sock)
    first.join(10)
    assert results == [200]
    assert shed.status == 503
    assert shed.headers["retry-after"] == "1"
    assert shed.json()["error"] == "service_unavailable"
    assert request(gateway.port, b"GET /echo HTTP/1.1\r\nHost: api.test\r\n\r\n").status == 200


def test_queued_request_served_when_slot_frees(
    gateway_factory: Factory, upstream: TestUpstream
) -> None:
    config = service_config([upstream.address])
    config["tenants"][0]["services"][0]["upstream"].update(
        {"max_concurrent": 1, "queue_timeout": 5}
    )
    gateway = gateway_factory(config)
    slow = b"GET /slow?ms=500 HTTP/1.1\r\nHost: api.test\r\n\r\n"
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(request(gateway.port, slow).status))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert results == [200, 200, 200]


def test_slow_body_cut_off(gateway_factory: Factory, upstream: TestUpstream) -> None:
    config = service_config([upstream.address])
    config["limits"] = {"min_body_rate": 1000, "body_rate_grace": 0.5}
    gateway = gateway_factory(config)
    with connect(gateway.port) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: api.test\r\nContent-Length: 100000\r\n\r\n")
        started = time.monotonic()
        cut = False
        for _ in range(50):
            try:
                sock.sendall(b"x" * 10)
            except OSError:
                cut = True
                break
            time.sleep(0.1)
            if time.monotonic() - started > 3:
                break
        assert cut or is_closed(sock, timeout=3)
    assert all(item.method != "POST" for item in upstream.requests if item.body)


def test_whole_request_time_limited(gateway_factory: Factory, upstream: TestUpstream) -> None:
    config = service_config([upstream.address])
    config["limits"] = {"max_request_time": 1.0}
    gateway = gateway_factory(config)
    with connect(gateway.port) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: api.test\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(8):
            try:
                sock.sendall(b"y" * 20)
            except OSError:
                break
            time.sleep(0.25)
        response_or_close = is_closed(sock, timeout=3)
    assert response_or_close
