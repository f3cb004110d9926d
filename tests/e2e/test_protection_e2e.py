"""Runtime API protection in real gateway processes in front of the vulnerable demo API.

Each attack of the demo API is blocked in block mode. In detect mode it is
reported, then forwarded. The legitimate flows of alice and bob pass in
both modes. Client addresses are set with X-Forwarded-For from a trusted
loopback peer, so brute force from one address never locks out another.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stockade.config.models import Tenant
from stockade.store.blocks import add_block
from stockade.store.database import migrate, open_engine
from stockade.store.scope import Store
from stockade.store.tenancy import put_tenant
from tests.conftest import SHARED
from tests.protection.demo import OPENAPI_PATH, Canary, DemoApi, Reply, call, read_events
from tests.ratelimit.redis_support import SHARED_REDIS_URL, shared_redis_reachable
from tests.support.gateway import GatewayProcess, service_config, wait_for_port

Factory = Callable[..., GatewayProcess]

ALICE_IP, BOB_IP, ATTACKER_IP, STUFFER_IP = "198.51.100.1", "198.51.100.2", "203.0.113.7", \
    "203.0.113.8"
ALICE_ORDER, BOB_ORDER = 1, 3
MAX_FAILURES = 5
MAX_USERNAMES = 3
UNSIGNED_TOKEN = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiI0In0."
"""A JWT with alg none and subject 4, which the demo API would take for its admin."""
CRS_DIR = SHARED / "crs" / "v4.28.0"
CRS_START_TIMEOUT_SECONDS = 120.0
"""Compiling the whole CRS can take longer than the usual start wait (20 s measured on a
loaded 2-core machine)."""


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoApi]:
    api = DemoApi(tmp_path / "demo.log")
    yield api
    api.stop()


@pytest.fixture
def canary() -> Iterator[Canary]:
    listener = Canary()
    yield listener
    listener.close()


def protection(state: dict[str, Any] | None = None) -> dict[str, Any]:
    section: dict[str, Any] = {
        "identity": {"jwt_claim": "sub", "groups_claim": "role"},
        "openapi": {},
        "bola": {"exempt_groups": ["admin"]},
        "bfla": {},
        "auth_signals": {},
        "abuse": {
            "logins": [{"path": "/api/v2/login",
                        "success": {"status": [200], "json_field": "ok", "json_value": True}}],
            "max_failures_per_ip": MAX_FAILURES,
            "max_failures_per_username": MAX_FAILURES,
            "max_usernames_per_ip": MAX_USERNAMES,
        },
        "ssrf": {},
        "leaks": {},
        "blocking": {"thresholds": [{"min_severity": "critical", "events": 5,
                                     "window_seconds": 60, "block_seconds": 900}]},
    }
    if state is not None:
        section["state"] = state
    return section


def gateway_config(demo: DemoApi, folder: Path, mode: str,
                   state: dict[str, Any] | None = None) -> dict[str, Any]:
    policy = {"mode": mode, "protection": protection(state)}
    config = service_config([demo.address], policy=policy, openapi=str(OPENAPI_PATH))
    config["trusted_proxies"] = ["127.0.0.0/8"]
    config["events"] = {
        "spool_dir": str(folder / "spool"),
        "sinks": [{"name": "file", "type": "jsonl", "path": str(folder / "events.jsonl"),
                   "batch_size": 1}],
    }
    return config


def start(gateway_factory: Factory, demo: DemoApi, tmp_path: Path, mode: str,
          state: dict[str, Any] | None = None) -> tuple[GatewayProcess, Path]:
    folder = tmp_path / f"events-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    gateway = gateway_factory(gateway_config(demo, folder, mode, state))
    return gateway, folder / "events.jsonl"


def login(port: int, username: str, client_ip: str) -> str:
    reply = call(port, "POST", "/api/v2/login", client_ip=client_ip,
                 body={"username": username, "password": f"{username}-demo-pass"})
    assert reply.status == 200, reply.body
    token: str = reply.json()["token"]
    return token


def legitimate_flows(port: int) -> dict[str, str]:
    """Run alice's and bob's ordinary calls through the gateway; return their tokens."""
    tokens = {}
    for name, ip, own in (("alice", ALICE_IP, ALICE_ORDER), ("bob", BOB_IP, BOB_ORDER)):
        token = login(port, name, ip)
        tokens[name] = token
        orders = call(port, "GET", "/api/v2/orders", token=token, client_ip=ip)
        assert orders.status == 200, orders.body
        assert own in [order["id"] for order in orders.json()]
        one = call(port, "GET", f"/api/v2/orders/{own}", token=token, client_ip=ip)
        assert one.status == 200, one.body
        assert one.json()["id"] == own
        created = call(port, "POST", "/api/v2/orders", token=token, client_ip=ip,
                       body={"product_id": 2, "quantity": 1})
        assert created.status == 201, created.body
        changed = call(port, "PUT", f"/api/v2/orders/{created.json()['id']}", token=token,
                       client_ip=ip, body={"quantity": 2})
        assert changed.status == 200, changed.body
        profile = call(port, "PATCH", "/api/v2/users/me", token=token, client_ip=ip,
                       body={"full_name": f"{name.title()} Example"})
        assert profile.status == 200, profile.body
        products = call(port, "GET", "/api/v2/products?search=widget", client_ip=ip)
        assert products.status == 200, products.body
        assert len(products.json()) == 2
    return tokens


def brute_force(port: int, attempts: int) -> list[Reply]:
    return [call(port, "POST", "/api/v2/login", client_ip=ATTACKER_IP,
                 body={"username": "carol", "password": f"guess-{index}"})
            for index in range(attempts)]


def credential_stuffing(port: int) -> list[Reply]:
    return [call(port, "POST", "/api/v2/login", client_ip=STUFFER_IP,
                 body={"username": f"user{index}", "password": "leaked-password"})
            for index in range(MAX_USERNAMES + 2)]


def wait_for_status(port: int, path: str, client_ip: str, expected: int) -> int:
    """Repeat a GET until it answers ``expected`` (the deny list is fed after the response)."""
    status = 0
    for _ in range(50):
        status = call(port, "GET", path, client_ip=client_ip).status
        if status == expected:
            break
        time.sleep(0.05)
    return status


def kinds(events: list[dict[str, Any]], action: str) -> set[str]:
    return {event["kind"] for event in events if event["action"] == action}


def test_attacks_blocked_in_block_mode(gateway_factory: Factory, demo: DemoApi, canary: Canary,
                                       tmp_path: Path) -> None:
    gateway, events_path = start(gateway_factory, demo, tmp_path, "block")
    port = gateway.port
    tokens = legitimate_flows(port)
    alice, bob = tokens["alice"], tokens["bob"]

    bola = call(port, "GET", f"/api/v2/orders/{ALICE_ORDER}", token=bob, client_ip=BOB_IP)
    assert bola.status == 403
    bola_delete = call(port, "DELETE", f"/api/v2/orders/{ALICE_ORDER}", token=bob, client_ip=BOB_IP)
    assert bola_delete.status == 403
    assert demo.direct("GET", f"/api/v2/orders/{ALICE_ORDER}", token=alice).status == 200

    mass = call(port, "PATCH", "/api/v2/users/me", token=bob, client_ip=BOB_IP,
                body={"role": "admin", "is_admin": True, "balance": 1000000})
    assert mass.status == 400
    assert demo.direct("GET", "/api/v2/users/me", token=bob).json()["role"] == "user"

    profile = call(port, "GET", "/api/v2/users/me", token=alice, client_ip=ALICE_IP)
    assert profile.status == 200
    assert profile.json()["username"] == "alice"
    for secret in ("password_hash", "ssn", "card_number", "internal_notes"):
        assert secret not in profile.json()
    assert "password_hash" in demo.direct("GET", "/api/v2/users/me", token=alice).json()

    assert call(port, "GET", "/api/v2/admin/users", token=alice, client_ip=ALICE_IP).status == 403
    assert call(port, "GET", "/api/v2/admin/stats", client_ip=ALICE_IP).status == 401

    ssrf = call(port, "POST", "/api/v2/webhooks/test", token=alice, client_ip=ALICE_IP,
                body={"url": canary.url()})
    assert ssrf.status == 400
    disguised = call(port, "GET", f"/api/v2/fetch?url=http://2130706433:{canary.port}/",
                     token=alice, client_ip=ALICE_IP)
    assert disguised.status == 400
    assert canary.requests == []

    statuses = [reply.status for reply in brute_force(port, MAX_FAILURES + 2)]
    assert statuses[:MAX_FAILURES] == [200] * MAX_FAILURES
    assert statuses[MAX_FAILURES:] == [429, 429]
    stuffing = [reply.status for reply in credential_stuffing(port)]
    assert stuffing[-1] == 429

    assert call(port, "GET", "/api/v2/products?search=x", client_ip=ALICE_IP).status == 200
    wanted = {"bola", "mass-assignment", "excessive-data-exposure", "bfla-missing-role",
              "bfla-unauthenticated", "ssrf", "brute-force", "credential-stuffing"}
    events = read_events(events_path, lambda found: wanted <= kinds(found, "blocked"))
    blocked = kinds(events, "blocked")
    for kind in sorted(wanted):
        assert kind in blocked, sorted(blocked)
    assert not any(event["client_ip"] in (ALICE_IP, BOB_IP) and event["kind"] == "denied-source"
                   for event in events)


def test_attacks_reported_in_detect_mode(gateway_factory: Factory, demo: DemoApi,
                                         canary: Canary, tmp_path: Path) -> None:
    gateway, events_path = start(gateway_factory, demo, tmp_path, "detect")
    port = gateway.port
    tokens = legitimate_flows(port)
    alice, bob = tokens["alice"], tokens["bob"]

    bola = call(port, "GET", f"/api/v2/orders/{ALICE_ORDER}", token=bob, client_ip=BOB_IP)
    assert bola.status == 200
    assert bola.json()["id"] == ALICE_ORDER
    mass = call(port, "PATCH", "/api/v2/users/me", token=bob, client_ip=BOB_IP,
                body={"balance": 1000000})
    assert mass.status == 200
    profile = call(port, "GET", "/api/v2/users/me", token=alice, client_ip=ALICE_IP)
    assert "password_hash" in profile.json()
    assert call(port, "GET", "/api/v2/admin/stats", client_ip=ALICE_IP).status == 200
    ssrf = call(port, "POST", "/api/v2/webhooks/test", token=alice, client_ip=ALICE_IP,
                body={"url": canary.url()})
    assert ssrf.status == 200
    assert canary.requests == ["/hook"]
    assert [reply.status for reply in brute_force(port, MAX_FAILURES + 2)] == \
        [200] * (MAX_FAILURES + 2)

    wanted = {"bola", "mass-assignment", "excessive-data-exposure", "bfla-unauthenticated",
              "ssrf", "brute-force"}
    events = read_events(events_path, lambda found: wanted <= kinds(found, "detected"))
    detected = kinds(events, "detected")
    for kind in sorted(wanted):
        assert kind in detected, sorted(detected)
    assert "blocked" not in {event["action"] for event in events}


def test_critical_events_block_source(gateway_factory: Factory, demo: DemoApi,
                                      tmp_path: Path) -> None:
    gateway, events_path = start(gateway_factory, demo, tmp_path, "block")
    port = gateway.port
    for _ in range(5):
        reply = call(port, "GET", "/api/v2/users/me", token=UNSIGNED_TOKEN, client_ip=ATTACKER_IP)
        assert reply.status == 401
    assert wait_for_status(port, "/api/v2/products", ATTACKER_IP, 403) == 403
    assert call(port, "GET", "/api/v2/products", client_ip=ALICE_IP).status == 200
    events = read_events(events_path, lambda found: "denied-source" in kinds(found, "blocked"))
    assert "source-blocked" in {event["kind"] for event in events}
    assert "denied-source" in kinds(events, "blocked")


def test_two_gateways_share_redis_state(gateway_factory: Factory, demo: DemoApi,
                                        tmp_path: Path) -> None:
    if not shared_redis_reachable():
        pytest.skip("Redis is not running on 127.0.0.1:6379; start it with scripts/services")
    state = {"store": "redis", "redis_url": SHARED_REDIS_URL,
             "key_prefix": "stockade-test:" + uuid.uuid4().hex[:12]}
    first, _ = start(gateway_factory, demo, tmp_path, "block", state)
    second, _ = start(gateway_factory, demo, tmp_path, "block", state)
    alice = login(first.port, "alice", ALICE_IP)
    bob = login(second.port, "bob", BOB_IP)
    assert call(first.port, "GET", "/api/v2/orders", token=alice, client_ip=ALICE_IP).status == 200
    assert call(second.port, "GET", f"/api/v2/orders/{ALICE_ORDER}", token=bob,
                client_ip=BOB_IP).status == 403
    assert call(second.port, "GET", f"/api/v2/orders/{ALICE_ORDER}", token=alice,
                client_ip=ALICE_IP).status == 200

    ports = [first.port, second.port]
    statuses = [call(ports[index % 2], "POST", "/api/v2/login", client_ip=ATTACKER_IP,
                     body={"username": "carol", "password": f"guess-{index}"}).status
                for index in range(MAX_FAILURES + 2)]
    assert statuses == [200] * MAX_FAILURES + [429, 429]

    for _ in range(5):
        reply = call(first.port, "GET", "/api/v2/users/me", token=UNSIGNED_TOKEN,
                     client_ip=STUFFER_IP)
        assert reply.status == 401
    assert wait_for_status(second.port, "/api/v2/products", STUFFER_IP, 403) == 403
    assert call(second.port, "GET", "/api/v2/products", client_ip=ALICE_IP).status == 200


class SlowStartGateway(GatewayProcess):
    """A gateway allowed longer to start, since it compiles the whole Core Rule Set first."""

    def start(self) -> GatewayProcess:
        log = open(self.log_path, "ab")
        env = dict(os.environ, STOCKADE_LOG_FORMAT="text")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "stockade.cli", "serve", "-c", str(self.config_path)],
            stdout=log, stderr=log, env=env)
        try:
            wait_for_port(self.port, timeout=CRS_START_TIMEOUT_SECONDS, process=self.process)
        except TimeoutError:
            raise RuntimeError(f"gateway did not start; log:\n{self.logs()}") from None
        return self


def test_sql_injection_blocked_by_waf(demo: DemoApi, tmp_path: Path,
                                      request: pytest.FixtureRequest) -> None:
    if not (CRS_DIR / "rules").is_dir():
        pytest.skip(f"the Core Rule Set is not at {CRS_DIR}")
    folder = tmp_path / "waf"
    folder.mkdir()
    config = gateway_config(demo, folder, "block")
    config["tenants"][0]["services"][0]["policy"]["waf"] = {"crs_path": str(CRS_DIR)}
    gateway = SlowStartGateway(config, folder)
    try:
        gateway.start()
    except BaseException:
        gateway.stop()
        raise
    request.addfinalizer(gateway.stop)
    injection = "/api/v2/products?search=x%27%20UNION%20SELECT%20id,username,password_hash," \
                "balance%20FROM%20users%20--"
    assert call(gateway.port, "GET", injection, client_ip=ALICE_IP).status == 403
    assert call(gateway.port, "GET", "/api/v2/products?search=widget",
                client_ip=ALICE_IP).status == 200


def test_legitimate_flows_pass_fixed_variant(gateway_factory: Factory, tmp_path: Path) -> None:
    fixed = DemoApi(tmp_path / "fixed.log", fixed=True)
    try:
        gateway, events_path = start(gateway_factory, fixed, tmp_path, "block")
        tokens = legitimate_flows(gateway.port)
        profile = call(gateway.port, "GET", "/api/v2/users/me", token=tokens["alice"],
                       client_ip=ALICE_IP)
        assert profile.status == 200
        assert profile.json() == fixed.direct("GET", "/api/v2/users/me",
                                              token=tokens["alice"]).json()
        assert call(gateway.port, "GET", "/api/v2/products", client_ip=BOB_IP).status == 200
        events = read_events(events_path, lambda found: False, timeout=1.0)
        assert kinds(events, "blocked") == set()
        assert kinds(events, "detected") == set()
    finally:
        fixed.stop()


def test_operator_block_from_store(gateway_factory: Factory, demo: DemoApi,
                                   tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store(open_engine(url))
    migrate(store.engine)
    with store.session(None, "test") as scope:
        put_tenant(scope, Tenant.model_validate({"id": "acme"}))
        add_block(scope, "acme", "203.0.113.0/24", "operator block", 600)
    folder = tmp_path / "store-events"
    folder.mkdir()
    config = gateway_config(demo, folder, "block")
    config["store"] = {"url": url}
    policy = config["tenants"][0]["services"][0]["policy"]
    policy["protection"]["blocking"]["store_sync_seconds"] = 0.2
    gateway = gateway_factory(config)
    assert wait_for_status(gateway.port, "/api/v2/products", "203.0.113.50", 403) == 403
    assert call(gateway.port, "GET", "/api/v2/products", client_ip=ALICE_IP).status == 200

    # An operator block of a JWT subject refuses that user's token from any address.
    alice, bob = login(gateway.port, "alice", ALICE_IP), login(gateway.port, "bob", BOB_IP)
    subject = json.loads(base64.urlsafe_b64decode(alice.split(".")[1] + "=="))["sub"]
    with store.session(None, "test") as scope:
        add_block(scope, "acme", str(subject), "stolen token", 600, kind="jwt-subject")
    status = 0
    for _ in range(50):
        status = call(gateway.port, "GET", "/api/v2/orders", token=alice, client_ip=BOB_IP).status
        if status == 403:
            break
        time.sleep(0.05)
    assert status == 403
    assert call(gateway.port, "GET", "/api/v2/orders", token=bob, client_ip=BOB_IP).status == 200
