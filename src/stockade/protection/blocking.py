"""The dynamic deny list: sources blocked for a while, by detectors, operators or scanners.

A source is a client IP address, a consumer id, an API key id or a JWT
subject. An entry belongs to one tenant, or to every tenant when its tenant
is ``*`` (the MSSP-wide option). ``MemoryDenyStore`` keeps entries in one
worker process; ``RedisDenyStore`` shares them across workers and nodes,
each entry a key that expires with the block. Store-table blocks (client
addresses and networks that operators add through the admin API) are
merged in by ``blocking_sync``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from typing import Literal, Protocol
from urllib.parse import quote

from redis.exceptions import RedisError

from stockade.protection.config import SourceKind, StateSettings
from stockade.protection.state import StateUnavailable
from stockade.protection.state_redis import RedisState

log = logging.getLogger(__name__)

ALL_TENANTS = "*"
"""Tenant of an MSSP-wide entry: it applies to every tenant."""

SOURCE_KINDS: tuple[SourceKind, ...] = ("ip", "consumer", "api-key", "jwt-subject")
MAX_BLOCK_SECONDS = 365 * 24 * 3600
"""Maximum block duration, one year, the same cap the store's block table applies."""
MAX_VALUE_CHARS = 512
"""Maximum length of a source value; longer ones are invalid."""
MAX_CACHE_ENTRIES = 100_000
"""Cached deny list lookups per worker; the cache is cleared when it grows past this."""
MAX_MEMORY_ENTRIES = 100_000
"""Entries of the in-process store; past this the soonest to expire are dropped."""


Origin = Literal["detector", "operator", "scanner", "store"]
"""Origin of a deny list entry: the detector, operator, scanner or store that added it."""


@dataclass(frozen=True, slots=True)
class DenyEntry:
    tenant: str
    kind: str
    value: str
    reason: str
    created_at: float
    expires_at: float
    origin: Origin = "operator"


def normalize(kind: str, value: str) -> str:
    """Return the canonical source value; raise ValueError naming the problem."""
    if kind not in SOURCE_KINDS:
        raise ValueError(f"unknown source kind {kind!r}; use one of {', '.join(SOURCE_KINDS)}")
    text = value.strip()
    if not text or len(text) > MAX_VALUE_CHARS:
        raise ValueError(
            f"{kind} value must have 1 to {MAX_VALUE_CHARS} characters, got {len(text)}"
        )
    if kind == "ip":
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            raise ValueError(
                f"invalid IP address {value!r}; use a form such as 192.0.2.7"
            ) from None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return str(address)
    return text


class DenyStore(Protocol):
    async def put(self, entry: DenyEntry) -> None: ...

    async def delete(self, tenant: str, kind: str, value: str) -> None: ...

    async def find(self, candidates: list[tuple[str, str, str]]) -> DenyEntry | None:
        """Return the first entry in force among (tenant, kind, value) candidates."""
        ...

    async def entries(self, tenant: str | None) -> list[DenyEntry]: ...


class MemoryDenyStore:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str], DenyEntry] = {}

    async def put(self, entry: DenyEntry) -> None:
        self._entries[(entry.tenant, entry.kind, entry.value)] = entry
        if len(self._entries) > MAX_MEMORY_ENTRIES:
            soonest = sorted(self._entries.items(), key=lambda item: item[1].expires_at)
            for key, _ in soonest[: len(self._entries) - MAX_MEMORY_ENTRIES]:
                del self._entries[key]

    async def delete(self, tenant: str, kind: str, value: str) -> None:
        self._entries.pop((tenant, kind, value), None)

    async def find(self, candidates: list[tuple[str, str, str]]) -> DenyEntry | None:
        now = time.time()
        for key in candidates:
            entry = self._entries.get(key)
            if entry is not None:
                if entry.expires_at > now:
                    return entry
                del self._entries[key]
        return None

    async def entries(self, tenant: str | None) -> list[DenyEntry]:
        now = time.time()
        return [
            entry
            for entry in self._entries.values()
            if entry.expires_at > now and (tenant is None or entry.tenant == tenant)
        ]


class RedisDenyStore:
    """One Redis key per entry, ``PREFIX:deny:{TENANT}:KIND:VALUE``, expiring with the block."""

    def __init__(self, state: RedisState, prefix: str) -> None:
        self._state = state
        self._prefix = prefix

    def _key(self, tenant: str, kind: str, value: str) -> str:
        return f"{self._prefix}:deny:{{{quote(tenant, safe='')}}}:{kind}:{quote(value, safe='')}"

    async def put(self, entry: DenyEntry) -> None:
        ttl_ms = max(1, int((entry.expires_at - time.time()) * 1000))
        data = json.dumps(asdict(entry))
        await self._state.call(
            self._state.client.set(
                self._key(entry.tenant, entry.kind, entry.value), data, px=ttl_ms
            )
        )

    async def delete(self, tenant: str, kind: str, value: str) -> None:
        await self._state.call(self._state.client.delete(self._key(tenant, kind, value)))

    async def find(self, candidates: list[tuple[str, str, str]]) -> DenyEntry | None:
        if not candidates:
            return None
        keys = [self._key(*candidate) for candidate in candidates]
        values = await self._state.call(self._state.client.mget(keys))
        for value in values:
            if value is not None:
                return _entry(value)
        return None

    async def entries(self, tenant: str | None) -> list[DenyEntry]:
        owner = f"{{{quote(tenant, safe='')}}}" if tenant else "*"
        pattern = f"{self._prefix}:deny:{owner}:*"
        keys: list[bytes] = []
        try:
            async for key in self._state.client.scan_iter(match=pattern, count=500):
                keys.append(key)
        except (RedisError, OSError) as error:
            raise StateUnavailable(f"listing deny list entries failed: {error}") from None
        found: list[DenyEntry] = []
        for key in keys:
            value = await self._state.call(self._state.client.get(key))
            if value is not None:
                found.append(_entry(value))
        return found


def _entry(raw: bytes | str) -> DenyEntry:
    data = json.loads(raw)
    return DenyEntry(**data)


@dataclass(frozen=True, slots=True)
class RoutePattern:
    """A blocked method (``*``: every method) and path template, compiled for matching.

    ``segments`` contains the template's non-empty segments, None where a
    ``{name}`` parameter matches any one segment.
    """

    method: str
    segments: tuple[str | None, ...]
    entry: DenyEntry

    @classmethod
    def compile(cls, method: str, template: str, entry: DenyEntry) -> RoutePattern:
        segments = tuple(
            None if segment.startswith("{") else segment.lower()
            for segment in template.split("/")
            if segment
        )
        return cls(method, segments, entry)

    def matches(self, method: str, segments: list[str]) -> bool:
        if self.method not in ("*", method) or len(segments) != len(self.segments):
            return False
        return all(
            expected is None or expected == actual
            for expected, actual in zip(self.segments, segments, strict=True)
        )


def route_segments(segments: list[str]) -> list[str]:
    """Return the request path's segments as route blocks compare them.

    Backends differ in how they read a path, so the comparison takes the
    widest reading: empty segments are dropped (``//debug/`` is ``/debug``),
    a ``;parameter`` suffix is cut off, and letters are compared lower-cased.
    """
    found = []
    for segment in segments:
        name = segment.partition(";")[0].lower()
        if name:
            found.append(name)
    return found


class DenyList:
    """The deny list of one worker, with a short cache in front of its store.

    ``add`` is the way in for detector thresholds and other code. Operator
    blocks and route blocks come from the store through ``blocking_sync``.
    With a Redis store every gateway node applies an added entry within
    ``cache_seconds``.
    """

    def __init__(self, store: DenyStore, cache_seconds: float = 1.0) -> None:
        self.store = store
        self.cache_seconds = cache_seconds
        self._cache: dict[tuple[tuple[str, str, str], ...], tuple[float, DenyEntry | None]] = {}
        self.networks: dict[
            str, list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, DenyEntry]]
        ] = {}
        self.routes: dict[tuple[str, str], list[RoutePattern]] = {}
        """Route blocks from the store, by (tenant, service)."""
        self.sources: dict[tuple[str, str, str], DenyEntry] = {}
        """Store blocks of consumers, API keys and JWT subjects, by (tenant, kind, value)."""

    @classmethod
    def from_settings(cls, settings: StateSettings, cache_seconds: float = 1.0) -> DenyList:
        if settings.store == "redis":
            state = RedisState(settings.redis_url, settings.redis_timeout_seconds)
            return cls(RedisDenyStore(state, settings.key_prefix), cache_seconds)
        return cls(MemoryDenyStore(), cache_seconds)

    async def add(
        self,
        kind: str,
        value: str,
        tenant: str,
        ttl: float,
        reason: str,
        origin: Origin = "operator",
    ) -> DenyEntry:
        """Block a source of ``tenant`` (``*`` for all tenants) for ``ttl`` seconds."""
        if not 0 < ttl <= MAX_BLOCK_SECONDS:
            raise ValueError(
                f"block duration {ttl} s is out of range; use 1 to {MAX_BLOCK_SECONDS}"
            )
        if not tenant:
            raise ValueError("tenant must be a tenant id or '*' for every tenant")
        now = time.time()
        entry = DenyEntry(
            tenant, kind, normalize(kind, value), reason[:200], now, now + ttl, origin
        )
        await self.store.put(entry)
        self._cache.clear()
        log.info(
            "deny list: %s %s of tenant %s blocked for %.0f s by %s",
            kind,
            entry.value,
            tenant,
            ttl,
            origin,
        )
        return entry

    def clear_cache(self) -> None:
        self._cache.clear()

    async def remove(self, kind: str, value: str, tenant: str) -> None:
        await self.store.delete(tenant, kind, normalize(kind, value))
        self._cache.clear()

    async def entries(self, tenant: str | None = None) -> list[DenyEntry]:
        return await self.store.entries(tenant)

    async def check(self, tenant: str, sources: list[tuple[str, str]]) -> DenyEntry | None:
        """Return the entry that blocks any of ``sources`` for ``tenant``, or None."""
        candidates = tuple(
            (owner, kind, value) for kind, value in sources for owner in (tenant, ALL_TENANTS)
        )
        now = time.monotonic()
        cached = self._cache.get(candidates)
        if cached is not None and cached[0] > now:
            return cached[1]
        entry = self._network_entry(tenant, sources) or self._source_entry(candidates)
        if entry is None:
            entry = await self.store.find(list(candidates))
        if len(self._cache) > MAX_CACHE_ENTRIES:
            self._cache.clear()
        if self.cache_seconds > 0:
            self._cache[candidates] = (now + self.cache_seconds, entry)
        return entry

    def route_entry(
        self, tenant: str, service: str, method: str, segments: list[str]
    ) -> DenyEntry | None:
        """Return the route block of ``tenant``'s ``service`` that refuses this request, or None.

        ``segments`` are the percent-decoded path segments of the request.
        """
        patterns = self.routes.get((tenant, service))
        if not patterns:
            return None
        wall = time.time()
        compared = route_segments(segments)
        for pattern in patterns:
            if pattern.entry.expires_at > wall and pattern.matches(method, compared):
                return pattern.entry
        return None

    def _source_entry(self, candidates: tuple[tuple[str, str, str], ...]) -> DenyEntry | None:
        if not self.sources:
            return None
        wall = time.time()
        for candidate in candidates:
            entry = self.sources.get(candidate)
            if entry is not None and entry.expires_at > wall:
                return entry
        return None

    def _network_entry(self, tenant: str, sources: list[tuple[str, str]]) -> DenyEntry | None:
        if not self.networks:
            return None
        wall = time.time()
        for kind, value in sources:
            if kind != "ip":
                continue
            try:
                address = ipaddress.ip_address(value)
            except ValueError:
                continue
            for owner in (tenant, ALL_TENANTS):
                for network, entry in self.networks.get(owner, ()):
                    if (
                        entry.expires_at > wall
                        and address.version == network.version
                        and address in network
                    ):
                        return entry
        return None


def block_source(settings: StateSettings, kind: str, value: str, tenant: str, ttl: float,
                 reason: str, origin: Origin = "operator") -> DenyEntry:
    """Add one deny list entry from synchronous code, such as the admin API or the scanner.

    Only a Redis state store reaches the gateways; with ``store: memory`` the
    entry would live in the caller's process alone, so that raises ValueError.
    """
    if settings.store != "redis":
        raise ValueError("the deny list is shared only through Redis; set protection.state.store "
                         "to redis, or add the client address as a dynamic block in the store")
    return asyncio.run(_add_and_close(settings, kind, value, tenant, ttl, reason, origin))


@contextlib.asynccontextmanager
async def redis_deny_store(settings: StateSettings) -> AsyncIterator[RedisDenyStore]:
    """Open the Redis deny list of ``settings`` for a few calls, then close the connection."""
    state = RedisState(settings.redis_url, settings.redis_timeout_seconds)
    try:
        yield RedisDenyStore(state, settings.key_prefix)
    finally:
        await state.close()


async def _add_and_close(settings: StateSettings, kind: str, value: str, tenant: str, ttl: float,
                         reason: str, origin: Origin) -> DenyEntry:
    async with redis_deny_store(settings) as store:
        deny_list = DenyList(store, cache_seconds=0)
        return await deny_list.add(kind, value, tenant, ttl, reason, origin)
