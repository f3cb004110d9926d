"""`stockade scan` of the vulnerable demo API, directly and through a gateway in block mode.

The gateway runs the runtime API protection layer (OpenAPI enforcement,
BOLA, BFLA, auth signals, abuse, SSRF and leak detection) in block mode in
front of the demo API. The findings that this protection covers must be
reported by the direct scan and disappear behind the gateway. Without the
WAF the injections it would stop are still found, which also shows that
the scan itself works through the gateway. With the WAF and the Core Rule
Set they disappear as well.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from stockade.config.models import Service, Tenant
from stockade.scanner.auth import login_profile
from stockade.scanner.planning import ScanSettings
from stockade.scanner.runner import ScanConfig, ScanResult, run_scan
from stockade.store.database import migrate, open_engine
from stockade.store.route_blocks import list_route_blocks
from stockade.store.scope import Store
from stockade.store.tenancy import put_service, put_tenant
from tests.conftest import SHARED
from tests.scanner.demo import OPENAPI, USERS, demo_api, demo_password
from tests.support.gateway import GatewayProcess, service_config, wait_for_port

Factory = Callable[..., GatewayProcess]
Key = tuple[str, str, str]
HOST = "api.test"
ORDER, USER = "/api/v2/orders/{orderId}", "/api/v2/users/{userId}"
CRS_DIR = SHARED / "crs" / "v4.28.0"
CRS_START_TIMEOUT_SECONDS = 120.0
"""Seconds the gateway may take to start; it compiles the whole Core Rule Set first."""

COVERED: set[Key] = {
    ("bola", "GET", ORDER), ("bola", "PUT", ORDER), ("bola", "DELETE", ORDER),
    ("bola", "GET", USER), ("bola", "PUT", USER),
    ("bfla", "DELETE", USER), ("bfla", "GET", "/api/v2/admin/users"),
    ("bfla", "POST", "/api/v2/admin/users"),
    ("missing-authentication", "GET", "/api/v2/admin/stats"),
    ("mass-assignment", "PATCH", "/api/v2/users/me"),
    ("excessive-data-exposure", "GET", "/api/v2/users/me"),
    ("excessive-data-exposure", "GET", USER),
    ("excessive-data-exposure", "GET", "/api/v2/admin/users"),
    ("jwt-alg-none", "GET", "/api/v2/users/me"),
    ("token-in-query", "GET", "/api/v2/users/me"),
    ("no-login-rate-limit", "POST", "/api/v2/login"),
    ("nosql-injection", "POST", "/api/v2/login"),
    ("ssrf", "POST", "/api/v2/webhooks/test"),
    ("ssrf", "GET", "/api/v2/fetch"),
    ("debug-endpoint", "GET", "/api/v2/debug/config"),
    ("debug-endpoint", "GET", "/actuator/env"),
    ("undocumented-endpoint", "GET", "/api/v2/internal/users"),
    ("unsupported-method-200", "PATCH", "/api/v2/products"),
}
"""Findings of the direct scan that the protection layer in block mode closes."""

NEEDS_WAF: set[Key] = {
    ("sqli-time", "GET", "/api/v2/products"),
    ("os-command-injection", "GET", "/api/v2/diagnostics/ping"),
}
"""Injections that only the WAF stops."""


class SlowStartGateway(GatewayProcess):
    """A gateway given CRS_START_TIMEOUT_SECONDS to start listening."""

    def start(self) -> GatewayProcess:
        log = self.log_path.open("ab")
        env = dict(os.environ, STOCKADE_LOG_FORMAT="text")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "stockade.cli", "serve", "-c", str(self.config_path)],
            stdout=log, stderr=log, env=env)
        try:
            wait_for_port(self.port, timeout=CRS_START_TIMEOUT_SECONDS, process=self.process)
        except TimeoutError:
            self.stop()
            raise RuntimeError(
                f"gateway did not start; log:\n{self.log_path.read_text()}") from None
        return self


def _protection() -> dict[str, Any]:
    return {
        "identity": {"jwt_claim": "sub", "groups_claim": "role"},
        "openapi": {},
        "bola": {"exempt_groups": ["admin"]},
        "bfla": {},
        "auth_signals": {},
        "abuse": {"logins": [{"path": "/api/v2/login",
                              "success": {"status": [200], "json_field": "ok",
                                          "json_value": True}}]},
        "ssrf": {},
        "leaks": {},
    }


def _config(base_url: str, waf: bool) -> dict[str, Any]:
    policy: dict[str, Any] = {"mode": "block", "protection": _protection()}
    if waf:
        policy["waf"] = {"crs_path": str(CRS_DIR)}
    return service_config([base_url.split("://", 1)[1]], host=HOST, policy=policy,
                          openapi=str(OPENAPI))


def _scan(base_url: str, headers: dict[str, str] | None = None) -> set[Key]:
    profiles = [login_profile(f"{user}:{demo_password(user)}", "user", "/api/v2/login")
                for user in USERS]
    profiles.append(login_profile(f"admin:{demo_password('admin')}", "admin", "/api/v2/login"))
    result: ScanResult = asyncio.run(run_scan(ScanConfig(base_url, str(OPENAPI), profiles,
                                                         headers=headers or {})))
    assert result.errors == []
    return {(finding.kind, finding.method, finding.path) for finding in result.findings}


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[str]:
    with demo_api(tmp_path / "demo.log") as base_url:
        yield base_url


def _scan_behind_then_direct(gateway: GatewayProcess, demo: str) -> tuple[set[Key], set[Key]]:
    # NOTE: the gateway scan runs first, on the seeded data. The direct scan's
    # injection probes create many users, and the protection layer strips at
    # most 50 exposed properties per response, so a longer user list leaks.
    behind = _scan(f"http://127.0.0.1:{gateway.port}", {"Host": HOST})
    return behind, _scan(demo)


def test_protection_closes_covered_findings(gateway_factory: Factory, demo: str) -> None:
    gateway = gateway_factory(_config(demo, waf=False))
    behind, direct = _scan_behind_then_direct(gateway, demo)
    missing = sorted((COVERED | NEEDS_WAF) - direct)
    assert missing == [], f"the direct scan lacks {missing}"
    let_through = sorted(COVERED & behind)
    assert let_through == [], f"the protection layer let {let_through} through"
    assert NEEDS_WAF <= behind, f"behind the gateway the scan found only {sorted(behind)}"


def test_waf_also_closes_injections(demo: str, tmp_path: Path,
                                    request: pytest.FixtureRequest) -> None:
    if not (CRS_DIR / "rules").is_dir():
        pytest.skip(f"the Core Rule Set is not at {CRS_DIR}")
    folder = tmp_path / "waf-gateway"
    folder.mkdir()
    gateway = SlowStartGateway(_config(demo, waf=True), folder)
    request.addfinalizer(gateway.stop)
    gateway.start()
    behind, direct = _scan_behind_then_direct(gateway, demo)
    missing = sorted((COVERED | NEEDS_WAF) - direct)
    assert missing == [], f"the direct scan lacks {missing}"
    let_through = sorted((COVERED | NEEDS_WAF) & behind)
    assert let_through == [], f"the gateway let {let_through} through"


REFUSABLE: set[Key] = {
    ("debug-endpoint", "GET", "/api/v2/debug/config"),
    ("debug-endpoint", "GET", "/actuator/env"),
    ("undocumented-endpoint", "GET", "/api/v2/internal/users"),
    ("unsupported-method-200", "PATCH", "/api/v2/products"),
}
"""Findings that a route block closes: the route should not be reachable at all."""


def test_scan_route_blocks_close_findings(gateway_factory: Factory, demo: str,
                                          tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store(open_engine(url))
    migrate(store.engine)
    with store.session(None, "test") as scope:
        put_tenant(scope, Tenant.model_validate({"id": "acme"}))
        put_service(scope, "acme", Service.model_validate({
            "id": "api", "hosts": [HOST], "upstream": {"targets": ["127.0.0.1:9"]}}))
    policy = {"mode": "block", "protection": {"blocking": {"store_sync_seconds": 0.2}}}
    config = service_config([demo.split("://", 1)[1]], host=HOST, policy=policy)
    config["store"] = {"url": url}
    gateway = gateway_factory(config)
    target = f"http://127.0.0.1:{gateway.port}"
    command = [
        sys.executable, "-m", "stockade.cli", "scan", "--target", target, "--openapi",
        str(OPENAPI), "--header", f"Host:{HOST}", "--checks", "misconfiguration,inventory",
        "--user", f"alice:{demo_password('alice')}", "--login-path", "/api/v2/login",
        "--store", url, "--store-events", "acme", "--service", "api", "--block-routes",
        "--json", str(tmp_path / "first.json"), "--quiet"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    first = json.loads((tmp_path / "first.json").read_text())["findings"]
    assert REFUSABLE <= {(item["kind"], item["method"], item["path"]) for item in first}
    with store.session("acme", "test") as scope:
        blocked = {(block.method, block.path, block.origin)
                   for block in list_route_blocks(scope, "acme", "api")}
    assert ("GET", "/actuator/env", "scanner") in blocked
    assert ("PATCH", "/api/v2/products", "scanner") in blocked

    time.sleep(0.6)  # three store reads by the gateway
    profiles = [login_profile(f"alice:{demo_password('alice')}", "user", "/api/v2/login")]
    settings = ScanSettings(checks=frozenset({"misconfiguration", "inventory"}))
    again = asyncio.run(run_scan(ScanConfig(target, str(OPENAPI), profiles, settings=settings,
                                            headers={"Host": HOST})))
    second = {(finding.kind, finding.method, finding.path) for finding in again.findings}
    assert REFUSABLE & second == set()
    assert again.errors == []
    products = httpx.get(f"{target}/api/v2/products", headers={"Host": HOST})
    assert products.status_code == 200
    debug = httpx.get(f"{target}//actuator/env/", headers={"Host": HOST})
    assert debug.status_code == 403
