from __future__ import annotations

import pytest

from stockade.config.models import Tenant
from stockade.events.model import Action, SecurityEvent, Severity
from stockade.store import events, tenancy
from stockade.store.errors import NotFound
from stockade.store.events import EventFilter
from stockade.store.scope import Store


def _event(tenant: str, at: float, severity: Severity = Severity.HIGH,
           **fields: object) -> SecurityEvent:
    return SecurityEvent(tenant=tenant, layer=str(fields.pop("layer", "waf")),
                         kind=str(fields.pop("kind", "sqli")), severity=severity,
                         action=Action.BLOCKED, message="SQL injection in ARGS:id", time=at,
                         **fields)  # type: ignore[arg-type]


@pytest.fixture
def seeded(store: Store) -> Store:
    with store.session(None, "admin") as scope:
        tenancy.put_tenant(scope, Tenant(id="acme"))
        tenancy.put_tenant(scope, Tenant(id="globex"))
        events.insert_events(scope, [
            _event("acme", 100.0, rule_ids=["942100", "942_1"], client_ip="192.0.2.1",
                   consumer="mobile", evidence={"matched": "1 OR 1=1"}),
            _event("acme", 200.0, Severity.LOW, kind="scanner", client_ip="192.0.2.2"),
            _event("acme", 300.0, Severity.CRITICAL, rule_ids=["942100"], layer="protection"),
            _event("globex", 150.0, rule_ids=["942100"]),
        ])
    return store


def _kinds(page: events.EventPage) -> list[tuple[str, float]]:
    return [(event.tenant, event.time) for event in page.events]


def test_insert_is_idempotent(seeded: Store) -> None:
    event = _event("acme", 400.0)
    with seeded.session(None, "gateway") as scope:
        assert events.insert_events(scope, [event, event]) == 1
        assert events.insert_events(scope, [event]) == 0
        stored = events.get_event(scope, event.id)
    assert stored == event


def test_event_round_trip_fields(seeded: Store) -> None:
    with seeded.session("acme", "op") as scope:
        page = events.query_events(scope, EventFilter(rule_id="942_1"))
    assert len(page.events) == 1
    event = page.events[0]
    assert event.rule_ids == ["942100", "942_1"]
    assert event.evidence == {"matched": "1 OR 1=1"}
    assert event.consumer == "mobile"
    assert event.severity is Severity.HIGH


@pytest.mark.parametrize(("where", "expected"), [
    (EventFilter(), [("acme", 300.0), ("acme", 200.0), ("acme", 100.0)]),
    (EventFilter(since=150, until=300), [("acme", 200.0)]),
    (EventFilter(min_severity=Severity.HIGH), [("acme", 300.0), ("acme", 100.0)]),
    (EventFilter(rule_id="942100"), [("acme", 300.0), ("acme", 100.0)]),
    (EventFilter(rule_id="9421"), []),
    (EventFilter(rule_id="942%"), []),
    (EventFilter(client_ip="192.0.2.2"), [("acme", 200.0)]),
    (EventFilter(consumer="mobile"), [("acme", 100.0)]),
    (EventFilter(layer="protection"), [("acme", 300.0)]),
    (EventFilter(kind="scanner"), [("acme", 200.0)]),
    (EventFilter(action=Action.DETECTED), []),
])
def test_query_filters(seeded: Store, where: EventFilter,
                       expected: list[tuple[str, float]]) -> None:
    with seeded.session("acme", "op") as scope:
        assert _kinds(events.query_events(scope, where)) == expected
        assert events.count_events(scope, where) == len(expected)


def test_query_all_tenants(seeded: Store) -> None:
    with seeded.session(None, "op") as scope:
        page = events.query_events(scope, EventFilter(rule_id="942100"))
        assert _kinds(page) == [("acme", 300.0), ("globex", 150.0), ("acme", 100.0)]
        assert _kinds(events.query_events(scope, EventFilter(tenant_id="globex"))) == [
            ("globex", 150.0)]


def test_query_other_tenant_not_found(seeded: Store) -> None:
    with seeded.session("acme", "op") as scope:
        with pytest.raises(NotFound):
            events.query_events(scope, EventFilter(tenant_id="globex"))
    with seeded.session(None, "op") as scope:
        globex_id = events.query_events(scope, EventFilter(tenant_id="globex")).events[0].id
    with seeded.session("acme", "op") as scope:
        with pytest.raises(NotFound):
            events.get_event(scope, globex_id)
        with pytest.raises(NotFound):
            events.acknowledge_event(scope, "globex", globex_id, True)


def test_pagination_visits_each_event_once(seeded: Store) -> None:
    with seeded.session(None, "gateway") as scope:
        events.insert_events(scope, [_event("acme", 500.0) for _ in range(7)])
    seen: list[str] = []
    cursor = None
    with seeded.session("acme", "op") as scope:
        while True:
            page = events.query_events(scope, EventFilter(), limit=3, cursor=cursor)
            seen.extend(event.id for event in page.events)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert len(seen) == 10
        assert len(set(seen)) == 10
        with pytest.raises(ValueError, match="invalid page cursor"):
            events.query_events(scope, EventFilter(), cursor="%%%")
        with pytest.raises(ValueError, match="page size"):
            events.query_events(scope, EventFilter(), limit=5000)


def test_acknowledge_and_purge(seeded: Store) -> None:
    with seeded.session("acme", "analyst") as scope:
        event_id = events.query_events(scope, EventFilter(kind="scanner")).events[0].id
        events.acknowledge_event(scope, "acme", event_id, True)
        assert events.is_acknowledged(scope, event_id)
        assert events.purge_events(scope, before=250.0) == 2
        assert events.count_events(scope, EventFilter()) == 1
    with seeded.session(None, "op") as scope:
        assert events.count_events(scope, EventFilter(tenant_id="globex")) == 1
