"""Detector thresholds that feed the deny list, such as 5 critical events in 1 minute.

A log observer: after each exchange it counts the exchange's detections and
blocks per source in the shared state store, and when a rule's count is
reached it adds the source to the deny list for the rule's duration. The
work runs as a task on the event loop, so the response is never delayed;
tasks in flight are bounded and the overflow is counted, never silent.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from urllib.parse import quote

from stockade.config.models import GatewayConfig
from stockade.events.model import Action, SecurityEvent, Severity
from stockade.gateway.exchange import Exchange
from stockade.gateway.routing import Resources
from stockade.protection.blocking import ALL_TENANTS, DenyList
from stockade.protection.config import BlockingProtection, ProtectionPolicy, ThresholdRule
from stockade.protection.identity import MAX_CACHED_TOKENS, bearer_token, unverified_claims
from stockade.protection.shared import ErrorLog, deny_list_for, state_for
from stockade.protection.state import ProtectionState, StateUnavailable

log = logging.getLogger(__name__)

MAX_TASKS_IN_FLIGHT = 1000
"""Threshold updates waiting on the store per worker; more are dropped and counted."""

COUNTED_ACTIONS = frozenset({Action.BLOCKED, Action.DETECTED})
NOT_COUNTED_LAYERS = frozenset({"blocking"})
"""Rejections by the deny list itself never extend a block."""


def source_of(exchange: Exchange, kind: str) -> str | None:
    """Return the value of one source kind for ``exchange``, or None when it has none."""
    if kind == "ip":
        return exchange.client.address
    consumer = exchange.consumer
    if kind == "consumer":
        return consumer.id if consumer is not None else None
    if kind == "api-key":
        credential = consumer.credential if consumer is not None else None
        return (
            credential.partition(":")[2]
            if credential and credential.startswith("api-key:")
            else None
        )
    token = bearer_token(exchange)
    return token_subject(token) if token else None


def verified_source_of(exchange: Exchange, kind: str) -> str | None:
    """Return a source value that the client cannot forge, for counting toward a block.

    An unverified token's subject is anyone's to write, so counting it would
    let an attacker get another user blocked; only a subject from a token the
    auth layer verified counts.
    """
    if kind != "jwt-subject":
        return source_of(exchange, kind)
    consumer = exchange.consumer
    if consumer is None or consumer.auth_method != "jwt":
        return None
    subject = consumer.claims.get("sub")
    if isinstance(subject, str | int) and not isinstance(subject, bool):
        return str(subject)
    return None


@functools.lru_cache(maxsize=MAX_CACHED_TOKENS)
def token_subject(token: str) -> str | None:
    """Return the unverified ``sub`` claim of a JWT; cached, as clients resend their token."""
    claims = unverified_claims(token)
    subject = claims.get("sub") if claims else None
    if isinstance(subject, str | int) and not isinstance(subject, bool):
        return str(subject)
    return None


class ThresholdObserver:
    """Counts detections per source and blocks sources that reach a rule."""

    def __init__(self, resources: Resources, emit: Callable[[SecurityEvent], None]) -> None:
        self.resources = resources
        self.emit = emit
        self.tasks: set[asyncio.Task[None]] = set()
        self.dropped = 0
        self._errors = ErrorLog("counting detections for the deny list")

    def observe(self, exchange: Exchange) -> None:
        policy = exchange.match.policy.protection if exchange.match else None
        if policy is None or policy.blocking is None or not exchange.events:
            return
        if policy.blocking.thresholds and any(self._counted(event) for event in exchange.events):
            if len(self.tasks) >= MAX_TASKS_IN_FLIGHT:
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    log.warning(
                        "deny list thresholds: %d updates dropped, the store is too slow",
                        self.dropped,
                    )
                return
            task = asyncio.get_running_loop().create_task(self._update(exchange, policy))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    @staticmethod
    def _counted(event: SecurityEvent) -> bool:
        return event.action in COUNTED_ACTIONS and event.layer not in NOT_COUNTED_LAYERS

    async def _update(self, exchange: Exchange, policy: ProtectionPolicy) -> None:
        blocking = policy.blocking
        assert blocking is not None
        state = state_for(self.resources, policy.state)
        deny_list = deny_list_for(self.resources, policy.state, blocking.cache_seconds)
        tenant = exchange.tenant_id or "-"
        events = [event for event in exchange.events if self._counted(event)]
        try:
            for index, rule in enumerate(blocking.thresholds):
                hits = sum(
                    1 for event in events if event.severity >= Severity[rule.min_severity.upper()]
                )
                if hits:
                    await self._apply(
                        rule,
                        index,
                        hits,
                        exchange,
                        tenant,
                        blocking,
                        state,
                        deny_list,
                        policy.state.key_prefix,
                    )
        except StateUnavailable as error:
            self._errors.report(error)

    async def _apply(
        self,
        rule: ThresholdRule,
        index: int,
        hits: int,
        exchange: Exchange,
        tenant: str,
        blocking: BlockingProtection,
        state: ProtectionState,
        deny_list: DenyList,
        prefix: str,
    ) -> None:
        value = verified_source_of(exchange, rule.source)
        if value is None:
            return
        key = (
            f"{prefix}:{{{quote(tenant, safe='')}}}:threshold:{index}:{rule.source}:"
            f"{quote(value, safe='')}"
        )
        total = 0
        for _ in range(hits):
            total = await state.count(key, rule.window_seconds)
        if total != rule.events and not (total > rule.events and total - hits < rule.events):
            return
        owner = ALL_TENANTS if blocking.mssp_wide else tenant
        reason = (
            f"{rule.events} {rule.min_severity} or worse events within {rule.window_seconds:g} s"
        )
        entry = await deny_list.add(
            rule.source, value, owner, rule.block_seconds, reason, origin="detector"
        )
        event = exchange.event(
            "blocking",
            "source-blocked",
            f"{rule.source} blocked for {rule.block_seconds:g} s: {reason}",
            Severity.HIGH,
            action=Action.OBSERVED,
            evidence={
                "source": rule.source,
                "value": entry.value,
                "tenant_scope": owner,
                "expires_at": entry.expires_at,
            },
        )
        self.emit(event)


def create_observer(
    config: GatewayConfig, resources: Resources, emit: Callable[[SecurityEvent], None] | None = None
) -> ThresholdObserver | None:
    """Return the observer when any policy sets protection.blocking, else None."""
    policies = [config.policy.protection]
    for tenant in config.tenants:
        policies.append(tenant.policy.protection if tenant.policy else None)
        for service in tenant.services:
            policies.append(service.policy.protection if service.policy else None)
            policies.extend(
                route.policy.protection if route.policy else None for route in service.routes
            )
    if not any(policy is not None and policy.blocking is not None for policy in policies):
        return None
    return ThresholdObserver(resources, emit or (lambda event: None))
