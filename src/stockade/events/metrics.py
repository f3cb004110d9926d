"""Counters of security events per tenant, and of the event pipeline.

Counting happens in plain dicts, as in the gateway's own metrics. A worker
is meant to put ``COUNTERS.snapshot()`` into its metrics snapshot, and the
metrics listener to turn the snapshots of every worker into Prometheus
families with ``families(snapshots)``. The pipeline counts every event it
is handed through ``record(event)``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, Metric

from stockade.events.model import Action, SecurityEvent

RATELIMIT_LAYER = "ratelimit"
AUTH_LAYER = "auth"

FAMILIES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "blocks": ("stockade_security_blocks", "Requests blocked by a security layer.",
               ("tenant", "layer")),
    "detections": ("stockade_security_detections",
                   "Detections recorded without blocking (detect mode).", ("tenant", "layer")),
    "ratelimit_rejections": ("stockade_ratelimit_rejections",
                             "Requests rejected by a rate limit.", ("tenant",)),
    "auth_failures": ("stockade_auth_failures",
                      "Failed authentications, blocked or only detected.", ("tenant",)),
    "events_dropped": ("stockade_events_dropped",
                       "Security events lost before reaching a sink, by reason.",
                       ("sink", "reason")),
    "event_deliveries": ("stockade_event_deliveries", "Events a sink accepted.", ("sink",)),
    "event_delivery_failures": ("stockade_event_delivery_failures",
                                "Delivery attempts that failed and will be retried.", ("sink",)),
}
"""Counter name in snapshots: (Prometheus name without _total, help, label names)."""


class EventCounters:
    """One process's counters, keyed by label values."""

    def __init__(self) -> None:
        self.counters: dict[str, defaultdict[tuple[str, ...], float]] = {
            name: defaultdict(float) for name in FAMILIES}

    def record(self, event: SecurityEvent) -> None:
        """Count one security event in the per-tenant counters."""
        tenant = event.tenant or "-"
        if event.action is Action.BLOCKED:
            self.counters["blocks"][(tenant, event.layer)] += 1
            if event.layer == RATELIMIT_LAYER:
                self.counters["ratelimit_rejections"][(tenant,)] += 1
        elif event.action is Action.DETECTED:
            self.counters["detections"][(tenant, event.layer)] += 1
        if event.layer == AUTH_LAYER and event.action is not Action.OBSERVED:
            self.counters["auth_failures"][(tenant,)] += 1

    def dropped(self, sink: str, reason: str, count: int = 1) -> None:
        self.counters["events_dropped"][(sink, reason)] += count

    def delivered(self, sink: str, count: int) -> None:
        self.counters["event_deliveries"][(sink,)] += count

    def delivery_failed(self, sink: str) -> None:
        self.counters["event_delivery_failures"][(sink,)] += 1

    def value(self, name: str, *labels: str) -> float:
        return self.counters[name].get(labels, 0.0)

    def snapshot(self) -> dict[str, Any]:
        """Return the counters as JSON-ready data for ``families`` to sum across processes."""
        return {name: [[list(key), value] for key, value in values.items()]
                for name, values in self.counters.items()}


def families(snapshots: Iterable[dict[str, Any]]) -> Iterator[Metric]:
    """Sum the snapshots of every process into one Prometheus counter family each."""
    snapshots = list(snapshots)
    for name, (metric, help_text, labels) in FAMILIES.items():
        totals: defaultdict[tuple[str, ...], float] = defaultdict(float)
        for snapshot in snapshots:
            for key, value in snapshot.get(name, []):
                totals[tuple(key)] += value
        family = CounterMetricFamily(metric, help_text, labels=list(labels))
        for key, value in sorted(totals.items()):
            family.add_metric(list(key), value)
        yield family


class SnapshotCollector:
    """A prometheus-client collector over snapshots, for a registry of its own."""

    def __init__(self, snapshots: Iterable[dict[str, Any]]) -> None:
        self.snapshots = list(snapshots)

    def collect(self) -> Iterator[Metric]:
        return families(self.snapshots)


COUNTERS = EventCounters()
"""The counters of this process."""


def record(event: SecurityEvent) -> None:
    """Count one security event in this process's per-tenant counters."""
    COUNTERS.record(event)
