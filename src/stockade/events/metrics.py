"""Prometheus counters of security events per tenant, and of the event pipeline.

``record(event)`` counts one event; the pipeline calls it for every event
it is handed, so the gateway's metrics endpoint shows them with no other
wiring. The counters are module-level like the gateway's own, so they work
with prometheus-client's multiprocess mode.
"""

from __future__ import annotations

from prometheus_client import Counter

from stockade.events.model import Action, SecurityEvent

RATELIMIT_LAYER = "ratelimit"
AUTH_LAYER = "auth"

BLOCKS = Counter("stockade_security_blocks_total",
                 "Requests blocked by a security layer.", ["tenant", "layer"])
DETECTIONS = Counter("stockade_security_detections_total",
                     "Detections recorded without blocking (detect mode).", ["tenant", "layer"])
RATELIMIT_REJECTIONS = Counter("stockade_ratelimit_rejections_total",
                               "Requests rejected by a rate limit.", ["tenant"])
AUTH_FAILURES = Counter("stockade_auth_failures_total",
                        "Failed authentications, blocked or only detected.", ["tenant"])

EVENTS_DROPPED = Counter("stockade_events_dropped_total",
                         "Security events lost before reaching a sink, by reason.",
                         ["sink", "reason"])
EVENT_DELIVERIES = Counter("stockade_event_deliveries_total",
                           "Events a sink accepted.", ["sink"])
EVENT_DELIVERY_FAILURES = Counter("stockade_event_delivery_failures_total",
                                  "Delivery attempts that failed and will be retried.", ["sink"])


def record(event: SecurityEvent) -> None:
    """Count one security event in the per-tenant counters."""
    tenant = event.tenant or "-"
    if event.action is Action.BLOCKED:
        BLOCKS.labels(tenant, event.layer).inc()
        if event.layer == RATELIMIT_LAYER:
            RATELIMIT_REJECTIONS.labels(tenant).inc()
    elif event.action is Action.DETECTED:
        DETECTIONS.labels(tenant, event.layer).inc()
    if event.layer == AUTH_LAYER and event.action is not Action.OBSERVED:
        AUTH_FAILURES.labels(tenant).inc()
