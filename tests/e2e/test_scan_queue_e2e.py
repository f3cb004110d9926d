"""A scan queued through the admin API runs in a real `stockade admin serve` process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stockade.config.models import Service, Tenant
from stockade.store.database import migrate, open_engine
from stockade.store.operators import Role, create_operator
from stockade.store.scope import Store
from stockade.store.tenancy import put_service, put_tenant
from tests.scanner.demo import OPENAPI, demo_api, demo_password
from tests.support.gateway import free_port, wait_for_port

SCAN_TIMEOUT_SECONDS = 180.0


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[str]:
    with demo_api(tmp_path / "demo.log") as base_url:
        yield base_url


def test_queued_scan_runs_in_admin_server(demo: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store(open_engine(url))
    migrate(store.engine)
    with store.session(None, "test") as scope:
        put_tenant(scope, Tenant(id="acme"))
        put_service(scope, "acme", Service.model_validate({
            "id": "shop", "hosts": ["shop.test"], "openapi": str(OPENAPI),
            "upstream": {"targets": [demo.split("://", 1)[1]]}}))
        _, token = create_operator(scope, "ann", Role.TENANT_ADMIN, "acme")
    port = free_port()
    log_path = tmp_path / "admin.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "stockade.cli", "admin", "serve", "--store", url,
             "--address", f"127.0.0.1:{port}", "--log-level", "warning"],
            stdout=log, stderr=log, env=dict(os.environ, STOCKADE_LOG_FORMAT="text"))
    try:
        wait_for_port(port, process=process)
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}",
                              headers={"Authorization": f"Bearer {token}"}, timeout=10)
        profiles = [{"name": user, "type": "login", "username": user,
                     "password": demo_password(user), "login": {"path": "/api/v2/login"}}
                    for user in ("alice", "bob")]
        created = client.post("/v1/tenants/acme/scans", json={
            "service_id": "shop", "checks": ["misconfiguration", "inventory"],
            "profiles": profiles, "block_routes": True})
        assert created.status_code == 201, created.text
        scan_id = created.json()["scan_id"]
        deadline = time.monotonic() + SCAN_TIMEOUT_SECONDS
        scan = created.json()
        while scan["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, f"scan still {scan['status']}"
            time.sleep(0.2)
            scan = client.get(f"/v1/tenants/acme/scans/{scan_id}").json()
        assert scan["status"] == "finished", scan["error"]
        kinds = {finding["kind"] for finding in scan["findings"]}
        assert "debug-endpoint" in kinds
        events = client.get("/v1/tenants/acme/events", params={"layer": "scanner"}).json()
        assert len(events["events"]) == len(scan["findings"])
        blocks = client.get("/v1/tenants/acme/route-blocks").json()
        assert ("GET", "/actuator/env") in {(block["method"], block["path"])
                                            for block in blocks}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0, log_path.read_text()
