from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from stockade.config.models import GatewayConfig
from stockade.events.model import SecurityEvent
from stockade.gateway.exchange import ClientInfo, Exchange, VerdictRecord
from stockade.gateway.pipeline import StageRegistry
from stockade.gateway.routing import Resources, RouteTable
from stockade.http.fields import Fields
from stockade.http.messages import BodyFraming, RequestHead, ResponseHead
from stockade.protection.discovery.observer import DiscoveryObserver, create_observer
from stockade.protection.discovery.storage import InventoryStore
from tests.protection.discovery.openapi_fixture import declared_document, write_document

NOW = 1_700_000_000.0
DAY = 86_400.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def make_config(tmp_path: Path, **discovery: Any) -> GatewayConfig:
    tmp_path.mkdir(exist_ok=True)
    openapi = write_document(tmp_path, declared_document())
    data = {
        "discovery": {"database": "inventory.sqlite3", "body_sample_rate": 1.0, **discovery},
        "tenants": [
            {
                "id": "acme",
                "services": [
                    {
                        "id": "shop",
                        "hosts": ["shop.test"],
                        "upstream": {"targets": ["127.0.0.1:9"]},
                        "openapi": str(openapi),
                        "policy": {
                            "discovery": {"orphan_after": 7 * DAY, "exclude_prefixes": ["/health"]}
                        },
                    },
                    {
                        "id": "quiet",
                        "hosts": ["quiet.test"],
                        "upstream": {"targets": ["127.0.0.1:9"]},
                        "policy": {"modes": {"discovery": "off"}},
                    },
                ],
            }
        ],
    }
    return GatewayConfig.model_validate(data, context={"base_dir": str(tmp_path)})


def make_exchange(
    table: RouteTable,
    method: str,
    target: str,
    status: int = 200,
    *,
    host: str = "shop.test",
    fields: list[tuple[bytes, bytes]] | None = None,
    body: bytes | None = None,
    response_body: bytes | None = None,
) -> Exchange:
    request = RequestHead(
        method.encode(),
        target.encode(),
        b"1.1",
        Fields(fields or []),
        BodyFraming.NONE,
        authority=host.encode(),
    )
    exchange = Exchange("req-" + target, ClientInfo("127.0.0.1", 40000, "127.0.0.1"), request)
    exchange.match = table.match(host, method, target.partition("?")[0])
    exchange.response = ResponseHead(
        status, b"", b"1.1", Fields([(b"Content-Type", b"application/json")]), BodyFraming.LENGTH
    )
    exchange.status = status
    exchange.body = body
    exchange.response_body = response_body
    exchange.started_wall = NOW
    return exchange


class Setup:
    def __init__(self, tmp_path: Path, **discovery: Any) -> None:
        self.config = make_config(tmp_path, **discovery)
        self.table = RouteTable(self.config, StageRegistry(), Resources())
        self.clock = Clock()
        self.events: list[SecurityEvent] = []
        self.store = InventoryStore(str(tmp_path / "inventory.sqlite3"))
        self.path = tmp_path
        self.observer = DiscoveryObserver(self.config, self.store, self.events.append, self.clock)

    def send(self, method: str, target: str, status: int = 200, **options: Any) -> Exchange:
        exchange = make_exchange(self.table, method, target, status, **options)
        self.observer.wants_bodies(exchange)  # the gateway calls it before the bodies stream
        self.observer.observe(exchange)
        return exchange


async def test_observations_reach_the_store(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    for user in range(5):
        setup.send("GET", f"/api/v2/users/{user}?page=1")
    setup.send("GET", "/api/v2/users/me")
    await setup.observer.close()
    stored = setup.store.load("acme", "shop")
    assert stored is not None
    assert stored.endpoints[("GET", "/api/v2/users/{userId}")].hits == 5
    assert stored.endpoints[("GET", "/api/v2/users/me")].hits == 1
    assert setup.observer.counters.analyzed == 6


def test_full_queue_drops_and_counts(tmp_path: Path) -> None:
    setup = Setup(tmp_path, queue_size=2)
    for index in range(5):
        setup.send("GET", f"/api/v2/users/{index}")
    assert setup.observer.counters.observed == 2
    assert setup.observer.counters.dropped == 3


def test_skipped_exchanges(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    setup.send("GET", "/api/v2/nothing", 404)
    setup.send("GET", "/health/live")
    setup.send("GET", "/x", host="quiet.test")
    setup.send("GET", "/x", host="unknown.test")
    blocked = make_exchange(setup.table, "GET", "/api/v2/users")
    blocked.verdicts.append(VerdictRecord("waf", "reject", 403, "sqli"))
    setup.observer.observe(blocked)
    assert setup.observer.counters.skipped == 5
    assert setup.observer.counters.observed == 0


def test_body_sampling_rate(tmp_path: Path) -> None:
    setup = Setup(tmp_path, body_sample_rate=0.25)
    decisions = [
        setup.observer.wants_bodies(make_exchange(setup.table, "GET", "/api/v2/users"))
        for _ in range(8)
    ]
    assert decisions.count(True) == 2
    quiet = make_exchange(setup.table, "GET", "/x", host="quiet.test")
    assert setup.observer.wants_bodies(quiet) is False


async def test_bodies_used_only_when_sampled(tmp_path: Path) -> None:
    setup = Setup(tmp_path, body_sample_rate=0.0)
    body = json.dumps({"id": 1, "name": "a", "ssn": "078-05-1120"}).encode()
    setup.send("GET", "/api/v2/users/1", response_body=body)
    await setup.observer.close()
    stored = setup.store.load("acme", "shop")
    assert stored is not None
    assert stored.endpoints[("GET", "/api/v2/users/{userId}")].sampled == 0

    sampled = Setup(tmp_path / "sampled", body_sample_rate=1.0)
    sampled.send("GET", "/api/v2/users/2", response_body=body)
    await sampled.observer.close()
    stored = sampled.store.load("acme", "shop")
    assert stored is not None
    endpoint = stored.endpoints[("GET", "/api/v2/users/{userId}")]
    assert endpoint.sampled == 1
    assert endpoint.sensitive_response == {"us-ssn": 1}


async def test_findings_emitted_once(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    await setup.observer.start()
    for _ in range(3):
        setup.send("GET", "/api/v2/internal/debug")
        setup.send("GET", "/api/v2/users?verbose=1")
        setup.observer.drain_now()
        await setup.observer.flush()
    kinds = sorted((event.kind, event.path, event.evidence["detail"]) for event in setup.events)
    assert kinds == [
        ("api-drift", "/api/v2/users", "query parameter 'verbose'"),
        ("api-shadow", "/api/v2/internal/debug", ""),
    ]
    await setup.observer.close()

    restarted = DiscoveryObserver(
        setup.config,
        InventoryStore(str(tmp_path / "inventory.sqlite3")),
        setup.events.append,
        setup.clock,
    )
    exchange = make_exchange(setup.table, "GET", "/api/v2/internal/debug")
    restarted.observe(exchange)
    await restarted.close()
    assert len(setup.events) == 2


async def test_findings_wait_for_an_emitter(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    setup.observer.emit = None
    setup.send("GET", "/api/v2/hidden")
    await setup.observer.close()
    assert setup.events == []
    (stored,) = setup.store.findings.list(tenant="acme", kind="shadow")
    assert stored.emitted_at is None
    setup.observer.set_emit(setup.events.append)
    await setup.observer.flush()
    assert [event.kind for event in setup.events] == ["api-shadow"]


async def test_orphans_after_the_configured_time(tmp_path: Path) -> None:
    setup = Setup(tmp_path, orphan_check_interval=60)
    await setup.observer.start()
    setup.send("GET", "/api/v2/users")
    setup.observer.drain_now()
    await setup.observer.flush()
    assert not [event for event in setup.events if event.kind == "api-orphan"]
    setup.clock.now = NOW + 8 * DAY
    await setup.observer.flush()
    orphans = sorted(event.path for event in setup.events if event.kind == "api-orphan")
    assert "/api/v2/audit" in orphans
    assert "/api/v2/users" in orphans  # last seen eight days ago
    count = len(setup.events)
    setup.clock.now += 120
    await setup.observer.flush()
    assert len(setup.events) == count
    await setup.observer.close()


async def test_zombie_after_document_drops_operation(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    await setup.observer.start()
    await setup.observer.close()
    newer = declared_document("3.0.0")
    del newer["paths"]["/v2/users/me"]
    path = write_document(tmp_path, newer)
    stamp = path.stat().st_mtime + 10
    os.utime(path, (stamp, stamp))
    observer = DiscoveryObserver(setup.config, setup.store, setup.events.append, setup.clock)
    await observer.start()
    observer.observe(make_exchange(setup.table, "GET", "/api/v2/users/me"))
    await observer.close()
    zombies = [event for event in setup.events if event.kind == "api-zombie"]
    assert [(event.path, event.evidence["detail"]) for event in zombies] == [
        ("/api/v2/users/me", "removed after version 2.0.0")
    ]


def test_create_observer_off_and_shared(tmp_path: Path) -> None:
    resources = Resources()
    off = GatewayConfig.model_validate({"tenants": []})
    assert create_observer(off, resources) is None
    config = make_config(tmp_path)
    first = create_observer(config, resources)
    second = create_observer(config, resources)
    assert first is not None
    assert first is second
    assert first.max_body_bytes == config.discovery.max_body_bytes  # type: ignore[union-attr]


async def test_cut_bodies_scanned_not_inferred(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    body = json.dumps({"id": 1, "email": "jane@example.com"}).encode()
    exchange = make_exchange(
        setup.table, "GET", "/api/v2/users/5", response_body=body[:20] + b"..."
    )
    assert exchange.response is not None
    exchange.response.content_length = len(body) + 4096
    setup.observer.wants_bodies(exchange)
    setup.observer.observe(exchange)
    await setup.observer.close()
    stored = setup.store.load("acme", "shop")
    assert stored is not None
    endpoint = stored.endpoints[("GET", "/api/v2/users/{userId}")]
    assert endpoint.sampled == 1
    assert endpoint.response_bodies == {}


class FailingOnceStore(InventoryStore):
    """A real store whose first write fails, as a locked or full disk would make it."""

    def __init__(self, database: str) -> None:
        super().__init__(database)
        self.failures = 1

    def merge(self, delta: Any, now: float) -> Any:
        if self.failures:
            self.failures -= 1
            raise OSError("disk full")
        return super().merge(delta, now)


async def test_failed_write_keeps_counts(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    store = FailingOnceStore(str(tmp_path / "inventory.sqlite3"))
    observer = DiscoveryObserver(setup.config, store, setup.events.append, setup.clock)
    for user in range(3):
        observer.observe(make_exchange(setup.table, "GET", f"/api/v2/users/{user}"))
    observer.drain_now()
    await observer.flush()  # fails and is logged
    before = store.load("acme", "shop")  # the declared document's state is stored already
    assert before is not None
    assert before.endpoints == {}
    observer.observe(make_exchange(setup.table, "GET", "/api/v2/users/9"))
    await observer.close()
    stored = store.load("acme", "shop")
    assert stored is not None
    assert stored.endpoints[("GET", "/api/v2/users/{userId}")].hits == 4


def test_unusable_database_turns_discovery_off(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(tmp_path, database=str(tmp_path / "missing" / "inventory.sqlite3"))
    assert create_observer(config, Resources()) is None
    assert "API discovery is off" in caplog.text
    assert "does not exist" in caplog.text
