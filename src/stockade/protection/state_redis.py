"""The Redis state store: the same operations as ``MemoryState``, shared by every node.

Each operation is one command or one Lua script, so concurrent gateways
never interleave a read and a write. Every key carries an expiry. Callers
put the tenant in braces in every key, so one script's keys share a Redis
Cluster slot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from stockade.protection.state import (
    MAX_OWNERS_PER_OBJECT,
    ObjectCheck,
    StateUnavailable,
    bucket,
)
from stockade.ratelimit.redis_store import redacted

log = logging.getLogger(__name__)

SKIP_AFTER_ERROR_SECONDS = 1.0
"""After a failure the store raises StateUnavailable this long instead of waiting on Redis."""

T = TypeVar("T")

# KEYS[1] counter; ARGV[1] expiry in ms. Returns the new value.
COUNT_SCRIPT = """
local value = redis.call('INCR', KEYS[1])
if value == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return value
"""

# KEYS[1] set; ARGV[1] member, ARGV[2] expiry in ms, ARGV[3] cap. Returns the set size.
DISTINCT_SCRIPT = """
local size = redis.call('SCARD', KEYS[1])
if size < tonumber(ARGV[3]) then
  redis.call('SADD', KEYS[1], ARGV[1])
  if size == 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
  size = redis.call('SCARD', KEYS[1])
end
return size
"""

# KEYS[1] hash {last, run}; ARGV[1] value, ARGV[2] expiry in ms. Returns the run length.
SEQUENCE_SCRIPT = """
local last = redis.call('HGET', KEYS[1], 'last')
local run = tonumber(redis.call('HGET', KEYS[1], 'run') or '0')
local value = tonumber(ARGV[1])
if last and math.abs(value - tonumber(last)) == 1 then
  run = run + 1
elseif not (last and value == tonumber(last)) then
  run = 1
end
redis.call('HSET', KEYS[1], 'last', ARGV[1], 'run', run)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return run
"""

# KEYS[1] the owner's sorted set of object keys, KEYS[2..] object owner sets.
# ARGV[1] owner, ARGV[2] now in ms, ARGV[3] expiry in ms, ARGV[4] max objects,
# ARGV[5] max owners per object.
REMEMBER_SCRIPT = """
-- Scores only order the objects for eviction, so they must never tie: calls
-- within one millisecond would otherwise be ordered by key name.
local score = tonumber(ARGV[2])
local newest = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if newest[2] and tonumber(newest[2]) >= score then
  score = tonumber(newest[2]) + 1
end
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[1], score, KEYS[i])
  score = score + 1
  if redis.call('SCARD', KEYS[i]) < tonumber(ARGV[5]) then
    redis.call('SADD', KEYS[i], ARGV[1])
  end
  redis.call('PEXPIRE', KEYS[i], ARGV[3])
end
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
if excess > 0 then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, excess - 1)
  for _, key in ipairs(oldest) do
    redis.call('SREM', key, ARGV[1])
  end
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1)
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""


# KEYS[1] object owner set, KEYS[2] distinct set of this window, KEYS[3] sequence hash.
# ARGV[1] owner ("" when none), ARGV[2] member, ARGV[3] window in ms, ARGV[4] cap,
# ARGV[5] numeric id ("" when none), ARGV[6] max owners per object.
# Returns {owned, known, distinct, run}.
CHECK_OBJECT_SCRIPT = """
local owned, known = 0, 0
if ARGV[1] ~= '' then
  local owners = redis.call('SCARD', KEYS[1])
  if owners >= tonumber(ARGV[6]) then
    owned, known = 1, 1
  elseif owners > 0 then
    known = 1
    owned = redis.call('SISMEMBER', KEYS[1], ARGV[1])
  end
end
local size = redis.call('SCARD', KEYS[2])
if size < tonumber(ARGV[4]) then
  redis.call('SADD', KEYS[2], ARGV[2])
  if size == 0 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
  size = redis.call('SCARD', KEYS[2])
end
local run = 0
if ARGV[5] ~= '' then
  local value = tonumber(ARGV[5])
  local last = redis.call('HGET', KEYS[3], 'last')
  run = tonumber(redis.call('HGET', KEYS[3], 'run') or '0')
  if last and math.abs(value - tonumber(last)) == 1 then
    run = run + 1
  elseif not (last and value == tonumber(last)) then
    run = 1
  end
  redis.call('HSET', KEYS[3], 'last', ARGV[5], 'run', run)
  redis.call('PEXPIRE', KEYS[3], ARGV[3])
end
return {owned, known, size, run}
"""


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class RedisState:
    def __init__(self, url: str, timeout_seconds: float) -> None:
        self.url = redacted(url)
        self._timeout = timeout_seconds
        self._client: redis.Redis = redis.Redis.from_url(
            url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
        self._count = self._client.register_script(COUNT_SCRIPT)
        self._distinct = self._client.register_script(DISTINCT_SCRIPT)
        self._sequence = self._client.register_script(SEQUENCE_SCRIPT)
        self._remember = self._client.register_script(REMEMBER_SCRIPT)
        self._check_object = self._client.register_script(CHECK_OBJECT_SCRIPT)
        self._skip_until = 0.0

    @property
    def client(self) -> redis.Redis:
        return self._client

    async def call(self, awaitable: Awaitable[T]) -> T:
        """Await one Redis call within the timeout; raise StateUnavailable on any failure."""
        if time.monotonic() < self._skip_until:
            if asyncio.iscoroutine(awaitable):
                awaitable.close()
            raise StateUnavailable(
                f"Redis {self.url} failed less than {SKIP_AFTER_ERROR_SECONDS} s ago"
            )
        try:
            return await asyncio.wait_for(awaitable, self._timeout)
        except (RedisError, OSError, TimeoutError) as error:
            self._skip_until = time.monotonic() + SKIP_AFTER_ERROR_SECONDS
            raise StateUnavailable(f"Redis {self.url}: {type(error).__name__}: {error}") from None

    async def count(self, key: str, window: float) -> int:
        full = f"{key}:{bucket(window)}"
        return int(await self.call(self._count(keys=[full], args=[_ms(window)])))

    async def peek(self, keys: list[tuple[str, float]]) -> list[int]:
        if not keys:
            return []
        now = time.time()
        names = [f"{key}:{bucket(window, now)}" for key, window in keys]
        values: list[Any] = await self.call(self._client.mget(names))
        return [int(value) if value is not None else 0 for value in values]

    async def add_distinct(self, key: str, member: str, window: float, cap: int) -> int:
        full = f"{key}:{bucket(window)}"
        return int(await self.call(self._distinct(keys=[full], args=[member, _ms(window), cap])))

    async def sequence(self, key: str, value: int, ttl: float) -> int:
        return int(await self.call(self._sequence(keys=[key], args=[value, _ms(ttl)])))

    async def remember(self, owner: str, objects: list[str], max_objects: int, ttl: float) -> None:
        if not objects:
            return
        keys = [f"own:{owner}", *(f"obj:{obj}" for obj in objects)]
        args: list[str | int] = [owner, int(time.time() * 1000), _ms(ttl), max_objects,
                                 MAX_OWNERS_PER_OBJECT]
        await self.call(self._remember(keys=keys, args=args))

    async def ownership(self, owner: str, obj: str) -> tuple[bool, bool]:
        pipe = self._client.pipeline(transaction=False)
        pipe.sismember(f"obj:{obj}", owner)
        pipe.scard(f"obj:{obj}")
        member, size = await self.call(pipe.execute())
        if int(size) >= MAX_OWNERS_PER_OBJECT:
            return True, True
        return bool(member), int(size) > 0

    async def first_seen(self, key: str, ttl: float) -> bool:
        created = await self.call(self._client.set(key, b"1", px=_ms(ttl), nx=True))
        return bool(created)

    async def check_object(self, owner: str | None, obj: str, distinct_key: str, window: float,
                           cap: int, sequence_value: int | None) -> ObjectCheck:
        keys = [f"obj:{obj}", f"{distinct_key}:{bucket(window)}", f"{distinct_key}:seq"]
        args: list[str | int] = [owner or "", obj, _ms(window), cap,
                                 "" if sequence_value is None else sequence_value,
                                 MAX_OWNERS_PER_OBJECT]
        owned, known, distinct, run = await self.call(self._check_object(keys=keys, args=args))
        return ObjectCheck(bool(owned), bool(known), int(distinct), int(run))

    async def close(self) -> None:
        await self._client.aclose()
