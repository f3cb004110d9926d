"""The Redis rate limit store: one Lua script per decision, so any number of nodes share a limit.

The script reads the TAT of every window, decides with the server's own
clock (``TIME``), so node clocks never matter, and writes the new TATs only
when every window admits. Each key expires once its window is full again,
because an absent key means the same thing. All keys of a tenant carry the
tenant as hash tag, so one script's keys share a Redis Cluster slot.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from stockade.ratelimit.gcra import MICROSECONDS, Decision, WindowSpec, state_from_reset
from stockade.ratelimit.redis_batch import ScriptBatcher
from stockade.ratelimit.sliding_log import state_of
from stockade.ratelimit.store import StoreUnavailable

log = logging.getLogger(__name__)

SKIP_AFTER_ERROR_SECONDS = (
    1.0  # after a failure, decide without Redis this long instead of waiting on it
)

# KEYS[i] holds the TAT (microseconds, Redis clock) of window i.
# ARGV[2i-1] is the window's interval and ARGV[2i] its tolerance, in microseconds.
# Returns {allowed, retry_us, reset_us of each window}.
GCRA_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tats = {}
local retry = 0
for i = 1, #KEYS do
  local tat = now
  local stored = redis.call('GET', KEYS[i])
  if stored then
    tat = math.max(tonumber(stored), now)
  end
  tats[i] = tat
  local wait = tat - tonumber(ARGV[2 * i]) - now
  if wait > retry then
    retry = wait
  end
end
local allowed = 0
if retry <= 0 then
  allowed = 1
  for i = 1, #KEYS do
    tats[i] = tats[i] + tonumber(ARGV[2 * i - 1])
    local ttl = math.ceil((tats[i] - now) / 1000) + 1
    redis.call('SET', KEYS[i], string.format('%.3f', tats[i]), 'PX', ttl)
  end
end
local result = {allowed, math.ceil(retry)}
for i = 1, #KEYS do
  result[#result + 1] = math.floor(tats[i] - now)
end
return result
"""


# KEYS[i] is a sorted set of admission times (microseconds, Redis clock) of window i.
# ARGV[2i-1] is the window's period in microseconds and ARGV[2i] its request limit.
# The last ARGV is a random nonce, so members stay unique when two nodes admit in one microsecond.
# Returns {allowed, retry_us, then count and newest age (-1 when empty) of each window}.
SLIDING_LOG_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local counts = {}
local retry = 0
local blocked = false
for i = 1, #KEYS do
  local period = tonumber(ARGV[2 * i - 1])
  local limit = tonumber(ARGV[2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - period)
  local count = redis.call('ZCARD', KEYS[i])
  counts[i] = count
  if count >= limit then
    blocked = true
    local oldest = redis.call('ZRANGE', KEYS[i], count - limit, count - limit, 'WITHSCORES')
    local wait = tonumber(oldest[2]) + period - now
    if wait > retry then
      retry = wait
    end
  end
end
local allowed = 0
if not blocked then
  allowed = 1
  local member = string.format('%.0f', now) .. ':' .. ARGV[#ARGV]
  for i = 1, #KEYS do
    local period = tonumber(ARGV[2 * i - 1])
    redis.call('ZADD', KEYS[i], now, member)
    redis.call('PEXPIRE', KEYS[i], math.ceil(period / 1000) + 1)
    counts[i] = counts[i] + 1
  end
end
local result = {allowed, math.ceil(retry)}
for i = 1, #KEYS do
  result[#result + 1] = counts[i]
  local newest = redis.call('ZRANGE', KEYS[i], -1, -1, 'WITHSCORES')
  if newest[2] then
    result[#result + 1] = math.floor(now - tonumber(newest[2]))
  else
    result[#result + 1] = -1
  end
end
return result
"""


def redacted(url: str) -> str:
    """Return the URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class RedisStore:
    def __init__(self, url: str, timeout_seconds: float) -> None:
        self.url = redacted(url)
        self._timeout = timeout_seconds
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
        self._script = self._client.register_script(GCRA_SCRIPT)
        self._log_script = self._client.register_script(SLIDING_LOG_SCRIPT)
        self._batcher = ScriptBatcher(self._client)
        self._skip_until = 0.0

    async def decide(self, keys: Sequence[str], windows: Sequence[WindowSpec]) -> Decision:
        if time.monotonic() < self._skip_until:
            raise StoreUnavailable(
                f"Redis {self.url} failed less than {SKIP_AFTER_ERROR_SECONDS} s ago"
            )
        sliding_log = bool(windows) and windows[0].algorithm == "sliding_log"
        args: list[float | str] = []
        for window in windows:
            if sliding_log:
                args += [window.period_seconds * MICROSECONDS, window.requests]
            else:
                args += [window.interval_us, window.tolerance_us]
        script = self._script
        if sliding_log:
            args.append(secrets.token_hex(8))
            script = self._log_script
        try:
            async with asyncio.timeout(self._timeout):
                reply = await self._batcher.call(script, keys, args)
        except (RedisError, OSError, TimeoutError) as error:
            self._skip_until = time.monotonic() + SKIP_AFTER_ERROR_SECONDS
            raise StoreUnavailable(f"Redis {self.url}: {type(error).__name__}: {error}") from None
        allowed, retry_us, *rest = (int(value) for value in reply)
        if sliding_log:
            pairs = zip(rest[0::2], rest[1::2], windows, strict=True)
            states = tuple(
                state_of(count, age if age >= 0 else None, window) for count, age, window in pairs
            )
        else:
            states = tuple(
                state_from_reset(reset, window) for reset, window in zip(rest, windows, strict=True)
            )
        return Decision(bool(allowed), max(0, retry_us) / MICROSECONDS, states)

    async def close(self) -> None:
        await self._client.aclose()
