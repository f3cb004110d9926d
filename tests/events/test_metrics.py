from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from stockade.events.metrics import EventCounters, SnapshotCollector
from stockade.events.model import Action, SecurityEvent, Severity


def _event(tenant: str, layer: str, action: Action) -> SecurityEvent:
    return SecurityEvent(tenant=tenant, layer=layer, kind="k", severity=Severity.MEDIUM,
                         action=action, message="m")


def test_counts_by_tenant_and_kind() -> None:
    counters = EventCounters()
    counters.record(_event("acme", "waf", Action.BLOCKED))
    counters.record(_event("acme", "ratelimit", Action.BLOCKED))
    counters.record(_event("acme", "auth", Action.DETECTED))
    counters.record(_event("acme", "auth", Action.BLOCKED))
    counters.record(_event("acme", "protection", Action.OBSERVED))
    assert counters.value("blocks", "acme", "waf") == 1
    assert counters.value("blocks", "acme", "ratelimit") == 1
    assert counters.value("ratelimit_rejections", "acme") == 1
    assert counters.value("detections", "acme", "auth") == 1
    assert counters.value("auth_failures", "acme") == 2
    assert counters.value("blocks", "acme", "protection") == 0


def test_snapshots_sum_across_processes() -> None:
    first, second = EventCounters(), EventCounters()
    first.record(_event("acme", "waf", Action.BLOCKED))
    second.record(_event("acme", "waf", Action.BLOCKED))
    second.record(_event("globex", "auth", Action.BLOCKED))
    second.dropped("-", "queue_full", 3)
    registry = CollectorRegistry()
    registry.register(SnapshotCollector([first.snapshot(), second.snapshot()]))
    text = generate_latest(registry).decode()
    assert 'stockade_security_blocks_total{layer="waf",tenant="acme"} 2.0' in text
    assert 'stockade_auth_failures_total{tenant="globex"} 1.0' in text
    assert 'stockade_events_dropped_total{reason="queue_full",sink="-"} 3.0' in text
    assert "# TYPE stockade_ratelimit_rejections_total counter" in text
