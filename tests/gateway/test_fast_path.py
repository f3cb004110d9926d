"""The callback-driven path: requests without a body, on routes without stages, over a
pooled upstream connection.

Each test first sends one request so that the gateway keeps an idle upstream
connection. The requests after it go through the fast path, as the
connection number in the upstream's ``/echo`` responses shows. The cases where the
fast path hands an exchange to the general path are tested on the same
client connection, followed by a request that must still be served.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import RawResponse, connect, is_closed, read_response, request
from tests.support.gateway import GatewayProcess, service_config
from tests.support.upstream import TestUpstream

Start = Callable[..., GatewayProcess]


@pytest.fixture
def start_gateway(tmp_path: Path) -> Iterator[Start]:
    """Start gateways with a given config; every one is stopped after the test."""
    started: list[GatewayProcess] = []

    def start(config: dict[str, Any]) -> GatewayProcess:
        folder = tmp_path / f"gateway-{len(started)}"
        folder.mkdir()
        process = GatewayProcess(config, folder)
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()


def get(path: str, extra: str = "", method: str = "GET", version: str = "1.1") -> bytes:
    return f"{method} {path} HTTP/{version}\r\nHost: api.test\r\n{extra}\r\n".encode()


def one_target(upstream: TestUpstream, **upstream_settings: Any) -> dict[str, Any]:
    config = service_config([upstream.address])
    config["tenants"][0]["services"][0]["upstream"].update(upstream_settings)
    return config


def access_records(gateway: GatewayProcess, count: int) -> list[dict[str, Any]]:
    """Return the access log records once ``count`` lines are written (within 5 s)."""
    path = Path(gateway.config["access_log"]["path"])
    deadline = time.monotonic() + 5
    lines: list[str] = []
    while time.monotonic() < deadline:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count:
            break
        time.sleep(0.05)
    return [json.loads(line) for line in lines]


def test_pooled_request_sends_same_head(start_gateway: Start, upstream: TestUpstream) -> None:
    gateway = start_gateway(one_target(upstream))
    with connect(gateway.port) as sock:
        for _ in range(2):
            sock.sendall(get("/echo?x=1", "X-Request-Id: same-id\r\nAccept: */*\r\n"))
            response = read_response(sock)
            assert response.status == 200
            assert response.headers["x-request-id"] == "same-id"
    first, second = upstream.requests
    assert second.connection_id == first.connection_id
    assert second.raw_head == first.raw_head


def test_pooled_request_access_line(start_gateway: Start, upstream: TestUpstream) -> None:
    gateway = start_gateway(one_target(upstream))
    with connect(gateway.port) as sock:
        for number in range(2):
            sock.sendall(get("/echo", f"X-Request-Id: log-{number}\r\n"))
            assert read_response(sock).status == 200
    first, second = access_records(gateway, 2)
    assert "upstream_connect_ms" in first
    assert "upstream_connect_ms" not in second
    for varying in ("time", "request_id", "duration_ms", "upstream_ms", "upstream_connect_ms"):
        first.pop(varying, None)
        second.pop(varying, None)
    assert second == first


def test_pipelined_requests_in_order(start_gateway: Start, upstream: TestUpstream) -> None:
    gateway = start_gateway(one_target(upstream))
    with connect(gateway.port) as sock:
        sock.sendall(get("/echo?n=0"))
        assert read_response(sock).status == 200
        sock.sendall(get("/echo?n=1") + get("/echo?n=2") + get("/echo?n=3"))
        targets = [read_response(sock).json()["target"] for _ in range(3)]
    assert targets == ["/echo?n=1", "/echo?n=2", "/echo?n=3"]


def test_head_split_across_sends(start_gateway: Start, upstream: TestUpstream) -> None:
    gateway = start_gateway(one_target(upstream))
    with connect(gateway.port) as sock:
        sock.sendall(get("/echo"))
        assert read_response(sock).status == 200
        data = get("/echo?split=1", "X-Note: split\r\n")
        for offset in range(0, len(data), 7):
            sock.sendall(data[offset : offset + 7])
            time.sleep(0.01)
        response = read_response(sock)
    assert response.status == 200
    assert response.json()["target"] == "/echo?split=1"


def test_chunked_body_then_plain_request(start_gateway: Start, upstream: TestUpstream) -> None:
    gateway = start_gateway(one_target(upstream))
    payload = os.urandom(200_000)
    with connect(gateway.port) as sock:
        sock.sendall(get("/echo"))
        assert read_response(sock).status == 200
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        for offset in range(0, len(payload), 50_000):
            part = payload[offset : offset + 50_000]
            sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        sock.sendall(b"0\r\n\r\n")
        posted = read_response(sock)
        sock.sendall(get("/echo?after=1"))
        after = read_response(sock)
    assert posted.status == 200
    assert posted.json()["body_sha256"] == hashlib.sha256(payload).hexdigest()
    assert after.json()["target"] == "/echo?after=1"


def test_large_length_body_then_plain_request(
    start_gateway: Start, upstream: TestUpstream
) -> None:
    gateway = start_gateway(one_target(upstream))
    payload = os.urandom(1_000_000)
    with connect(gateway.port) as sock:
        sock.sendall(get("/echo"))
        assert read_response(sock).status == 200
        sock.sendall(
            b"PUT /echo HTTP/1.1\r\nHost: api.test\r\n"
            + f"Content-Length: {len(payload)}\r\n\r\n".encode()
        )
        sock.sendall(payload)
        put = read_response(sock)
        sock.sendall(get("/echo?after=1"))
        after = read_response(sock)
    assert put.status == 200
    assert put.json()["body_length"] == len(payload)
    assert put.json()["body_sha256"] == hashlib.sha256(payload).hexdigest()
    assert after.json()["target"] == "/echo?after=1"


def test_streamed_response_then_plain_request(
    start_gateway: Start, upstream: TestUpstream
) -> None:
    gateway = start_gateway(one_target(upstream))
    with connect(gateway.port) as sock:
        sock.sendall(get("/echo"))
        first = read_response(sock).json()
        sock.sendall(get("/big?bytes=700000"))
        big = read_response(sock)
        sock.sendall(get("/echo?after=1"))
        after = read_response(sock).json()
    assert big.status == 200
    assert big.body == b"x" * 700_000
    assert big.headers["transfer-encoding"] == "chunked"
    assert after["target"] == "/echo?after=1"
    assert after["connection"] == first["connection"]


def test_head_204_and_304_responses(start_gateway: Start, upstream: TestUpstream) -> None:
    gateway = start_gateway(one_target(upstream))
    with connect(gateway.port) as sock:
        sock.sendall(get("/echo"))
        assert read_response(sock).status == 200
        sock.sendall(get("/echo", method="HEAD"))
        head = read_response(sock, head_request=True)
        sock.sendall(get("/status/204"))
        no_content = read_response(sock)
        sock.sendall(get("/status/304"))
        not_modified = read_response(sock)
        sock.sendall(get("/echo?after=1"))
        after = read_response(sock)
    assert head.status == 200
    assert int(head.headers["content-length"]) > 0
    assert no_content.status == 204
    assert "content-length" not in no_content.headers
    assert not_modified.status == 304
    assert after.json()["target"] == "/echo?after=1"


def test_http10_client_closed_after_response(
    start_gateway: Start, upstream: TestUpstream
) -> None:
    gateway = start_gateway(one_target(upstream))
    assert request(gateway.port, get("/echo")).status == 200
    with connect(gateway.port) as sock:
        sock.sendall(get("/echo?old=1", version="1.0"))
        response = read_response(sock)
        assert is_closed(sock)
    assert response.status == 200
    assert response.json()["target"] == "/echo?old=1"
    assert response.headers["connection"] == "close"


def test_idle_client_closed_after_idle_timeout(
    start_gateway: Start, upstream: TestUpstream
) -> None:
    config = one_target(upstream)
    config["limits"] = {"idle_timeout": 0.5}
    gateway = start_gateway(config)
    with connect(gateway.port) as sock:
        sock.sendall(get("/echo"))
        assert read_response(sock).status == 200
        sock.sendall(get("/echo"))
        assert read_response(sock).status == 200
        assert is_closed(sock, timeout=5)


def test_pooled_upstream_timeout_gives_504(start_gateway: Start, upstream: TestUpstream) -> None:
    gateway = start_gateway(one_target(upstream, read_timeout=0.3))
    with connect(gateway.port) as sock:
        sock.sendall(get("/echo"))
        assert read_response(sock).status == 200
        sock.sendall(get("/slow?ms=2000"))
        timed_out = read_response(sock)
        sock.sendall(get("/echo?after=1"))
        after = read_response(sock)
    assert timed_out.status == 504
    assert timed_out.json()["error"] == "gateway_timeout"
    assert after.json()["target"] == "/echo?after=1"


def test_pooled_reset_without_retry_gives_502(
    start_gateway: Start, upstream: TestUpstream
) -> None:
    gateway = start_gateway(one_target(upstream))
    with connect(gateway.port) as sock:
        sock.sendall(get("/echo"))
        assert read_response(sock).status == 200
        sock.sendall(get("/reset", method="POST"))
        reset = read_response(sock)
    assert reset.status == 502
    assert [seen.target for seen in upstream.requests] == ["/echo", "/reset"]


def test_client_gone_mid_response(start_gateway: Start, upstream: TestUpstream) -> None:
    gateway = start_gateway(one_target(upstream))
    with connect(gateway.port) as sock:
        sock.sendall(get("/echo"))
        assert read_response(sock).status == 200
        sock.sendall(get("/big?bytes=20000000"))
        assert sock.recv(1024).startswith(b"HTTP/1.1 200 ")
    response = request(gateway.port, get("/echo?after=1"))
    assert response.json()["target"] == "/echo?after=1"
    records = access_records(gateway, 3)
    paths = [record["path"] for record in records]
    assert paths == ["/echo", "/big?bytes=20000000", "/echo?after=1"]


class ClosingUpstream:
    """An upstream that responds to the first request of a connection and closes at the second.

    Its first response does not announce the close, so the gateway pools the
    connection and sends the next request over it.
    """

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.heads: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                body = b'{"connection":%d}' % self.connections
                if self._read_head(conn):
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                    )
                    self._read_head(conn)

    def _read_head(self, conn: socket.socket) -> bool:
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            received += chunk
        self.heads.append(received)
        return True

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def closing_upstream() -> Iterator[ClosingUpstream]:
    server = ClosingUpstream()
    yield server
    server.close()


def _send_in_turn(port: int, requests: list[bytes]) -> list[RawResponse]:
    """Send ``requests`` one after another on one connection and return the responses."""
    responses = []
    with connect(port) as sock:
        for raw in requests:
            sock.sendall(raw)
            responses.append(read_response(sock))
    return responses


def test_stale_pooled_connection_retried(
    start_gateway: Start, closing_upstream: ClosingUpstream
) -> None:
    config = service_config([f"127.0.0.1:{closing_upstream.port}"])
    gateway = start_gateway(config)
    first, second, third = _send_in_turn(
        gateway.port, [get("/first"), get("/second"), get("/third")]
    )
    assert first.json() == {"connection": 1}
    assert second.status == 200
    assert second.json() == {"connection": 2}
    assert third.json() == {"connection": 3}
    # Each connection got its first request and, before closing, the next one.
    assert len(closing_upstream.heads) == 5


def test_stale_retry_uses_no_retries(
    start_gateway: Start, closing_upstream: ClosingUpstream
) -> None:
    config = service_config([f"127.0.0.1:{closing_upstream.port}"])
    config["tenants"][0]["services"][0]["upstream"]["retries"] = 0
    gateway = start_gateway(config)
    first, second = _send_in_turn(gateway.port, [get("/first"), get("/second")])
    assert first.json() == {"connection": 1}
    assert second.json() == {"connection": 2}


def test_stale_connection_post_not_retried(
    start_gateway: Start, closing_upstream: ClosingUpstream
) -> None:
    config = service_config([f"127.0.0.1:{closing_upstream.port}"])
    gateway = start_gateway(config)
    post = get("/second", "Content-Length: 2\r\n", method="POST") + b"{}"
    first, second = _send_in_turn(gateway.port, [get("/first"), post])
    assert first.json() == {"connection": 1}
    assert second.status == 502
    assert second.json()["error"] == "bad_gateway"
    assert len(closing_upstream.heads) == 2


# Routes whose stages are all synchronous -------------------------------------

CARD = "4111 1111 1111 1111"  # a test card number, valid by the Luhn check


def staged_target(upstream: TestUpstream, policy: dict[str, Any]) -> dict[str, Any]:
    config = one_target(upstream)
    config["tenants"][0]["services"][0]["policy"] = policy
    return config


def test_request_stage_rejects_on_callbacks(start_gateway: Start, upstream: TestUpstream) -> None:
    config = staged_target(upstream, {})
    config["tenants"][0]["services"][0]["routes"] = [
        {"id": "closed", "path": "/closed/{item}",
         "policy": {"access": {"ip_deny": ["127.0.0.0/8"]}}},
        {"id": "open", "path": "/{rest}"},
    ]
    gateway = start_gateway(config)
    with connect(gateway.port) as sock:
        sock.sendall(get("/echo"))
        first = read_response(sock).json()
        sock.sendall(get("/closed/1"))
        denied = read_response(sock)
        sock.sendall(get("/echo"))
        after = read_response(sock).json()
    assert denied.status == 403
    assert after["connection"] == first["connection"]
    assert [item.target for item in upstream.requests] == ["/echo", "/echo"]


def test_response_body_stage_masks_on_callbacks(
    start_gateway: Start, upstream: TestUpstream
) -> None:
    policy = {"protection": {"leaks": {"mask_classes": ["credit-card"]}}}
    gateway = start_gateway(staged_target(upstream, policy))
    with connect(gateway.port) as sock:
        sock.sendall(get("/echo"))
        first = read_response(sock).json()
        sock.sendall(get("/echo", f"X-Card: {CARD}\r\n"))
        masked = read_response(sock)
        sock.sendall(get("/echo?after=1"))
        after = read_response(sock).json()
    assert masked.status == 200
    assert CARD not in masked.body.decode()
    assert int(masked.headers["content-length"]) == len(masked.body)
    echoed = dict(masked.json()["headers"])
    assert echoed["X-Card"].endswith("1111")
    assert echoed["X-Card"] != CARD
    assert masked.json()["connection"] == first["connection"]
    assert after["target"] == "/echo?after=1"


def test_response_body_stage_blocks_on_callbacks(
    start_gateway: Start, upstream: TestUpstream
) -> None:
    policy = {"protection": {"leaks": {"block_classes": ["credit-card"]}}}
    gateway = start_gateway(staged_target(upstream, policy))
    with connect(gateway.port) as sock:
        sock.sendall(get("/echo"))
        assert read_response(sock).status == 200
        sock.sendall(get("/echo", f"X-Card: {CARD}\r\n"))
        withheld = read_response(sock)
        sock.sendall(get("/echo?after=1"))
        after = read_response(sock)
    assert withheld.status == 502
    assert CARD not in withheld.body.decode()
    assert after.status == 200
    assert after.json()["target"] == "/echo?after=1"


def test_split_response_body_uses_task(
    start_gateway: Start, upstream: TestUpstream
) -> None:
    """A body that arrives after its head is buffered by the general path, then checked."""
    policy = {"protection": {"leaks": {"mask_classes": ["credit-card"]}}}
    gateway = start_gateway(staged_target(upstream, policy))
    with connect(gateway.port) as sock:
        sock.sendall(get("/echo"))
        first = read_response(sock).json()
        sock.sendall(get("/split?ms=100", f"X-Card: {CARD}\r\n"))
        masked = read_response(sock)
        sock.sendall(get("/echo?after=1"))
        after = read_response(sock).json()
    assert masked.status == 200
    assert CARD not in masked.body.decode()
    assert masked.json()["connection"] == first["connection"]
    assert after["target"] == "/echo?after=1"
    assert after["connection"] == first["connection"]


def json_post(path: str, payload: bytes) -> bytes:
    """Return a POST of ``payload`` as JSON, head and body in one piece."""
    head = (f"POST {path} HTTP/1.1\r\nHost: api.test\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n")
    return head.encode() + payload


def test_small_body_on_callbacks(start_gateway: Start, upstream: TestUpstream) -> None:
    gateway = start_gateway(one_target(upstream))
    payload = b'{"item": 42, "quantity": 2}'
    with connect(gateway.port) as sock:
        sock.sendall(get("/echo"))
        first = read_response(sock).json()
        sock.sendall(json_post("/echo", payload))
        posted = read_response(sock).json()
        sock.sendall(get("/echo?after=1"))
        after = read_response(sock).json()
    assert posted["body_sha256"] == hashlib.sha256(payload).hexdigest()
    assert posted["connection"] == first["connection"]
    assert after["target"] == "/echo?after=1"
    records = access_records(gateway, 3)
    assert records[1]["bytes_in"] >= len(payload)


def test_body_stage_rejects_on_callbacks(start_gateway: Start, upstream: TestUpstream) -> None:
    """A request-body stage gets a body that came with its head and can reject it."""
    policy = {"protection": {"ssrf": {}}}
    gateway = start_gateway(staged_target(upstream, policy))
    payload = b'{"callback": "http://127.0.0.1:22/"}'
    with connect(gateway.port) as sock:
        sock.sendall(get("/echo"))
        assert read_response(sock).status == 200
        sock.sendall(json_post("/echo", payload))
        rejected = read_response(sock)
    assert rejected.status == 400
    assert "destination" in rejected.json()["message"]
    assert [item.target for item in upstream.requests] == ["/echo"]
