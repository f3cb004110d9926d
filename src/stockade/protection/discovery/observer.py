"""The gateway's discovery observer: exchanges in, inventories and findings out.

``observe`` runs in the log phase of every exchange. It only builds a
compact ``Observation`` and puts it in a bounded queue. When the queue is
full the record is dropped and counted, so a burst never slows a request.
A background task drains the queue and learns each observation into the
service's inventory. Every ``flush_interval`` seconds it merges what it
learned into the database and reports new findings through ``emit``.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stockade.config.models import GatewayConfig, Service, merge_policy
from stockade.events.model import SecurityEvent
from stockade.protection.discovery.analysis import Observation, analyze
from stockade.protection.discovery.compare import Finding
from stockade.protection.discovery.config import DiscoveryPolicy, DiscoverySettings
from stockade.protection.discovery.inventory import ServiceInventory
from stockade.protection.discovery.storage import InventoryStore, StoreError
from stockade.protection.discovery.tracking import ServiceTracker
from stockade.tasks import stop_task

if TYPE_CHECKING:
    from stockade.gateway.exchange import Exchange
    from stockade.gateway.routing import Resources

log = logging.getLogger(__name__)

EmitFunction = Callable[[SecurityEvent], None]

BATCH_SIZE = 256
"""Observations analyzed before the drain task yields to the event loop."""

BACKPRESSURE_SHARE = 0.9
"""Queue fill above which no more bodies are sampled, since their analysis costs the most."""

SKIPPED_STATUSES = frozenset({404})
"""Statuses that show the path is no endpoint at all (scanners probing for files)."""

DEFAULT_POLICY = DiscoveryPolicy()
"""Settings of a route whose policies have no discovery section."""

RESOURCE_KEY = "discovery.observer"
STORE_KEY = "discovery.store"


@dataclass(slots=True)
class ObserverCounters:
    observed: int = 0  # records queued
    dropped: int = 0  # records lost to a full queue
    skipped: int = 0  # exchanges not recorded: blocked, unmatched, excluded or 404
    analyzed: int = 0
    failed: int = 0  # records whose analysis raised
    flushes: int = 0
    findings: int = 0  # events emitted


@dataclass(slots=True)
class _ServiceSettings:
    service: Service
    policy: DiscoveryPolicy
    enabled: bool


@dataclass(slots=True)
class _Sampler:
    """Deterministic sampling: ``rate`` of calls return True, spread evenly."""

    credit: dict[tuple[str, str], float] = field(default_factory=dict)

    def take(self, key: tuple[str, str], rate: float) -> bool:
        if rate <= 0.0:
            return False
        credit = self.credit.get(key, 0.0) + rate
        sampled = credit >= 1.0
        self.credit[key] = credit - 1.0 if sampled else credit
        return sampled


class DiscoveryObserver:
    """A ``LogObserver`` that learns every tenant's API inventory from the gateway's traffic."""

    def __init__(
        self,
        config: GatewayConfig,
        store: InventoryStore,
        emit: EmitFunction | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        settings = config.discovery or DiscoverySettings()
        self.settings = settings
        self.store = store
        self.emit = emit
        self.clock = clock
        self.counters = ObserverCounters()
        self.max_body_bytes = settings.max_body_bytes
        self._queue: asyncio.Queue[Observation] = asyncio.Queue(settings.queue_size)
        self._sampler = _Sampler()
        self._services: dict[tuple[str, str], _ServiceSettings] = {}
        self._trackers: dict[tuple[str, str], ServiceTracker] = {}
        self._task: asyncio.Task[None] | None = None
        self._next_orphan_check = 0.0
        self._exit_hook = False
        # Held while records are learned and while a flush compares inventories in
        # a thread, so the two never touch the same inventory at once.
        self._busy = asyncio.Lock()
        self.update_config(config)

    # configuration ----------------------------------------------------------

    def update_config(self, config: GatewayConfig) -> None:
        """Take the services and policies of a (re)loaded config; inventories are kept."""
        services: dict[tuple[str, str], _ServiceSettings] = {}
        for tenant in config.tenants:
            tenant_policy = merge_policy(config.policy, tenant.policy)
            for service in tenant.services:
                policy = merge_policy(tenant_policy, service.policy)
                services[(tenant.id, service.id)] = _ServiceSettings(
                    service,
                    policy.discovery or DEFAULT_POLICY,
                    policy.mode_of("discovery") != "off",
                )
        self._services = services
        for key, tracker in self._trackers.items():
            if key in services:
                tracker.configure(services[key].service, services[key].policy)

    def set_emit(self, emit: EmitFunction) -> None:
        """Set where findings go; until then they wait in the database's outbox."""
        self.emit = emit

    # log phase: called by the gateway for each exchange -----------------------

    def _policy_of(self, exchange: Exchange) -> DiscoveryPolicy | None:
        match = exchange.match
        if match is None or match.policy.mode_of("discovery") == "off":
            return None
        return match.policy.discovery or DEFAULT_POLICY

    def wants_bodies(self, exchange: Exchange) -> bool:
        """Decide, before the bodies stream, whether to capture up to ``max_body_bytes`` of each."""
        policy = self._policy_of(exchange)
        if policy is None or exchange.match is None:
            return False
        if self._queue.qsize() >= BACKPRESSURE_SHARE * self.settings.queue_size:
            return False
        rate = (
            policy.body_sample_rate
            if policy.body_sample_rate is not None
            else self.settings.body_sample_rate
        )
        key = (exchange.match.tenant.id, exchange.match.service.id)
        sampled = self._sampler.take(key, rate)
        if sampled:
            exchange.state[RESOURCE_KEY] = True
        return sampled

    def observe(self, exchange: Exchange) -> None:
        """Queue a compact record of a finished exchange without blocking; a full queue drops it."""
        record = self._record(exchange)
        if record is None:
            self.counters.skipped += 1
            return
        try:
            self._queue.put_nowait(record)
        except asyncio.QueueFull:
            self.counters.dropped += 1
            return
        self.counters.observed += 1
        if self._task is None:
            self._start_task()

    def _record(self, exchange: Exchange) -> Observation | None:
        policy = self._policy_of(exchange)
        match = exchange.match
        status = exchange.status or (exchange.response.status if exchange.response else 0)
        if policy is None or match is None or not status or status in SKIPPED_STATUSES:
            return None
        if any(verdict.action == "reject" for verdict in exchange.verdicts):
            return None  # blocked by a stage, so the request never reached the upstream
        target = exchange.request.target.decode("latin-1")
        if policy.exclude_prefixes and target.startswith(tuple(policy.exclude_prefixes)):
            return None
        sampled = bool(exchange.state.get(RESOURCE_KEY))
        cap = self.max_body_bytes
        client = exchange.client
        request_body = exchange.body if sampled else None
        response_body = exchange.response_body if sampled else None
        response_length = exchange.response.content_length if exchange.response else None
        return Observation(
            tenant=match.tenant.id,
            service=match.service.id,
            method=exchange.request.method.decode("latin-1"),
            target=target,
            status=status,
            time=exchange.started_wall,
            host=exchange.request.authority.decode("latin-1"),
            request_fields=list(exchange.request.fields),
            response_fields=list(exchange.response.fields) if exchange.response else None,
            request_body=request_body[:cap] if request_body is not None else None,
            response_body=response_body[:cap] if response_body is not None else None,
            request_truncated=exchange.body_truncated
            or _cut(request_body, exchange.request.content_length, cap),
            response_truncated=_cut(response_body, response_length, cap),
            request_id=exchange.request_id,
            client_certificate=client.peer_certificate is not None
            or client.peer_certificate_der is not None,
            auth_method=exchange.consumer.auth_method if exchange.consumer else None,
        )

    # background work ------------------------------------------------------------

    def _start_task(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet: the first call from inside one starts the task
        self._task = loop.create_task(self._run(), name="discovery-observer")
        if not self._exit_hook:
            # NOTE: a worker that stops without calling close() would lose up to
            # flush_interval seconds of counts; this hook writes them at exit.
            atexit.register(self.write_at_exit)
            self._exit_hook = True

    def write_at_exit(self) -> None:
        """Analyze what is queued and merge every unwritten delta, without the event loop."""
        if self._task is None:
            return  # close() already wrote everything
        self._task = None
        try:
            self.drain_now()
        except Exception:
            log.exception("discovery could not analyze the queued exchanges at exit")
        for tracker in self._trackers.values():
            try:
                tracker.write_delta(self.store, self.clock())
            except Exception:
                log.exception(
                    "discovery could not store the inventory of %s/%s at exit",
                    tracker.tenant,
                    tracker.service,
                )

    async def start(self) -> None:
        """Start the drain task and load the declared documents of every service."""
        if self._task is None:
            self._start_task()
        for key, settings in self._services.items():
            if settings.enabled and settings.service.openapi:
                await self._tracker(*key).refresh_declared(self.store, self.clock())

    async def close(self) -> None:
        """Stop the drain task, analyze what is queued and write it out."""
        task, self._task = self._task, None
        if task is not None:
            await stop_task(task)
        self.drain_now()
        await self.flush()

    async def _run(self) -> None:
        interval = self.settings.flush_interval
        next_flush = self.clock() + interval
        while True:
            try:
                record = await asyncio.wait_for(
                    self._queue.get(), max(0.01, next_flush - self.clock())
                )
            except TimeoutError:
                record = None
            if record is not None:
                async with self._busy:
                    self._ingest(record)
                    self.drain_now(BATCH_SIZE)
            if self.clock() >= next_flush:
                await self.flush()
                next_flush = self.clock() + interval

    def drain_now(self, limit: int | None = None) -> int:
        """Analyze queued records without waiting; return how many."""
        done = 0
        while not self._queue.empty() and (limit is None or done < limit):
            self._ingest(self._queue.get_nowait())
            done += 1
        return done

    def _ingest(self, record: Observation) -> None:
        try:
            path, unit = analyze(record)
            self._tracker(record.tenant, record.service).learn(path, unit)
        except Exception:
            self.counters.failed += 1
            log.exception(
                "discovery could not analyze request %s of %s/%s",
                record.request_id,
                record.tenant,
                record.service,
            )
            return
        self.counters.analyzed += 1

    def _tracker(self, tenant: str, service: str) -> ServiceTracker:
        key = (tenant, service)
        tracker = self._trackers.get(key)
        if tracker is None:
            tracker = ServiceTracker(tenant, service)
            settings = self._services.get(key)
            if settings is not None:
                tracker.configure(settings.service, settings.policy)
            self._trackers[key] = tracker
        return tracker

    async def flush(self) -> None:
        """Write what was learned to the database and report new findings."""
        async with self._busy:
            await self._flush_all()

    async def _flush_all(self) -> None:
        now = self.clock()
        check_orphans = now >= self._next_orphan_check
        if check_orphans:
            self._next_orphan_check = now + self.settings.orphan_check_interval
        for tracker in list(self._trackers.values()):
            try:
                findings = await tracker.flush(
                    self.store, now, check_orphans, claim=self.emit is not None
                )
            except Exception:
                log.exception(
                    "discovery could not store the inventory of %s/%s",
                    tracker.tenant,
                    tracker.service,
                )
                continue
            self._report(tracker, findings)
        self.counters.flushes += 1

    def _report(self, tracker: ServiceTracker, findings: list[Finding]) -> None:
        if self.emit is None:
            return
        for finding in findings:
            try:
                self.emit(finding.to_event(tracker.tenant, tracker.service))
            except Exception:
                log.exception(
                    "discovery could not emit the %s finding %r", finding.kind, finding.key
                )
                continue
            self.counters.findings += 1

    def inventory(self, tenant: str, service: str) -> ServiceInventory | None:
        """Return the in-memory inventory of a service (stored and not yet stored counts)."""
        tracker = self._trackers.get((tenant, service))
        return tracker.full if tracker else None


def _cut(body: bytes | None, declared_length: int | None, cap: int) -> bool:
    """Tell whether a captured body is only a prefix of the message body.

    A body that fills the cap counts as cut: the gateway stops copying there,
    so a body of exactly ``cap`` bytes cannot be distinguished from a longer one.
    """
    if body is None:
        return False
    if declared_length is not None and len(body) < declared_length:
        return True
    return cap > 0 and len(body) >= cap


def create_observer(
    config: GatewayConfig, resources: Resources, emit: EmitFunction | None = None
) -> DiscoveryObserver | None:
    """Build the worker's discovery observer, or return None when discovery is off.

    The observer and its store live in ``resources``, so a config reload that
    builds a new runtime with the same resources keeps the inventories.
    """
    settings = config.discovery
    if settings is None or not settings.enabled:
        return None
    try:
        store: InventoryStore = resources.get_or_create(
            STORE_KEY, lambda: InventoryStore(settings.database)
        )
    except StoreError as error:
        # Traffic matters more than the inventory: serve without discovery.
        log.error("API discovery is off because its database cannot be opened: %s", error)
        return None
    observer: DiscoveryObserver = resources.get_or_create(
        RESOURCE_KEY, lambda: DiscoveryObserver(config, store, emit)
    )
    # NOTE: a reload takes new services and policies, but the gateway-wide
    # settings (database, queue size, intervals) keep their first values until restart.
    observer.update_config(config)
    if emit is not None:
        observer.set_emit(emit)
    return observer
