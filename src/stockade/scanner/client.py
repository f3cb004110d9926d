"""The scanner's HTTP client: one target origin, bounded rate and concurrency.

Every request goes through ``ScanClient.send``, which rejects any URL whose
scheme, host or port differ from the target base URL the user named, so
no check can reach another host, not even through a redirect: redirects
are never followed. The only other socket the scanner opens is its own
SSRF canary listener on loopback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 15.0
"""Time one request may take; longer than the longest time-based probe delay."""

MAX_RESPONSE_BYTES = 1024 * 1024
"""Response body bytes read per request; the rest is dropped to bound memory."""

DEFAULT_CONCURRENCY = 4
"""Requests in flight at once; low so that a scan does not load the target."""

DEFAULT_PORTS = {"http": 80, "https": 443}


class TargetError(ValueError):
    """A URL is outside the target the user named, or the target itself is invalid."""


class ScanRequestError(RuntimeError):
    """A request to the target failed at the transport level (refused, timed out, reset)."""


@dataclass(frozen=True, slots=True)
class Target:
    """The one origin a scan may reach, and the base path its API lives under."""

    scheme: str
    host: str
    port: int
    base_path: str

    @classmethod
    def parse(cls, base_url: str) -> Target:
        parts = urlsplit(base_url.strip())
        if parts.scheme not in DEFAULT_PORTS:
            raise TargetError(f"invalid target {base_url!r}: the scheme must be http or https")
        if not parts.hostname:
            raise TargetError(f"invalid target {base_url!r}: the host is missing")
        if parts.username or parts.password:
            raise TargetError(f"invalid target {base_url!r}: pass credentials as an auth "
                              "profile, not in the URL")
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError as exc:
            raise TargetError(f"invalid target {base_url!r}: {exc}") from None
        return cls(parts.scheme, parts.hostname.lower(), port, parts.path.rstrip("/"))

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def check(self, url: str) -> None:
        """Raise TargetError unless ``url`` has this target's scheme, host and port."""
        parts = urlsplit(url)
        try:
            port = parts.port or DEFAULT_PORTS.get(parts.scheme, -1)
        except ValueError:
            port = -1
        host = (parts.hostname or "").lower()
        if (parts.scheme, host, port) != (self.scheme, self.host, self.port):
            raise TargetError(f"request to {url!r} rejected: the scan may only reach "
                              f"{self.origin}")

    def url(self, path: str) -> str:
        """Return the absolute URL of ``path`` (which may carry a query) on this target."""
        if not path.startswith("/"):
            path = "/" + path
        return self.origin + path


@dataclass(frozen=True, slots=True)
class SentRequest:
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True, slots=True)
class Reply:
    """A request the scanner sent and the response it got, unredacted."""

    request: SentRequest
    status: int
    headers: httpx.Headers
    body: bytes
    elapsed: float

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def content_type(self) -> str:
        value: str = self.headers.get("content-type", "")
        return value.split(";")[0].strip().lower()

    def json(self) -> Any:
        """Parse the body as JSON; return None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass(slots=True)
class RequestStats:
    sent: int = 0
    failed: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    forbidden_streak: int = 0  # 403 responses in a row, up to the latest response


class RateLimiter:
    """Spaces request starts at least ``1 / rate`` seconds apart."""

    def __init__(self, rate: float | None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if rate is not None and rate <= 0:
            raise ValueError(f"invalid request rate {rate}; use a positive number of "
                             "requests per second")
        self._interval = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()
        self._clock = clock
        self._sleep = sleep

    async def wait(self) -> None:
        if not self._interval:
            return
        async with self._lock:
            now = self._clock()
            delay = self._next - now
            self._next = max(now, self._next) + self._interval
        if delay > 0:
            await self._sleep(delay)


class ScanClient:
    """Sends the scan's requests to its target, and only there."""

    def __init__(self, target: Target, *, rate: float | None = None,
                 concurrency: int = DEFAULT_CONCURRENCY,
                 timeout: float = DEFAULT_TIMEOUT_SECONDS, verify_tls: bool = True,
                 headers: dict[str, str] | None = None) -> None:
        if concurrency < 1:
            raise ValueError(f"invalid concurrency {concurrency}; use 1 or more")
        self.target = target
        self.stats = RequestStats()
        self._limiter = RateLimiter(rate)
        self._slots = asyncio.Semaphore(concurrency)
        # trust_env=False: proxy variables must not send the scan anywhere else.
        self._http = httpx.AsyncClient(timeout=timeout, verify=verify_tls, trust_env=False,
                                       follow_redirects=False)
        self._headers = dict(headers or {})  # sent with every request, e.g. a Host override

    async def close(self) -> None:
        await self._http.aclose()

    async def send(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                   params: list[tuple[str, str]] | None = None, json_body: Any = None,
                   content: bytes | None = None) -> Reply:
        """Send one request to ``path`` (relative to the target origin, or absolute).

        Raises TargetError for a URL outside the target and ScanRequestError
        when the request fails without a response.
        """
        url = path if "://" in path else self.target.url(path)
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        self.target.check(url)
        all_headers = {**self._headers, **(headers or {})}
        body = content or b""
        if json_body is not None:
            body = json.dumps(json_body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        request = self._http.build_request(method, url, headers=all_headers, content=body or None)
        sent = SentRequest(method, url, list(request.headers.items()), body)
        await self._limiter.wait()
        async with self._slots:
            started = time.monotonic()
            try:
                response = await self._http.send(request, stream=True)
                try:
                    data = await _read_capped(response)
                finally:
                    await response.aclose()
            except httpx.HTTPError as exc:
                self.stats.failed += 1
                raise ScanRequestError(f"{method} {url} failed: {_describe(exc)}") from exc
            elapsed = time.monotonic() - started
        self.stats.sent += 1
        self.stats.by_status[response.status_code] = (
            self.stats.by_status.get(response.status_code, 0) + 1)
        forbidden = response.status_code == 403
        self.stats.forbidden_streak = self.stats.forbidden_streak + 1 if forbidden else 0
        return Reply(sent, response.status_code, response.headers, data, elapsed)


def _describe(error: httpx.HTTPError) -> str:
    """Say what went wrong with a request in words, not as an exception repr."""
    detail = str(error) or type(error).__name__
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect ({detail}); check that the target is up and reachable"
    if isinstance(error, httpx.TimeoutException):
        return f"timed out ({type(error).__name__}); raise --timeout for a slow target"
    return f"{type(error).__name__}: {detail}"


async def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_RESPONSE_BYTES:
            break
    return b"".join(chunks)[:MAX_RESPONSE_BYTES]
