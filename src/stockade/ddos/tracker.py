"""One route's traffic: buckets, baseline, surge state and per-client rates, in one worker.

Stages call ``arrive`` for every request and ``decide`` for the ones they
judge. The log observer calls ``outcome`` with the upstream's latency and
error. Bucket closes happen lazily, on the first call after a boundary, so
an idle route costs nothing. With a shared store the closed bucket is sent
as a task, and the surge is judged on the cluster's totals when the reply
arrives. While the store fails, the worker judges its own totals.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stockade.ddos.baseline import Baseline
from stockade.ddos.buckets import BucketTotals, Window, window_buckets
from stockade.ddos.clients import ClientRates, KnownSources
from stockade.ddos.config import DdosPolicy
from stockade.ddos.detection import Signals, evaluate, rate_threshold
from stockade.ddos.shedding import Client, shed_reason
from stockade.ddos.state import BucketReport, SharedView, StateUnavailable, TrafficStore
from stockade.ddos.surge import SurgeState, Transition
from stockade.events.model import Severity

log = logging.getLogger(__name__)

MAX_SOURCES_PER_REPORT = 1000  # new or queried sources sent with one bucket; the rest wait
STALE_VIEW_BUCKETS = 3  # a shared view older than this many buckets is not used
SHARED_WARMUP_REPLIES = 2  # first replies, whose newest bucket may predate this worker's reports
ERROR_LOG_INTERVAL_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class PendingEvent:
    kind: str
    message: str
    severity: Severity
    evidence: dict[str, Any]


@dataclass(slots=True)
class _Outbox:
    totals: BucketTotals = field(default_factory=BucketTotals)
    tripped: bool = False
    new_sources: list[str] = field(default_factory=list)
    queries: set[str] = field(default_factory=set)


class RouteTracker:
    def __init__(
        self,
        tenant: str,
        route: str,
        policy: DdosPolicy,
        known: KnownSources,
        store: TrafficStore | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        authenticating: bool = True,
    ) -> None:
        self.tenant = tenant
        self.route = route  # "<service>/<route>", for logs and store keys
        self.policy = policy
        self.known = known
        self.store = store
        self.clock = clock
        self.bucket_seconds = policy.bucket_seconds
        self.window = Window(window_buckets(policy))
        self.window_seconds = self.window.size * self.bucket_seconds
        self.baseline = Baseline(policy.bucket_seconds, policy.baseline_seconds)
        self.authenticating = authenticating
        # Without authentication every client is anonymous, so that step would shed everyone.
        order = tuple(
            kind for kind in policy.shedding.order if authenticating or kind != "unauthenticated"
        )
        self.surge = SurgeState(policy, order)
        self.clients = ClientRates(policy.detection.window_seconds)
        self.current = BucketTotals()
        self.index: int | None = None
        self.signals: Signals | None = None
        self.fair_share: float | None = None  # cost per second per client while shares apply
        self.tightest_share: float | None = None  # the lowest fair share of the current surge
        self.local_share = 1.0  # this worker's part of the cluster's traffic
        self.events: list[PendingEvent] = []
        self._outbox = _Outbox()
        self._sending: asyncio.Task[None] | None = None
        self._shared: SharedView | None = None
        self._shared_at = -math.inf
        self._replies = 0
        self._closed = 0  # buckets closed so far
        self._last_error_log = -math.inf

    # counting ---------------------------------------------------------------

    def arrive(self, cost: float, source: str) -> float:
        """Count an arriving request; return the time used, for the decision that follows."""
        now = self.clock()
        self._roll(now)
        current = self.current
        current.cost += cost
        current.admitted += cost
        current.requests += 1
        if not self.surge.active and self.known.remember(source, now) and self.store is not None:
            if len(self._outbox.new_sources) < MAX_SOURCES_PER_REPORT:
                self._outbox.new_sources.append(source)
        return now

    def outcome(self, latency: float, error: bool) -> None:
        now = self.clock()
        self._roll(now)
        self.current.responses += 1
        self.current.latency_sum += latency
        if error:
            self.current.errors += 1

    def decide(self, client: Client, cost: float, now: float) -> str | None:
        """Return why the request is shed, or None and count it against its client."""
        limit = self.source_limit(now)
        if limit is None and not self.surge.active:
            # Outside surges and limits nothing is shed, so clients are not counted either:
            # a surge escalates to fair shares only after escalate_seconds of counting.
            return None
        known = client.authenticated or self.known.knows(client.source, now, self.known_cutoff(now))
        if not known and self.surge.active and self.store is not None:
            if len(self._outbox.queries) < MAX_SOURCES_PER_REPORT:
                self._outbox.queries.add(client.source)
        rate = self.clients.rate(client.key, now) if limit is not None else 0.0
        reason = shed_reason(
            self.surge,
            client,
            known=known,
            rate=rate,
            limit=limit,
        )
        if reason is None:
            self.clients.add(client.key, cost, now)
        else:
            self.current.admitted -= cost
        return reason

    def known_cutoff(self, now: float) -> float:
        """Return the time before which a source must have been first seen to count as known."""
        if self.surge.active:
            return self.surge.started - self.window_seconds
        return now

    def source_limit(self, now: float) -> float | None:
        """Return the cost per second one client may send now; None is no limit."""
        normal = self.policy.source_rate
        surge = self.surge
        if surge.active and surge.sheds("over_fair_share") and self.fair_share is not None:
            return self.fair_share if normal is None else min(normal, self.fair_share)
        progress = surge.relax_progress(now)
        if progress is None or surge.fair_share_at_end is None:
            return normal
        ceiling = normal if normal is not None else surge.threshold_at_end
        start = surge.fair_share_at_end
        return start + (max(ceiling, start) - start) * progress

    # buckets ----------------------------------------------------------------

    def _roll(self, now: float) -> None:
        index = math.floor(now / self.bucket_seconds)
        if self.index is None:
            self.index = index
            return
        if index <= self.index:
            return
        # The first bucket began part way through, at the first request, so the baseline skips it.
        learn = self._closed > 0
        self._closed += 1
        closed, self.current = self.current, BucketTotals()
        gap = index - self.index
        self.index = index
        self.window.push(closed)
        for _ in range(min(gap - 1, self.window.size)):
            self.window.push(BucketTotals())
        if self.store is not None:
            self._send(closed)
            shared = self._shared
            if (
                shared is not None
                and now - self._shared_at <= STALE_VIEW_BUCKETS * self.bucket_seconds
            ):
                return  # the reply to this bucket's report judges the surge
        self._judge(now, self.window.totals(), closed, gap - 1, None, learn)

    def _judge(
        self,
        now: float,
        window: BucketTotals,
        newest: BucketTotals,
        idle_buckets: int,
        shared_tripped_ago: float | None,
        learn: bool = True,
    ) -> None:
        baseline = self.baseline
        ready = baseline.history_seconds >= self.policy.warmup_seconds
        signals = evaluate(window, self.window_seconds, baseline, self.policy.detection)
        self.signals = signals
        tripped = ready and signals.tripped
        self._outbox.tripped = self._outbox.tripped or tripped
        tripped_anywhere = tripped or (
            shared_tripped_ago is not None
            and shared_tripped_ago < self.policy.release.quiet_seconds
        )
        if shared_tripped_ago is not None and not tripped:
            self.surge.last_tripped = max(self.surge.last_tripped, now - shared_tripped_ago)
        shares_applied = self.surge.sheds("over_fair_share")
        admitted_rate = newest.admitted / self.bucket_seconds
        transition = self.surge.observe(now, tripped_anywhere, admitted_rate, signals.threshold)
        if transition is Transition.ENDED and shares_applied:
            self.surge.fair_share_at_end = self.tightest_share
        if learn and not self.surge.active and not tripped_anywhere and transition is None:
            baseline.update(newest)
            baseline.idle(idle_buckets)  # the empty buckets came after the closed one
        if self.surge.active:
            self._update_fair_share(now)
        else:
            self.fair_share = None  # after a surge, source_limit ramps from fair_share_at_end
        if transition is not None:
            # Signals that tripped here, or "shared" when another node's signal started it.
            names = signals.names() if tripped else ["shared"]
            if transition is Transition.ENDED:
                names = []
            self._announce(transition, signals, names)

    def _update_fair_share(self, now: float) -> None:
        active = max(1, self.clients.active(now, self.window_seconds))
        target = rate_threshold(self.baseline, self.policy.detection) * self.local_share
        share = max(self.policy.shedding.fair_share_floor, target / active)
        self.fair_share = share
        if self.surge.started == now or self.tightest_share is None:
            self.tightest_share = share
        else:
            self.tightest_share = min(self.tightest_share, share)

    def _announce(self, transition: Transition, signals: Signals, names: list[str]) -> None:
        surge = self.surge
        evidence: dict[str, Any] = {
            "signals": names,
            "rate": round(signals.rate, 3),
            "threshold": round(signals.threshold, 3),
            "baseline_rate": round(self.baseline.rate, 3),
            "latency_seconds": round(signals.latency, 4),
            "baseline_latency_seconds": round(self.baseline.latency, 4),
            "error_ratio": round(signals.error_ratio, 4),
            "window_seconds": self.window_seconds,
            "shedding": sorted(surge.classes),
        }
        if transition is Transition.STARTED:
            log.warning(
                "surge on %s/%s (signals: %s; threshold %.1f, baseline %.1f cost/s); shedding %s",
                self.tenant,
                self.route,
                ", ".join(names),
                signals.threshold,
                self.baseline.rate,
                ", ".join(sorted(surge.classes)),
            )
            self.events.append(
                PendingEvent(
                    "ddos-surge-detected",
                    "traffic surge detected, shedding load",
                    Severity.HIGH,
                    evidence,
                )
            )
        elif transition is Transition.ESCALATED:
            log.warning(
                "surge on %s/%s escalated: shedding %s",
                self.tenant,
                self.route,
                ", ".join(sorted(surge.classes)),
            )
            self.events.append(
                PendingEvent(
                    "ddos-surge-escalated", "surge persists, shedding more", Severity.HIGH, evidence
                )
            )
        else:
            evidence["duration_seconds"] = round((surge.ended or 0.0) - surge.started, 3)
            log.warning(
                "surge on %s/%s ended after %.1fs",
                self.tenant,
                self.route,
                evidence["duration_seconds"],
            )
            self.events.append(
                PendingEvent(
                    "ddos-surge-ended", "surge ended, limits relax", Severity.INFO, evidence
                )
            )

    # shared store -------------------------------------------------------------

    def _send(self, closed: BucketTotals) -> None:
        self._outbox.totals.add(closed)
        if self._sending is not None and not self._sending.done():
            return  # the next report carries this bucket too
        outbox, self._outbox = self._outbox, _Outbox()
        now = self.clock()
        report = BucketReport(
            outbox.totals,
            outbox.tripped,
            tuple(outbox.new_sources),
            tuple(outbox.queries),
            max(0.0, now - self.known_cutoff(now)),
        )
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop (a synchronous test): judge locally
        self._sending = loop.create_task(self._exchange(report))

    async def _exchange(self, report: BucketReport) -> None:
        assert self.store is not None
        try:
            view = await self.store.publish(self.tenant, self.route, report)
        except StateUnavailable as error:
            now = self.clock()
            if now - self._last_error_log >= ERROR_LOG_INTERVAL_SECONDS:
                self._last_error_log = now
                log.error(
                    "ddos shared state unavailable for %s/%s, judging this worker's "
                    "traffic alone: %s",
                    self.tenant,
                    self.route,
                    error,
                )
            return
        now = self.clock()
        self._shared = view
        self._shared_at = now
        self._replies += 1
        for source in view.known:
            # Some node saw it before the cut-off, so it counts as first seen then.
            self.known.remember(source, now, first=self.known_cutoff(now))
        local = self.window.totals().cost
        self.local_share = min(1.0, local / view.window.cost) if view.window.cost > 0 else 1.0
        learn = self._replies > SHARED_WARMUP_REPLIES
        self._judge(now, view.window, view.newest, 0, view.tripped_ago, learn)

    def take_events(self) -> list[PendingEvent]:
        events, self.events = self.events, []
        return events
