"""Findings as route blocks for the deny list and as stored security events."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockade.config.models import Service, Tenant
from stockade.events.model import Action
from stockade.scanner.blocks import RouteBlock, findings_to_blocks, store_blocks
from stockade.scanner.events import findings_to_events, store_findings
from stockade.store import scans, tenancy
from stockade.store.database import migrate, open_engine
from stockade.store.errors import NotFound
from stockade.store.events import EventFilter, count_events, query_events
from stockade.store.route_blocks import list_route_blocks
from stockade.store.scope import Store
from tests.scanner.samples import sample_result


def test_blocks_only_for_refusable_routes() -> None:
    result = sample_result()
    debug = result.findings[0]
    debug.kind, debug.method, debug.path = "debug-endpoint", "GET", "/actuator/env"
    blocks = findings_to_blocks(result.findings)
    assert [(block.method, block.path) for block in blocks] == [("GET", "/actuator/env")]
    assert blocks[0].finding_id == debug.fingerprint
    assert "debug endpoint" in blocks[0].reason


def test_events_carry_finding_and_evidence() -> None:
    result = sample_result()
    events = findings_to_events(result.findings, "acme", result.started)
    assert [event.kind for event in events] == ["bola", "missing-security-headers"]
    first = events[0]
    assert (first.layer, first.action, first.method) == ("scanner", Action.OBSERVED, "GET")
    assert first.rule_ids == ["scan:bola"]
    assert first.evidence["finding_id"] == result.findings[0].fingerprint
    assert events[1].method is None  # a target-wide finding has no method
    again = findings_to_events(result.findings, "acme", result.started)
    assert [event.id for event in again] == [event.id for event in events]


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    engine = open_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    store = Store(engine)
    with store.session(None, "test") as scope:
        tenancy.put_tenant(scope, Tenant.model_validate({"id": "acme"}))
    return store


def test_store_findings_inserts_once(sqlite_store: Store) -> None:
    result = sample_result()
    assert store_findings(sqlite_store, "acme", result.findings, result.started) == 2
    assert store_findings(sqlite_store, "acme", result.findings, result.started) == 0
    with sqlite_store.session("acme", "test") as scope:
        page = query_events(scope, EventFilter(tenant_id="acme", layer="scanner"))
    assert sorted(event.kind for event in page.events) == ["bola", "missing-security-headers"]


def test_store_findings_unknown_tenant(sqlite_store: Store) -> None:
    result = sample_result()
    with pytest.raises(NotFound):
        store_findings(sqlite_store, "initech", result.findings, result.started)


def test_store_findings_records_scan_of_service(sqlite_store: Store) -> None:
    service = Service.model_validate({"id": "shop", "hosts": ["shop.test"],
                                      "upstream": {"targets": ["127.0.0.1:9"]}})
    with sqlite_store.session(None, "test") as scope:
        tenancy.put_service(scope, "acme", service)
    result = sample_result()
    store_findings(sqlite_store, "acme", result.findings, result.started, "shop")
    with sqlite_store.session("acme", "test") as scope:
        recorded = scans.list_scans(scope, "acme", "shop")
    assert len(recorded) == 1
    assert recorded[0]["status"] == "finished"
    assert [item["kind"] for item in recorded[0]["findings"]] == [
        "bola", "missing-security-headers"]
    assert "evidence" not in recorded[0]["findings"][0]


def test_store_findings_unknown_service(sqlite_store: Store) -> None:
    result = sample_result()
    with pytest.raises(NotFound):
        store_findings(sqlite_store, "acme", result.findings, result.started, "nothing")
    with sqlite_store.session("acme", "test") as scope:
        assert count_events(scope, EventFilter(tenant_id="acme")) == 0  # rolled back


def test_block_path_includes_base_path() -> None:
    result = sample_result()
    method_finding = result.findings[0]
    method_finding.kind, method_finding.method = "unsupported-method-200", "PATCH"
    method_finding.path, method_finding.url_path = "/products", "/api/v2/products"
    blocks = findings_to_blocks(result.findings)
    assert [(block.method, block.path) for block in blocks] == [("PATCH", "/api/v2/products")]


def test_store_blocks_adds_route_blocks(sqlite_store: Store) -> None:
    service = Service.model_validate({"id": "shop", "hosts": ["shop.test"],
                                      "upstream": {"targets": ["127.0.0.1:9"]}})
    with sqlite_store.session(None, "test") as scope:
        tenancy.put_service(scope, "acme", service)
    result = sample_result()
    debug = result.findings[0]
    debug.kind, debug.method, debug.path = "debug-endpoint", "GET", "/actuator/env"
    blocks = findings_to_blocks(result.findings)
    assert store_blocks(sqlite_store, "acme", "shop", blocks, 3600) == 1
    assert store_blocks(sqlite_store, "acme", "shop", blocks, 3600) == 1
    with sqlite_store.session("acme", "test") as scope:
        stored = list_route_blocks(scope, "acme", "shop")
    assert [(block.method, block.path, block.origin) for block in stored] == [
        ("GET", "/actuator/env", "scanner")]
    assert stored[0].finding_id == debug.fingerprint
    assert stored[0].created_by == "stockade-scan"


def test_store_blocks_unknown_service(sqlite_store: Store) -> None:
    blocks = [RouteBlock("GET", "/debug", "debug endpoint", "f1", "high")]
    with pytest.raises(NotFound):
        store_blocks(sqlite_store, "acme", "nothing", blocks)
