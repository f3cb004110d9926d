"""The shared DDoS state in Redis: cluster-wide bucket totals, surge signal and known sources.

One Lua script per report keeps the exchange atomic and uses the server's
clock (``TIME``), so node clocks never matter. Per route, one hash contains
the totals of the last buckets (fields ``<bucket index>:<total name>``,
fields of older buckets deleted by the script) and one string the time of the last
surge signal, which expires ``quiet_seconds`` after it. Per tenant, one
sorted set holds known sources scored by when a node first reported them. Every
key expires on its own, and all keys of a tenant share its hash tag, so
one script's keys live in one Redis Cluster slot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import quote

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from stockade.ddos.buckets import BUCKET_FIELDS, BucketTotals, window_buckets
from stockade.ddos.config import DdosPolicy
from stockade.ddos.state import BucketReport, SharedView, StateUnavailable
from stockade.ratelimit.redis_store import redacted

log = logging.getLogger(__name__)

SKIP_AFTER_ERROR_SECONDS = 1.0  # after a failure, stay local this long instead of waiting
MAX_KNOWN_SOURCES = 1_000_000  # per tenant in Redis; the least recently seen are dropped

# KEYS: 1 route totals hash, 2 surge signal string, 3 known sources sorted set.
# ARGV: 1 bucket ms, 2 window buckets, 3 quiet ms, 4 known ms, 5 tripped (0/1),
#       6 cut-off age ms, 7 max known sources, 8 field count F, 9..8+F the totals,
#       then S, S new sources, then the queried sources.
# The report is added to the bucket before the current one (it has just closed), and the
# window read back ends one bucket earlier still, so that every node's report is in it.
# A known source's score is when some node first reported it; a queried source is known
# when that is at least the cut-off age ago.
# Returns {window totals (F), newest totals (F), ms since the last signal or -1, known flags}.
SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local bucket_ms = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local quiet_ms = tonumber(ARGV[3])
local known_ms = tonumber(ARGV[4])
local cutoff_ms = tonumber(ARGV[6])
local max_known = tonumber(ARGV[7])
local count = tonumber(ARGV[8])
local index = math.floor(now / bucket_ms)
local names = {'cost', 'admitted', 'requests', 'responses', 'errors', 'latency_sum'}
for i = 1, count do
  local value = tonumber(ARGV[8 + i])
  if value ~= 0 then
    redis.call('HINCRBYFLOAT', KEYS[1], (index - 1) .. ':' .. names[i], value)
  end
end
for b = index - 2 * window - 8, index - window - 3 do
  local stale = {}
  for i = 1, count do
    stale[i] = b .. ':' .. names[i]
  end
  redis.call('HDEL', KEYS[1], unpack(stale))
end
redis.call('PEXPIRE', KEYS[1], (window + 4) * bucket_ms)
local result = {}
for i = 1, count do
  local total = 0
  for b = index - window - 1, index - 2 do
    total = total + tonumber(redis.call('HGET', KEYS[1], b .. ':' .. names[i]) or '0')
  end
  result[i] = tostring(total)
end
for i = 1, count do
  result[count + i] = tostring(redis.call('HGET', KEYS[1], (index - 2) .. ':' .. names[i]) or '0')
end
if ARGV[5] == '1' then
  redis.call('SET', KEYS[2], now, 'PX', quiet_ms)
end
local signal = redis.call('GET', KEYS[2])
if signal then
  result[#result + 1] = tostring(now - tonumber(signal))
else
  result[#result + 1] = '-1'
end
local offset = 9 + count
local new_count = tonumber(ARGV[offset])
for i = 1, new_count do
  redis.call('ZADD', KEYS[3], 'NX', now, ARGV[offset + i])
end
if new_count > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - known_ms)
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -max_known - 1)
  redis.call('PEXPIRE', KEYS[3], known_ms)
end
for i = offset + new_count + 1, #ARGV do
  local seen = redis.call('ZSCORE', KEYS[3], ARGV[i])
  if seen and tonumber(seen) >= now - known_ms and tonumber(seen) <= now - cutoff_ms then
    result[#result + 1] = '1'
  else
    result[#result + 1] = '0'
  end
end
return result
"""


class RedisTrafficStore:
    def __init__(self, policy: DdosPolicy) -> None:
        self.url = redacted(policy.redis_url)
        self._policy = policy
        self._timeout = policy.redis_timeout_seconds
        self._client = redis.Redis.from_url(
            policy.redis_url,
            socket_timeout=self._timeout,
            socket_connect_timeout=self._timeout,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
        self._script = self._client.register_script(SCRIPT)
        self._skip_until = 0.0

    def keys(self, tenant: str, route: str) -> list[str]:
        prefix = f"{self._policy.key_prefix}:{{{quote(tenant, safe='')}}}"
        route_part = quote(route, safe="/")
        # The bucket length is in the key, so a changed setting never mixes bucket indexes.
        bucket_ms = round(self._policy.bucket_seconds * 1000)
        return [
            f"{prefix}:totals:{route_part}:{bucket_ms}",
            f"{prefix}:signal:{route_part}",
            f"{prefix}:known",
        ]

    async def publish(self, tenant: str, route: str, report: BucketReport) -> SharedView:
        if time.monotonic() < self._skip_until:
            raise StateUnavailable(
                f"Redis {self.url} failed less than {SKIP_AFTER_ERROR_SECONDS} s ago"
            )
        try:
            async with asyncio.timeout(self._timeout):
                reply = await self._script(
                    keys=self.keys(tenant, route), args=self._arguments(report)
                )
        except (RedisError, OSError, TimeoutError) as error:
            self._skip_until = time.monotonic() + SKIP_AFTER_ERROR_SECONDS
            raise StateUnavailable(f"Redis {self.url}: {type(error).__name__}: {error}") from None

        values = [float(item) for item in reply]
        size = len(BUCKET_FIELDS)
        ago = values[2 * size]
        flags = values[2 * size + 1 :]
        known = frozenset(
            source for source, flag in zip(report.queries, flags, strict=True) if flag == 1
        )
        return SharedView(
            window=BucketTotals.from_list(values[:size]),
            newest=BucketTotals.from_list(values[size : 2 * size]),
            tripped_ago=ago / 1000 if ago >= 0 else None,
            known=known,
        )

    def _arguments(self, report: BucketReport) -> list[str | float | int]:
        policy = self._policy
        totals = report.totals.as_list()
        return [
            round(policy.bucket_seconds * 1000),
            window_buckets(policy),
            round(policy.release.quiet_seconds * 1000),
            round(policy.known_source_seconds * 1000),
            1 if report.tripped else 0,
            round(report.cutoff_age * 1000),
            MAX_KNOWN_SOURCES,
            len(totals),
            *totals,
            len(report.new_sources),
            *report.new_sources,
            *report.queries,
        ]

    async def close(self) -> None:
        await self._client.aclose()
