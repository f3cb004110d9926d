"""Per-worker objects the protection stages share: the state store and the deny list.

Stage factories run once per route; these helpers make every route with
the same state settings use one store and one deny list, kept in the
worker's ``Resources``.
"""

from __future__ import annotations

import logging
import time
from typing import cast

from stockade.gateway.routing import Resources
from stockade.protection.blocking import DenyList, RedisDenyStore
from stockade.protection.config import StateSettings
from stockade.protection.state import MemoryState, ProtectionState
from stockade.protection.state_redis import RedisState

log = logging.getLogger(__name__)

ERROR_LOG_INTERVAL_SECONDS = 10.0
"""One log line per interval while the state store fails; the rest are counted."""


def _redis_key(settings: StateSettings) -> str:
    return f"protection.redis:{settings.redis_url}:{settings.redis_timeout_seconds}"


def state_for(resources: Resources, settings: StateSettings) -> ProtectionState:
    if settings.store == "redis":
        return cast(
            RedisState,
            resources.get_or_create(
                _redis_key(settings),
                lambda: RedisState(settings.redis_url, settings.redis_timeout_seconds),
            ),
        )
    return cast(MemoryState, resources.get_or_create("protection.memory", MemoryState))


def deny_list_for(resources: Resources, settings: StateSettings, cache_seconds: float) -> DenyList:
    def create() -> DenyList:
        if settings.store == "redis":
            state = cast(RedisState, state_for(resources, settings))
            return DenyList(RedisDenyStore(state, settings.key_prefix), cache_seconds)
        return DenyList.from_settings(settings, cache_seconds)

    key = f"protection.deny:{settings.store}:{settings.redis_url}:{settings.key_prefix}"
    return cast(DenyList, resources.get_or_create(key, create))


class ErrorLog:
    """Logs a failing dependency at most once per interval, with the count of the rest."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._last = 0.0
        self._suppressed = 0

    def report(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._last >= ERROR_LOG_INTERVAL_SECONDS:
            log.error(
                "%s failed, continuing without it (%d more since the last report): %s",
                self.what,
                self._suppressed,
                error,
            )
            self._last = now
            self._suppressed = 0
        else:
            self._suppressed += 1
