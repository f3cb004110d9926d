"""Prometheus metrics of the data plane.

Counting happens in plain dicts on the hot path. Once a second each worker
writes a snapshot of its totals to a file in the supervisor's metrics folder
(atomically, by rename); the admin listener of any worker sums every
worker's snapshot into one exposition. Without a metrics folder (a worker
run alone) the snapshot stays in memory.
"""

from __future__ import annotations

import bisect
import json
import logging
import os
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

from stockade.events import metrics as event_metrics
from stockade.gateway.exchange import Exchange

log = logging.getLogger(__name__)

METRICS_DIR_ENV = "STOCKADE_METRICS_DIR"

LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
"""Seconds; fine at the low end, where a gateway's own cost shows."""

SNAPSHOT_INTERVAL = 1.0
"""Seconds between snapshots: a scrape reads counts at most this old."""

COUNTERS = {
    "requests": (
        "stockade_requests_total",
        "Exchanges completed, by tenant, service and status.",
        ("tenant", "service", "status"),
    ),
    "upstream_errors": (
        "stockade_upstream_errors_total",
        "Upstream failures answered with 502 or 504.",
        ("tenant", "service", "kind"),
    ),
    "verdicts": (
        "stockade_verdicts_total",
        "Reject verdicts, by stage and whether they blocked.",
        ("tenant", "service", "stage", "action"),
    ),
    "protocol_errors": (
        "stockade_protocol_errors_total",
        "Requests rejected for malformed HTTP framing.",
        ("status",),
    ),
    "events": (
        "stockade_security_events_total",
        "Security events, by tenant, layer, kind and action.",
        ("tenant", "layer", "kind", "action"),
    ),
}
HISTOGRAMS = {
    "latency": (
        "stockade_request_duration_seconds",
        "Time from the request head to the last response byte.",
        ("tenant", "service"),
    ),
    "upstream_latency": (
        "stockade_upstream_duration_seconds",
        "Time from sending the request upstream to the response head.",
        ("tenant", "service"),
    ),
}


class _Histogram:
    __slots__ = ("buckets", "count", "sum")

    def __init__(self) -> None:
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.buckets[bisect.bisect_left(LATENCY_BUCKETS, value)] += 1
        self.sum += value
        self.count += 1


_STATUS_LABELS: Final = {status: str(status) for status in range(100, 600)}


def _status_label(status: int) -> str:
    label = _STATUS_LABELS.get(status)
    return label if label is not None else str(status)


class Metrics:
    """One worker's counters and histograms."""

    def __init__(self, worker_index: int = 0) -> None:
        self.counters: dict[str, defaultdict[tuple[str, ...], float]] = {
            name: defaultdict(float) for name in COUNTERS
        }
        self.histograms: dict[str, defaultdict[tuple[str, ...], _Histogram]] = {
            name: defaultdict(_Histogram) for name in HISTOGRAMS
        }
        self._requests = self.counters["requests"]
        self._latency = self.histograms["latency"]
        self._upstream_latency = self.histograms["upstream_latency"]
        folder = os.environ.get(METRICS_DIR_ENV)
        self.snapshot_path = Path(folder) / f"worker-{worker_index}.json" if folder else None

    def record(self, exchange: Exchange) -> None:
        match = exchange.match
        if match is None:
            tenant = service = "-"
        else:
            tenant, service = match.tenant.id or "-", match.service.id or "-"
        status = exchange.status
        label = _STATUS_LABELS.get(status)
        self._requests[(tenant, service, label if label is not None else str(status))] += 1
        # The steps of _Histogram.observe, without a method call per histogram.
        duration = exchange.duration
        histogram = self._latency[(tenant, service)]
        histogram.buckets[bisect.bisect_left(LATENCY_BUCKETS, duration)] += 1
        histogram.sum += duration
        histogram.count += 1
        upstream_seconds = exchange.upstream_seconds
        if upstream_seconds is not None:
            histogram = self._upstream_latency[(tenant, service)]
            histogram.buckets[bisect.bisect_left(LATENCY_BUCKETS, upstream_seconds)] += 1
            histogram.sum += upstream_seconds
            histogram.count += 1
        for verdict in exchange.verdicts:
            self.counters["verdicts"][(tenant, service, verdict.stage, verdict.action)] += 1
        for event in exchange.events:
            self.counters["events"][
                (event.tenant, event.layer, event.kind, event.action.value)
            ] += 1

    def upstream_error(self, exchange: Exchange, kind: str) -> None:
        self.counters["upstream_errors"][
            (exchange.tenant_id or "-", exchange.service_id or "-", kind)
        ] += 1

    def protocol_error(self, status: int) -> None:
        self.counters["protocol_errors"][(str(status),)] += 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "event_counters": event_metrics.COUNTERS.snapshot(),
            "counters": {
                name: [[list(key), value] for key, value in values.items()]
                for name, values in self.counters.items()
            },
            "histograms": {
                name: [[list(key), h.buckets, h.sum, h.count] for key, h in values.items()]
                for name, values in self.histograms.items()
            },
        }

    def write_snapshot(self) -> None:
        if self.snapshot_path is None:
            return
        tmp = self.snapshot_path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(self.snapshot()))
            os.replace(tmp, self.snapshot_path)
        except OSError as exc:
            log.warning("cannot write the metrics snapshot %s: %s", self.snapshot_path, exc)


def render(local: Metrics) -> bytes:
    """Return the exposition text of every worker's metrics (or of ``local`` alone)."""
    snapshots = _read_snapshots(local)
    registry = CollectorRegistry()
    registry.register(_SummedCollector(snapshots))
    return generate_latest(registry)


def _read_snapshots(local: Metrics) -> list[dict[str, Any]]:
    if local.snapshot_path is None:
        return [local.snapshot()]
    local.write_snapshot()
    snapshots = []
    for path in sorted(local.snapshot_path.parent.glob("worker-*.json")):
        try:
            snapshots.append(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            log.warning("skipping unreadable metrics snapshot %s: %s", path, exc)
    return snapshots


class _SummedCollector:
    def __init__(self, snapshots: list[dict[str, Any]]) -> None:
        self.snapshots = snapshots

    def collect(self) -> Iterator[Metric]:
        for name, (metric, help_text, labels) in COUNTERS.items():
            totals: defaultdict[tuple[str, ...], float] = defaultdict(float)
            for snapshot in self.snapshots:
                for key, value in snapshot["counters"].get(name, []):
                    totals[tuple(key)] += value
            family = CounterMetricFamily(metric.removesuffix("_total"), help_text, labels=labels)
            for key, value in sorted(totals.items()):
                family.add_metric(list(key), value)
            yield family
        for name, (metric, help_text, labels) in HISTOGRAMS.items():
            summed: dict[tuple[str, ...], tuple[list[int], float]] = {}
            for snapshot in self.snapshots:
                for key, buckets, total, _count in snapshot["histograms"].get(name, []):
                    previous = summed.get(tuple(key), ([0] * len(buckets), 0.0))
                    summed[tuple(key)] = (
                        [a + b for a, b in zip(previous[0], buckets, strict=True)],
                        previous[1] + total,
                    )
            histogram = HistogramMetricFamily(metric, help_text, labels=labels)
            for key, (buckets, total) in sorted(summed.items()):
                cumulative, running = [], 0
                for bound, count in zip((*LATENCY_BUCKETS, float("inf")), buckets, strict=True):
                    running += count
                    cumulative.append(("+Inf" if bound == float("inf") else str(bound), running))
                histogram.add_metric(list(key), cumulative, total)
            yield histogram
        yield from event_metrics.families(
            snapshot.get("event_counters", {}) for snapshot in self.snapshots
        )
