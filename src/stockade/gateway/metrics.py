"""Prometheus metrics of the data plane.

Each worker process counts into prometheus-client's multiprocess files (the
supervisor sets PROMETHEUS_MULTIPROC_DIR before workers start), so a scrape
of any worker's admin listener sees the sum of all workers.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess

from stockade.gateway.exchange import Exchange

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Seconds; fine at the low end, where a gateway's own cost shows."""

REQUESTS = Counter("stockade_requests_total", "Exchanges completed, by tenant, service and status.",
                   ["tenant", "service", "status"])
LATENCY = Histogram("stockade_request_duration_seconds",
                    "Time from the request head to the last response byte.",
                    ["tenant", "service"], buckets=LATENCY_BUCKETS)
UPSTREAM_LATENCY = Histogram("stockade_upstream_duration_seconds",
                             "Time from sending the request upstream to the response head.",
                             ["tenant", "service"], buckets=LATENCY_BUCKETS)
UPSTREAM_ERRORS = Counter("stockade_upstream_errors_total",
                          "Upstream failures answered with 502 or 504.", ["tenant", "service", "kind"])
VERDICTS = Counter("stockade_verdicts_total", "Reject verdicts, by stage and whether they blocked.",
                   ["tenant", "service", "stage", "action"])
PROTOCOL_ERRORS = Counter("stockade_protocol_errors_total",
                          "Requests rejected for malformed HTTP framing.", ["status"])


class Metrics:
    """Per-worker front for the module's metrics, caching label children for speed."""

    def __init__(self) -> None:
        self._requests: dict[tuple[str, str, int], Counter] = {}
        self._latency: dict[tuple[str, str], Histogram] = {}
        self._upstream: dict[tuple[str, str], Histogram] = {}

    def record(self, exchange: Exchange) -> None:
        tenant = exchange.tenant_id or "-"
        service = exchange.service_id or "-"
        key = (tenant, service, exchange.status)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = REQUESTS.labels(tenant, service, str(exchange.status))
        counter.inc()
        pair = (tenant, service)
        latency = self._latency.get(pair)
        if latency is None:
            latency = self._latency[pair] = LATENCY.labels(tenant, service)
        latency.observe(exchange.duration)
        if exchange.upstream_seconds is not None:
            upstream = self._upstream.get(pair)
            if upstream is None:
                upstream = self._upstream[pair] = UPSTREAM_LATENCY.labels(tenant, service)
            upstream.observe(exchange.upstream_seconds)
        for verdict in exchange.verdicts:
            VERDICTS.labels(tenant, service, verdict.stage, verdict.action).inc()

    @staticmethod
    def upstream_error(exchange: Exchange, kind: str) -> None:
        UPSTREAM_ERRORS.labels(exchange.tenant_id or "-", exchange.service_id or "-", kind).inc()

    @staticmethod
    def protocol_error(status: int) -> None:
        PROTOCOL_ERRORS.labels(str(status)).inc()


def render() -> bytes:
    """Return the exposition text of every worker's metrics."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()
