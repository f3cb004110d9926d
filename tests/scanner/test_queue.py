"""Scans queued in the store and carried out by the scan runner, against the real demo API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stockade.config.models import Service, Tenant
from stockade.scanner.client import TargetError
from stockade.scanner.queue import ScanRequest, ScanRunner, prepare_request, queue_scan
from stockade.store import scans, tenancy
from stockade.store.database import migrate, open_engine
from stockade.store.events import EventFilter, count_events
from stockade.store.route_blocks import list_route_blocks
from stockade.store.scope import Store
from tests.scanner.demo import OPENAPI, demo_api, demo_password

QUICK_CHECKS = ["misconfiguration", "inventory"]


def _service(upstream: str, openapi: str | None = str(OPENAPI)) -> Service:
    data: dict[str, Any] = {"id": "shop", "hosts": ["shop.test", "*.shop.test"],
                            "upstream": {"targets": [upstream]}}
    if openapi is not None:
        data["openapi"] = openapi
    return Service.model_validate(data)


def _login(user: str, role: str = "user") -> dict[str, Any]:
    return {"name": user, "role": role, "type": "login", "username": user,
            "password": demo_password(user), "login": {"path": "/api/v2/login"}}


def test_prepare_defaults_to_upstream_and_document() -> None:
    prepared = prepare_request(_service("127.0.0.1:9000"), ScanRequest())
    assert prepared.target == "http://127.0.0.1:9000"
    assert prepared.openapi == str(OPENAPI)


def test_prepare_takes_service_host_and_target_path() -> None:
    request = ScanRequest(target="https://shop.test/api", openapi="/openapi.json")
    prepared = prepare_request(_service("127.0.0.1:9000"), request)
    assert prepared.openapi == "https://shop.test:443/openapi.json"


@pytest.mark.parametrize(("request_data", "message"), [
    ({"target": "http://127.0.0.2:9000"}, "use one of 127.0.0.1:9000, shop.test"),
    ({"target": "http://127.0.0.1:9001"}, "neither a host nor an upstream target"),
    ({"target": "http://x.shop.test"}, "neither a host nor an upstream target"),
    ({"target": "ftp://shop.test"}, "scheme must be http or https"),
    ({"openapi": "http://127.0.0.3:9000/openapi.json"}, "may only reach"),
])
def test_prepare_rejects_scan_off_service(request_data: dict[str, Any], message: str) -> None:
    with pytest.raises(TargetError, match=message):
        prepare_request(_service("127.0.0.1:9000"), ScanRequest.model_validate(request_data))


def test_prepare_needs_a_document() -> None:
    with pytest.raises(ValueError, match="declares no OpenAPI document"):
        prepare_request(_service("127.0.0.1:9000", openapi=None), ScanRequest())


@pytest.mark.parametrize(("field", "value"), [
    ("checks", ["nope"]),
    ("checks", []),
    ("headers", {"X-A": "1\r\nX-B: 2"}),
    ("headers", {"Bad:Name": "1"}),
    ("concurrency", 0),
    ("block_seconds", 0),
])
def test_request_rejects_invalid_fields(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        ScanRequest.model_validate({field: value})


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[str]:
    with demo_api(tmp_path / "demo.log") as base_url:
        yield base_url


def _store(tmp_path: Path, upstream: str) -> Store:
    engine = open_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    store = Store(engine)
    with store.session(None, "test") as scope:
        tenancy.put_tenant(scope, Tenant(id="acme"))
        tenancy.put_service(scope, "acme", _service(upstream))
    return store


def _queue(store: Store, **fields: Any) -> str:
    request = ScanRequest.model_validate({"checks": QUICK_CHECKS, **fields})
    with store.session("acme", "ann") as scope:
        scan = queue_scan(scope, "acme", "shop", request)
    assert scan["status"] == "queued"
    scan_id: str = scan["scan_id"]
    return scan_id


def _scan(store: Store, scan_id: str) -> dict[str, Any]:
    with store.session("acme", "test") as scope:
        return scans.get_scan(scope, "acme", scan_id)


async def test_runner_stores_findings_and_blocks(demo: str, tmp_path: Path) -> None:
    store = _store(tmp_path, demo.split("://", 1)[1])
    scan_id = _queue(store, profiles=[_login("alice"), _login("bob")], block_routes=True)
    runner = ScanRunner(store)
    assert await runner.run_next()
    assert not await runner.run_next()  # nothing else is queued
    scan = _scan(store, scan_id)
    assert scan["status"] == "finished", scan["error"]
    kinds = {finding["kind"] for finding in scan["findings"]}
    assert {"debug-endpoint", "undocumented-endpoint"} <= kinds
    assert scan["started_at"] is not None
    assert scan["finished_at"] >= scan["started_at"]
    assert [profile["password"] for profile in scan["request"]["profiles"]] == ["***", "***"]
    assert any(note.endswith(" route blocks added or renewed for service shop, for 604800 s")
               for note in scan["notes"])
    with store.session("acme", "test") as scope:
        events = count_events(scope, EventFilter(tenant_id="acme", layer="scanner"))
        blocks = list_route_blocks(scope, "acme", "shop")
    assert events == len(scan["findings"])
    assert ("GET", "/actuator/env") in {(block.method, block.path) for block in blocks}
    assert {block.origin for block in blocks} == {"scanner"}


async def test_runner_marks_unreachable_target_failed(tmp_path: Path) -> None:
    store = _store(tmp_path, "127.0.0.1:9")  # the discard port: nothing listens there
    scan_id = _queue(store, openapi="/openapi.json")
    assert await ScanRunner(store).run_next()
    scan = _scan(store, scan_id)
    assert scan["status"] == "failed"
    assert "127.0.0.1:9" in scan["error"]
    with store.session("acme", "test") as scope:
        assert count_events(scope, EventFilter(tenant_id="acme")) == 0


def test_runner_thread_runs_queued_scan(demo: str, tmp_path: Path) -> None:
    store = _store(tmp_path, demo.split("://", 1)[1])
    runner = ScanRunner(store, poll_seconds=0.05)
    runner.start()
    try:
        scan_id = _queue(store)
        deadline = time.monotonic() + 120
        while _scan(store, scan_id)["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, "the queued scan did not finish"
            time.sleep(0.1)
    finally:
        runner.stop()
    assert _scan(store, scan_id)["status"] == "finished"


def test_stale_running_scan_fails(tmp_path: Path) -> None:
    store = _store(tmp_path, "127.0.0.1:9000")
    scan_id = _queue(store)
    with store.session(None, "test") as scope:
        claimed = scans.claim_scan(scope, now=1000.0)
        assert claimed is not None
        assert claimed["scan_id"] == scan_id
        assert scans.claim_scan(scope) is None
        assert scans.fail_stale_scans(scope, older_than=999.0) == 0
        assert scans.fail_stale_scans(scope, older_than=1001.0) == 1
    scan = _scan(store, scan_id)
    assert scan["status"] == "failed"
    assert "stopped before the scan finished" in scan["error"]


async def test_runner_fails_scan_that_reached_nothing(tmp_path: Path) -> None:
    store = _store(tmp_path, "127.0.0.1:9")  # the service's own document is a local file
    scan_id = _queue(store)
    assert await ScanRunner(store).run_next()
    scan = _scan(store, scan_id)
    assert scan["status"] == "failed"
    assert scan["error"].startswith("no request reached the target:")
    assert "cannot connect" in scan["error"]


def test_runner_waits_for_store_schema(demo: str, tmp_path: Path,
                                       caplog: pytest.LogCaptureFixture) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    runner = ScanRunner(Store(open_engine(url)), poll_seconds=0.05)
    runner.start()  # the database has no tables yet
    try:
        deadline = time.monotonic() + 10
        while "cannot read the store" not in caplog.text:
            assert time.monotonic() < deadline, "the runner did not report the store error"
            time.sleep(0.05)
        store = _store(tmp_path, demo.split("://", 1)[1])  # migrates the same database
        scan_id = _queue(store)
        deadline = time.monotonic() + 120
        while _scan(store, scan_id)["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, "the queued scan did not finish"
            time.sleep(0.1)
    finally:
        runner.stop()
    assert _scan(store, scan_id)["status"] == "finished"
