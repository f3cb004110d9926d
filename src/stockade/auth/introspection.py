"""OAuth 2.0 token introspection (RFC 7662) with a bounded per-worker cache.

The cache keys on the SHA-256 of the token, so no token is kept in clear.
An active response is cached for at most ``cache_seconds`` and never past
the token's own ``exp``, and an inactive one for ``negative_cache_seconds``.
Failures to reach the server are not cached, but for one second after a
failure the server is not asked again. Concurrent requests with the same
token share one call.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from stockade.auth.config import IntrospectionAuth
from stockade.auth.http_client import FetchError, JsonClient

log = logging.getLogger(__name__)

SKIP_AFTER_ERROR_SECONDS = 1.0  # after a failed call, respond 503 this long without calling again


class IntrospectionUnavailable(Exception):
    """The request to the authorization server failed or its response is unusable."""


@dataclass(frozen=True, slots=True)
class Introspection:
    active: bool
    claims: dict[str, Any]


INACTIVE = Introspection(False, {})


class Introspector:
    def __init__(self, settings: IntrospectionAuth, client: JsonClient) -> None:
        secret = os.environ.get(settings.client_secret_env)
        if not secret:
            raise ValueError(
                f"introspection: environment variable {settings.client_secret_env} is not set; "
                "it must hold the client secret for client_id " + repr(settings.client_id)
            )
        self.settings = settings
        self._client = client
        self._secret = secret
        self._cache: OrderedDict[bytes, tuple[float, Introspection]] = OrderedDict()
        self._pending: dict[bytes, asyncio.Task[Introspection]] = {}
        self._skip_until = 0.0  # monotonic time until which a failed server is not asked
        self.calls = 0  # requests sent to the server, for metrics and tests

    async def introspect(self, token: str) -> Introspection:
        key = hashlib.sha256(token.encode("utf-8")).digest()
        now = time.time()
        cached = self._cache.get(key)
        if cached is not None:
            if cached[0] > now:
                self._cache.move_to_end(key)
                return cached[1]
            del self._cache[key]
        if time.monotonic() < self._skip_until:
            raise IntrospectionUnavailable(
                f"{self.settings.endpoint} failed less than {SKIP_AFTER_ERROR_SECONDS} s ago"
            )
        pending = self._pending.get(key)
        if pending is None:
            # Concurrent requests with the same new token share one call to the server.
            pending = asyncio.get_running_loop().create_task(self._ask(token))
            self._pending[key] = pending
            pending.add_done_callback(lambda task: self._finished(key, task))
        try:
            answer = await asyncio.shield(pending)
        except IntrospectionUnavailable:
            self._skip_until = time.monotonic() + SKIP_AFTER_ERROR_SECONDS
            raise
        self._remember(key, answer, now)
        return answer

    def _finished(self, key: bytes, task: asyncio.Task[Introspection]) -> None:
        self._pending.pop(key, None)
        if not task.cancelled() and task.exception() is not None:
            # Retrieved here as well, for the case that every waiting request was cancelled.
            log.debug("introspection call failed: %s", task.exception())

    async def _ask(self, token: str) -> Introspection:
        settings = self.settings
        form = {"token": token, "token_type_hint": "access_token"}
        authorization = None
        if settings.client_auth == "client_secret_basic":
            # RFC 6749 2.3.1: both parts are form-urlencoded before the Basic encoding.
            pair = f"{quote(settings.client_id, safe='')}:{quote(self._secret, safe='')}"
            authorization = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
        else:
            form |= {"client_id": settings.client_id, "client_secret": self._secret}

        self.calls += 1
        try:
            document = await self._client.post_form(
                settings.endpoint, form, settings.timeout_seconds, authorization
            )
        except FetchError as error:
            raise IntrospectionUnavailable(str(error)) from None
        if not isinstance(document, dict) or not isinstance(document.get("active"), bool):
            raise IntrospectionUnavailable(
                f"{settings.endpoint} responded without a boolean 'active'"
            )

        now = time.time()
        expires = _number(document.get("exp"))
        not_before = _number(document.get("nbf"))
        if document["active"] is not True:
            return INACTIVE
        if (expires is not None and expires <= now) or (
            not_before is not None and not_before > now
        ):
            return INACTIVE
        return Introspection(True, document)

    def _remember(self, key: bytes, answer: Introspection, now: float) -> None:
        settings = self.settings
        if answer.active:
            until = now + settings.cache_seconds
            expires = answer.claims.get("exp")
            if isinstance(expires, int | float) and not isinstance(expires, bool):
                until = min(until, float(expires))
        else:
            until = now + settings.negative_cache_seconds
        if until <= now or settings.cache_max_entries == 0:
            return
        self._cache[key] = (until, answer)
        self._cache.move_to_end(key)
        while len(self._cache) > settings.cache_max_entries:
            self._cache.popitem(last=False)


def _number(value: object) -> float | None:
    """Return a JSON number as float; None for anything else, booleans included."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None
