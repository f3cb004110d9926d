"""Sources of an issuer's verification keys: fixed (inline or file) and remote (a JWKS URL).

A remote key set is fetched on first use, refreshed in the background, and
refetched when a token names an unknown 'kid', because that is how issuers
announce a rotated key. Refetches for unknown kids are spaced by a cooldown
and capped per hour, so a client sending random kids cannot make the gateway
hammer the issuer. Concurrent callers share one fetch in flight.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Protocol

from stockade.auth.http_client import FetchError, JsonClient
from stockade.auth.jwt_keys import JwtKeyError, KeySet, keys_from_jwks

log = logging.getLogger(__name__)

JWKS_FETCH_TIMEOUT_SECONDS = 5.0  # one JWKS request; issuers answer in milliseconds
RETRY_AFTER_FAILURE_SECONDS = 15.0  # background retry delay after a failed refresh
REFETCH_WINDOW_SECONDS = 3600.0  # the span that jwks_max_refetches_per_hour counts over


class KeySource(Protocol):
    async def key_set(self) -> KeySet: ...

    async def refetch_for_kid(self, kid: str) -> bool:
        """Try to learn ``kid``; return True when the key set now has it."""
        ...


class StaticKeySource:
    __slots__ = ("_keys",)

    def __init__(self, keys: KeySet) -> None:
        self._keys = keys

    async def key_set(self) -> KeySet:
        return self._keys

    async def refetch_for_kid(self, kid: str) -> bool:
        return False


class RemoteJwks:
    """A JWKS URL, cached per worker."""

    def __init__(
        self,
        url: str,
        client: JsonClient,
        *,
        refresh_seconds: float,
        refetch_cooldown_seconds: float,
        max_refetches_per_hour: int,
    ) -> None:
        self.url = url
        self._client = client
        self._refresh_seconds = refresh_seconds
        self._cooldown = refetch_cooldown_seconds
        self._max_refetches = max_refetches_per_hour
        self._keys: KeySet | None = None
        self._inflight: asyncio.Task[bool] | None = None
        self._refresher: asyncio.Task[None] | None = None
        self._refetch_times: deque[float] = deque()
        self._next_load = 0.0  # monotonic time of the next first-load attempt
        self.fetch_count = 0  # successful and failed fetches, for metrics and tests

    async def key_set(self) -> KeySet:
        if self._refresher is None:
            self._refresher = asyncio.get_running_loop().create_task(self._refresh_loop())
        now = time.monotonic()
        if self._keys is None and now >= self._next_load:
            # Until a first load succeeds, retry at most once per cooldown, not once per request.
            self._next_load = now + self._cooldown
            await self._fetch()
        return self._keys or KeySet(())

    async def refetch_for_kid(self, kid: str) -> bool:
        now = time.monotonic()
        while self._refetch_times and now - self._refetch_times[0] > REFETCH_WINDOW_SECONDS:
            self._refetch_times.popleft()
        if self._refetch_times and now - self._refetch_times[-1] < self._cooldown:
            return False
        if self._keys is None and now < self._next_load:
            return False  # the first load failed moments ago; the issuer is not asked again yet
        if len(self._refetch_times) >= self._max_refetches:
            log.warning(
                "JWKS %s: unknown-kid refetch cap of %s per hour reached",
                self.url,
                self._max_refetches,
            )
            return False
        self._refetch_times.append(now)
        await self._fetch()
        return self._keys is not None and self._keys.has_kid(kid)

    async def close(self) -> None:
        for task in (self._refresher, self._inflight):
            if task is not None:
                task.cancel()
        self._refresher = None

    async def _fetch(self) -> bool:
        """Fetch once; callers that arrive while a fetch runs wait for that one."""
        if self._inflight is None or self._inflight.done():
            self._inflight = asyncio.get_running_loop().create_task(self._fetch_now())
        return await asyncio.shield(self._inflight)

    async def _fetch_now(self) -> bool:
        self.fetch_count += 1
        try:
            document = await self._client.get_json(self.url, JWKS_FETCH_TIMEOUT_SECONDS)
            keys = keys_from_jwks(document, self.url)
        except (FetchError, JwtKeyError) as error:
            log.warning(
                "JWKS refresh failed, keeping %s cached keys: %s",
                len(self._keys.keys) if self._keys else 0,
                error,
            )
            return False
        self._keys = KeySet(keys)
        log.info("JWKS %s loaded with %s keys", self.url, len(keys))
        return True

    async def _refresh_loop(self) -> None:
        delay = self._refresh_seconds
        while True:
            await asyncio.sleep(delay)
            ok = await self._fetch()
            delay = (
                self._refresh_seconds
                if ok
                else min(self._refresh_seconds, RETRY_AFTER_FAILURE_SECONDS)
            )
