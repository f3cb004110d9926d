"""The event pipeline: one bounded queue from the data plane to every sink.

``submit`` never blocks and never waits for a sink. Events go into a
bounded in-memory queue (a full queue drops the event and counts it); a
dispatcher moves them into a disk spool per sink; a worker per sink
delivers from its spool and retries failures with exponential back-off.
A sink that is down therefore fills only its own spool, and events still
in a spool are delivered after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from stockade.config.models import GatewayConfig
from stockade.events import metrics
from stockade.events.alerts import AlertEvaluator
from stockade.events.config import AlertRule, SinkConfig, severity_of
from stockade.events.model import SecurityEvent, Severity
from stockade.events.serialization import EventDecodeError, decode_line, encode_line
from stockade.events.sinks.base import DeliveryError, Sink
from stockade.events.sinks.registry import build_sink
from stockade.events.spool import DiskSpool, SpoolSlot
from stockade.tasks import stop_task

log = logging.getLogger(__name__)

DISPATCH_BATCH = 500
"""Most events the dispatcher moves to the spools in one step."""

LOG_EVERY_DROPS = 1000
"""Drops between two warnings about a full queue or spool, so a flood logs little."""


@dataclass(slots=True)
class SinkStats:
    delivered: int = 0
    failed_attempts: int = 0
    dropped_spool_full: int = 0
    unreadable: int = 0


@dataclass(frozen=True, slots=True)
class SinkRoute:
    """The tenants and minimum severity of the events a sink receives."""

    tenants: frozenset[str] | None
    min_severity: Severity

    def accepts(self, event: SecurityEvent) -> bool:
        if event.severity < self.min_severity:
            return False
        return self.tenants is None or event.tenant in self.tenants


class SinkWorker:
    """Delivers one sink's spooled events, retrying failures with back-off."""

    def __init__(self, sink: Sink, config: SinkConfig, spool: DiskSpool,
                 slot: SpoolSlot | None = None) -> None:
        self.sink = sink
        self.config = config
        self.spool = spool
        self._slot = slot
        self.route = SinkRoute(frozenset(config.tenants) if config.tenants is not None else None,
                               severity_of(config.min_severity))
        self.stats = SinkStats()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._retry_delay = config.retry_initial_seconds

    @property
    def name(self) -> str:
        return self.sink.name

    def enqueue(self, events: list[SecurityEvent]) -> None:
        dropped = self.spool.append([encode_line(event) for event in events])
        if dropped:
            self.stats.dropped_spool_full += dropped
            metrics.COUNTERS.dropped(self.name, "spool_full", dropped)
            if self.stats.dropped_spool_full % LOG_EVERY_DROPS < dropped:
                log.warning("spool of sink %s is full (%d bytes); %d events dropped so far",
                            self.name, self.spool.max_bytes, self.stats.dropped_spool_full)
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"event-sink-{self.name}")

    async def _run(self) -> None:
        while True:
            batch = self.spool.read(self.config.batch_size)
            if not batch.lines:
                self.spool.commit(batch.end)  # skips a line cut short by a crash
                self._wake.clear()
                await self._wake.wait()
                continue
            events = self._decode(batch.lines)
            if not events:
                self.spool.commit(batch.end)
                continue
            if await self._deliver(events):
                self.spool.commit(batch.end)

    def _decode(self, lines: list[bytes]) -> list[SecurityEvent]:
        events = []
        for line in lines:
            try:
                events.append(decode_line(line))
            except EventDecodeError as exc:
                self.stats.unreadable += 1
                metrics.COUNTERS.dropped(self.name, "unreadable")
                log.error("sink %s: skipping an unreadable spooled event: %s", self.name, exc)
        return events

    async def _deliver(self, events: list[SecurityEvent]) -> bool:
        try:
            await self.sink.deliver(events)
        except DeliveryError as exc:
            self.stats.failed_attempts += 1
            metrics.COUNTERS.delivery_failed(self.name)
            delay = self._retry_delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter only
            log.warning("sink %s: delivery of %d events failed (attempt %d), retrying in "
                        "%.1f s: %s", self.name, len(events), self.stats.failed_attempts,
                        delay, exc)
            self._retry_delay = min(self._retry_delay * 2, self.config.retry_max_seconds)
            await asyncio.sleep(delay)
            return False
        if self._retry_delay != self.config.retry_initial_seconds:
            log.info("sink %s: delivering again", self.name)
        self._retry_delay = self.config.retry_initial_seconds
        self.stats.delivered += len(events)
        metrics.COUNTERS.delivered(self.name, len(events))
        return True

    def idle(self) -> bool:
        return not self.spool.read(1).lines

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await stop_task(task)
        await self.sink.close()
        self.spool.close()
        if self._slot is not None:
            self._slot.release()
            self._slot = None


class EventPipeline:
    """Bounded path from ``submit`` to the sinks; see the module docstring."""

    def __init__(self, workers: Iterable[SinkWorker], queue_size: int,
                 alert_rules: Iterable[AlertRule] = (),
                 observers: Iterable[Callable[[SecurityEvent], None]] = (metrics.record,)) -> None:
        self.workers = {worker.name: worker for worker in workers}
        self.queue_size = queue_size
        self.submitted = 0
        self.overflow = 0
        self._queue: asyncio.Queue[SecurityEvent] | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._alerts = AlertEvaluator(alert_rules)
        self._observers = list(observers)
        self._closing = False

    def submit(self, event: SecurityEvent) -> None:
        """Hand an event to the pipeline without waiting; a full queue drops and counts it."""
        for observer in self._observers:
            observer(event)
        if self._queue is None or self._closing:
            self._count_overflow("closed")
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self._count_overflow("queue_full")
            return
        self.submitted += 1

    def _count_overflow(self, reason: str) -> None:
        self.overflow += 1
        metrics.COUNTERS.dropped("-", reason)
        if self.overflow % LOG_EVERY_DROPS == 1:
            log.warning("event pipeline dropped an event (%s); %d dropped so far",
                        reason, self.overflow)

    def set_alert_rules(self, rules: Iterable[AlertRule]) -> None:
        self._alerts.set_rules(rules)

    def apply_config(self, config: GatewayConfig) -> None:
        """Take over what a reloaded config can change in place: the alert rules.

        Sinks, spool and queue size stay as they started; a change of them
        is logged and takes effect when the process restarts.
        """
        self._alerts.set_rules(config.events.alert_rules)
        running = sorted(worker.config.model_dump_json() for worker in self.workers.values())
        configured = sorted(sink.model_dump_json() for sink in config.events.sinks)
        if running != configured or config.events.queue_size != self.queue_size:
            log.warning("event sinks or queue size changed in the config; the change takes "
                        "effect when the gateway restarts")

    async def start(self) -> None:
        self._queue = asyncio.Queue(self.queue_size)
        for worker in self.workers.values():
            worker.start()
        self._dispatcher = asyncio.create_task(self._dispatch(), name="event-dispatcher")
        log.info("event pipeline started with sinks %s", ", ".join(self.workers) or "(none)")

    async def _dispatch(self) -> None:
        assert self._queue is not None
        while True:
            batch = [await self._queue.get()]
            while len(batch) < DISPATCH_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            self._route(batch)

    def _route(self, batch: list[SecurityEvent]) -> None:
        for worker in self.workers.values():
            accepted = [event for event in batch if worker.route.accepts(event)]
            if accepted:
                worker.enqueue(accepted)
        for event in batch:
            for sink_name, alert in self._alerts.observe(event):
                target = self.workers.get(sink_name)
                if target is None:
                    log.error("alert rule %s names sink %s, which is not running",
                              alert.rule_ids[0], sink_name)
                    continue
                target.enqueue([alert])

    async def flush(self, timeout: float) -> bool:
        """Wait until every sink took every queued event; False when ``timeout`` ran out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            queue_empty = self._queue is None or self._queue.empty()
            if queue_empty and all(worker.idle() for worker in self.workers.values()):
                return True
            await asyncio.sleep(0.02)
        return False

    async def close(self, timeout: float) -> None:
        """Stop accepting events, deliver what can be delivered within ``timeout``.

        Events still spooled for a sink that did not take them in time stay
        on disk and are delivered after the next start.
        """
        self._closing = True
        if self._queue is not None:
            remaining: list[SecurityEvent] = []
            while not self._queue.empty():
                remaining.append(self._queue.get_nowait())
            if remaining:
                self._route(remaining)
        delivered = await self.flush(timeout)
        dispatcher, self._dispatcher = self._dispatcher, None
        if dispatcher is not None:
            await stop_task(dispatcher)
        for worker in self.workers.values():
            await worker.stop()
        if not delivered:
            log.warning("event pipeline closed with events still spooled for: %s",
                        ", ".join(name for name, worker in self.workers.items()
                                  if not worker.idle()) or "(none)")

    def stats(self) -> dict[str, SinkStats]:
        return {name: worker.stats for name, worker in self.workers.items()}


def create_event_pipeline(config: GatewayConfig) -> EventPipeline:
    """Create (not start) the pipeline of ``config.events``; await ``start()`` next.

    Each sink spools under ``events.spool_dir/SINK/slot-N``, one slot per
    process. Raises ValueError when a sink's secret variable is unset.
    """
    events = config.events
    workers = []
    for sink_config in events.sinks:
        sink = build_sink(sink_config, config.store.url)
        slot = SpoolSlot(Path(events.spool_dir) / sink_config.name)
        spool = DiskSpool(slot.directory, sink_config.spool_max_bytes)
        workers.append(SinkWorker(sink, sink_config, spool, slot))
    return EventPipeline(workers, events.queue_size, events.alert_rules)
