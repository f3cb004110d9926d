"""The rate limit stage: counts each request against the route's limits, rejects with 429 past them.

Every limit of the route is decided in one store call, so a request that
any window rejects consumes quota in none. Allowed responses carry the
RateLimit and RateLimit-Policy fields; 429 responses add Retry-After.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import time
from dataclasses import dataclass
from urllib.parse import quote

from prometheus_client import Counter

from stockade.access.client_address import parse_ip
from stockade.events.model import Severity
from stockade.gateway.exchange import Exchange
from stockade.gateway.pipeline import CONTINUE, Phase, StageRegistry, Verdict, reject
from stockade.gateway.routing import RouteContext
from stockade.ratelimit.config import RateLimitPolicy, RateLimitRule
from stockade.ratelimit.fields import policy_field, retry_after, state_field
from stockade.ratelimit.gcra import WindowSpec
from stockade.ratelimit.redis_store import RedisStore
from stockade.ratelimit.store import MemoryStore, RateLimitStore, StoreUnavailable

log = logging.getLogger(__name__)

RATELIMIT_STAGE_ORDER = 300
MAX_KEY_PART_CHARS = 128  # longer consumer ids are hashed in the key
STORE_ERROR_LOG_INTERVAL_SECONDS = 10.0  # one log line per interval while the store is down
STORE_ERROR_RETRY_AFTER = b"1"  # seconds, on 503 when failing closed

STORE_ERRORS = Counter(
    "stockade_ratelimit_store_errors_total",
    "Rate limit decisions made without the store, by the failure mode applied.",
    ["tenant", "mode"],
)


@dataclass(frozen=True, slots=True)
class _Selection:
    """The limits that count one kind of request, with their RateLimit-Policy field."""

    rules: list[tuple[RateLimitRule, list[WindowSpec]]]
    windows: list[WindowSpec]
    policy_field: tuple[bytes, bytes]


class RateLimitStage:
    name = "ratelimit"
    layer = "ratelimit"
    phases = frozenset({Phase.REQUEST_HEADERS})

    def __init__(
        self, policy: RateLimitPolicy, store: RateLimitStore, context: RouteContext
    ) -> None:
        self.policy = policy
        self._store = store
        self._tenant = context.tenant.id
        self._service = context.service.id
        self._route = context.route.id
        self._rules: list[tuple[RateLimitRule, list[WindowSpec]]] = []
        for rule in policy.limits:
            windows = [
                WindowSpec(
                    f"{rule.id}-{index}",
                    window.requests,
                    window.per_seconds,
                    window.burst or window.requests,
                    policy.algorithm,
                )
                for index, window in enumerate(rule.windows)
            ]
            self._rules.append((rule, windows))
        self._by_groups = any(rule.groups or rule.except_groups for rule in policy.limits)
        self._selections: dict[tuple[int, ...], _Selection] = {}
        self._last_error_log = 0.0
        self._suppressed_errors = 0

    def wants_request_body(self, exchange: Exchange) -> bool:
        return False

    def wants_response_body(self, exchange: Exchange) -> bool:
        return False

    async def check(self, exchange: Exchange, phase: Phase) -> Verdict:
        selection = self._select(exchange)
        if not selection.windows:
            return CONTINUE
        keys = self.keys_of(exchange, selection)
        try:
            decision = await self._store.decide(keys, selection.windows)
        except StoreUnavailable as error:
            return self._store_failed(exchange, error)
        fields = (
            (selection.policy_field, state_field(selection.windows, decision))
            if self.policy.send_fields
            else ()
        )
        if decision.allowed:
            return Verdict(fields=fields) if fields else CONTINUE
        exhausted = [
            window.name
            for window, state in zip(selection.windows, decision.windows, strict=True)
            if state.remaining == 0
        ]
        event = exchange.event(
            "ratelimit",
            "rate-limited",
            "request over the rate limit",
            Severity.LOW,
            evidence={"windows": exhausted},
        )
        return reject(
            429,
            "rate-limited",
            "too many requests",
            severity=Severity.LOW,
            fields=(retry_after(decision), *fields),
            events=(event,),
        )

    def _select(self, exchange: Exchange) -> _Selection:
        """Return the limits that count this request, which depend on the consumer's groups."""
        if self._by_groups:
            groups = exchange.consumer.groups if exchange.consumer is not None else frozenset()
            indexes = tuple(
                index for index, (rule, _) in enumerate(self._rules) if rule.applies_to(groups)
            )
        else:
            indexes = tuple(range(len(self._rules)))
        selection = self._selections.get(indexes)
        if selection is None:
            rules = [self._rules[index] for index in indexes]
            windows = [window for _, rule_windows in rules for window in rule_windows]
            selection = _Selection(rules, windows, policy_field(windows))
            self._selections[indexes] = selection
        return selection

    def keys_of(self, exchange: Exchange, selection: _Selection | None = None) -> list[str]:
        """Return one store key per window; the tenant is the hash tag of all of them."""
        prefix = f"{self.policy.key_prefix}:{{{quote(self._tenant, safe='')}}}"
        keys: list[str] = []
        for rule, windows in (selection or self._select(exchange)).rules:
            identity = "|".join(self._part(exchange, part) for part in rule.key)
            for window in windows:
                # The window's settings are part of the key, so a changed limit starts afresh
                # instead of reading state kept under other settings or by the other algorithm.
                settings = f"{window.requests}/{window.period_seconds:g}/{window.algorithm}"
                keys.append(f"{prefix}:{rule.id}:{identity}:{window.name}:{settings}")
        return keys

    def _part(self, exchange: Exchange, part: str) -> str:
        if part == "consumer":
            # NOTE: anonymous requests are counted per client address, never in one shared bucket.
            consumer = exchange.consumer
            return "c=" + _safe(consumer.id) if consumer is not None else "ip=" + self._ip(exchange)
        if part == "ip":
            return "ip=" + self._ip(exchange)
        if part == "route":
            return f"r={self._service}/{self._route}"
        if part == "service":
            return f"s={self._service}"
        return "t"

    def _ip(self, exchange: Exchange) -> str:
        address = parse_ip(exchange.client.address)
        if address is None:
            return _safe(exchange.client.address)
        if address.version == 6 and self.policy.ipv6_prefix_length < 128:
            network = ipaddress.IPv6Network(
                (int(address), self.policy.ipv6_prefix_length), strict=False
            )
            return f"{network.network_address}/{self.policy.ipv6_prefix_length}"
        return str(address)

    def _store_failed(self, exchange: Exchange, error: StoreUnavailable) -> Verdict:
        mode = self.policy.on_store_error
        STORE_ERRORS.labels(self._tenant, mode).inc()
        now = time.monotonic()
        if now - self._last_error_log >= STORE_ERROR_LOG_INTERVAL_SECONDS:
            log.error(
                "rate limit store unavailable, failing %s (%s more since the last report): %s",
                mode,
                self._suppressed_errors,
                error,
            )
            self._last_error_log = now
            self._suppressed_errors = 0
        else:
            self._suppressed_errors += 1
        if mode == "open":
            return CONTINUE
        event = exchange.event(
            "ratelimit",
            "ratelimit-store-unavailable",
            "rate limit store unreachable, failing closed",
            Severity.MEDIUM,
        )
        return reject(
            503,
            "ratelimit-store-unavailable",
            "service unavailable, retry later",
            fields=((b"Retry-After", STORE_ERROR_RETRY_AFTER),),
            events=(event,),
        )


def _safe(text: str) -> str:
    if len(text) > MAX_KEY_PART_CHARS:
        return "h:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    return quote(text, safe="")


def build_ratelimit_stage(context: RouteContext) -> RateLimitStage | None:
    policy = context.policy.rate_limit
    if policy is None or not policy.limits:
        return None
    resources = context.resources
    if policy.store == "redis":
        store: RateLimitStore = resources.get_or_create(
            f"ratelimit.redis:{policy.redis_url}:{policy.redis_timeout_seconds}",
            lambda: RedisStore(policy.redis_url, policy.redis_timeout_seconds),
        )
    else:
        store = resources.get_or_create("ratelimit.memory", MemoryStore)
    return RateLimitStage(policy, store, context)


def register(registry: StageRegistry) -> None:
    registry.register(RATELIMIT_STAGE_ORDER, "ratelimit", build_ratelimit_stage)
