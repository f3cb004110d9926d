"""The scan client: it reaches the target origin only, within its limits."""

from __future__ import annotations

import asyncio

import pytest

from stockade.scanner.client import RateLimiter, ScanClient, Target, TargetError


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "127.0.0.1:9000", "http:///path",
                                 "http://user:pw@127.0.0.1/", "http://127.0.0.1:99999/"])
def test_target_parse_rejects(url: str) -> None:
    with pytest.raises(TargetError):
        Target.parse(url)


def test_target_parse_default_port_and_base_path() -> None:
    target = Target.parse("https://LOCALHOST/api/")
    assert (target.scheme, target.host, target.port, target.base_path) == (
        "https", "localhost", 443, "/api")


@pytest.mark.parametrize("url", [
    "http://127.0.0.2:9000/x",  # another host
    "http://127.0.0.1:9001/x",  # another port
    "https://127.0.0.1:9000/x",  # another scheme
    "http://localhost:9000/x",  # the same machine under another name
    "file:///etc/passwd",
])
def test_target_check_rejects_other_origins(url: str) -> None:
    with pytest.raises(TargetError, match=r"may only reach http://127\.0\.0\.1:9000"):
        Target.parse("http://127.0.0.1:9000").check(url)


def test_target_check_accepts_same_origin() -> None:
    target = Target.parse("http://127.0.0.1:80")
    target.check("http://127.0.0.1/anything?x=1")
    target.check("http://127.0.0.1:80/")


class _Server:
    """A loopback HTTP server that responds after a pause and counts requests in flight."""

    def __init__(self, pause: float = 0.05) -> None:
        self.pause = pause
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests: list[str] = []
        self.headers: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = await reader.readline()
        while (header := await reader.readline()) not in (b"\r\n", b""):
            self.headers.append(header.decode().strip().lower())
        self.requests.append(line.decode().strip())
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(self.pause)
        self.in_flight -= 1
        writer.write(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:1/\r\n"
                     b"Content-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()


async def test_client_refuses_other_origin_without_sending() -> None:
    server = _Server()
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    client = ScanClient(Target.parse(f"http://127.0.0.1:{port}"))
    try:
        with pytest.raises(TargetError):
            await client.send("GET", f"http://127.0.0.1:{port + 1}/x")
        reply = await client.send("GET", "/first")
    finally:
        await client.close()
        listener.close()
    assert server.requests == ["GET /first HTTP/1.1"]
    assert reply.status == 302  # the redirect to another host is not followed


async def test_client_bounds_concurrency() -> None:
    server = _Server()
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    client = ScanClient(Target.parse(f"http://127.0.0.1:{port}"), concurrency=2)
    try:
        await asyncio.gather(*(client.send("GET", f"/{index}") for index in range(8)))
    finally:
        await client.close()
        listener.close()
    assert len(server.requests) == 8
    assert server.max_in_flight <= 2
    assert client.stats.sent == 8


async def test_rate_limiter_spaces_requests() -> None:
    """With the clock standing still, each start waits one more interval than the last."""
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    limiter = RateLimiter(rate=50.0, clock=lambda: 100.0, sleep=record)
    for _ in range(4):
        await limiter.wait()
    assert [round(seconds, 3) for seconds in slept] == [0.02, 0.04, 0.06]


def test_rate_limiter_rejects_zero_rate() -> None:
    with pytest.raises(ValueError, match="invalid request rate"):
        RateLimiter(rate=0)


async def test_client_sends_extra_headers() -> None:
    server = _Server(pause=0)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    client = ScanClient(Target.parse(f"http://127.0.0.1:{port}"),
                        headers={"Host": "api.test", "X-Tenant": "acme"})
    try:
        await client.send("GET", "/", headers={"X-Tenant": "globex"})
    finally:
        await client.close()
        listener.close()
    assert "host: api.test" in server.headers
    assert "x-tenant: globex" in server.headers  # a request's own header wins


def test_blocked_scan_is_noted() -> None:
    from types import SimpleNamespace

    from stockade.scanner.client import RequestStats
    from stockade.scanner.runner import FORBIDDEN_STREAK_NOTED, _note_throttling

    notes: list[str] = []
    stats = RequestStats(sent=400, by_status={200: 200, 403: 200},
                         forbidden_streak=FORBIDDEN_STREAK_NOTED)
    _note_throttling(SimpleNamespace(client=SimpleNamespace(stats=stats),  # type: ignore[arg-type]
                                     note=notes.append))
    assert len(notes) == 1
    assert f"the last {FORBIDDEN_STREAK_NOTED} of 400 requests all got 403" in notes[0]
    stats.forbidden_streak = FORBIDDEN_STREAK_NOTED - 1  # 403s between successful responses
    notes.clear()
    _note_throttling(SimpleNamespace(client=SimpleNamespace(stats=stats),  # type: ignore[arg-type]
                                     note=notes.append))
    assert notes == []
