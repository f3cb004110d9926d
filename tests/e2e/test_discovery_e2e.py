"""API discovery in a real gateway process: shadow, zombie, orphan and drift findings.

The gateway runs in front of the loopback test upstream with a declared
OpenAPI document. Findings reach a JSON-lines event sink once each, and the
inventory in the SQLite file survives a restart.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stockade.protection.discovery.storage import InventoryStore
from tests.protection.discovery.openapi_fixture import declared_document, write_document
from tests.support import upstream as upstream_support
from tests.support.client import RawResponse, request
from tests.support.gateway import GatewayProcess, service_config

Factory = Callable[..., GatewayProcess]

WAIT_SECONDS = 15.0
"""Upper bound for a finding to travel through flush, event pipeline and sink."""


def gateway_config(
    upstream: upstream_support.TestUpstream, folder: Path, **policy: Any
) -> dict[str, Any]:
    folder.mkdir(exist_ok=True)
    openapi = write_document(folder, declared_document())
    config = service_config(
        [upstream.address],
        host="shop.test",
        service="shop",
        openapi=str(openapi),
        policy={"discovery": policy},
    )
    config["discovery"] = {
        "database": str(folder / "inventory.sqlite3"),
        "flush_interval": 0.2,
        "orphan_check_interval": 0.5,
        "body_sample_rate": 1.0,
    }
    config["events"] = {
        "spool_dir": str(folder / "spool"),
        "sinks": [
            {"name": "file", "type": "jsonl", "path": str(folder / "events.jsonl"), "batch_size": 1}
        ],
    }
    return config


def get(gateway: GatewayProcess, target: str, *fields: str) -> RawResponse:
    head = "".join(f"{field}\r\n" for field in fields)
    raw = f"GET {target} HTTP/1.1\r\nHost: shop.test\r\n{head}Connection: close\r\n\r\n"
    return request(gateway.port, raw.encode())


def discovery_events(
    folder: Path, done: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    """Wait until the discovery events in the sink file satisfy ``done``; return them."""
    deadline = time.monotonic() + WAIT_SECONDS
    events = read_discovery_events(folder)
    while not done(events) and time.monotonic() < deadline:
        time.sleep(0.1)
        events = read_discovery_events(folder)
    return events


def read_discovery_events(folder: Path) -> list[dict[str, Any]]:
    path = folder / "events.jsonl"
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [event for event in lines if event.get("layer") == "discovery"]


def found(events: list[dict[str, Any]], kind: str) -> set[tuple[str, str]]:
    return {
        (event["path"], event["evidence"]["detail"]) for event in events if event["kind"] == kind
    }


def test_shadow_endpoint_reported_once(
    gateway_factory: Factory, upstream: upstream_support.TestUpstream, tmp_path: Path
) -> None:
    folder = tmp_path / "shadow"
    gateway = gateway_factory(gateway_config(upstream, folder))
    for _ in range(5):
        assert get(gateway, "/api/v2/internal/debug").status == 200
    assert get(gateway, "/api/v2/users/me").status == 200
    events = discovery_events(
        folder, lambda items: ("/api/v2/internal/debug", "") in found(items, "api-shadow")
    )
    shadows = [event for event in events if event["kind"] == "api-shadow"]
    assert [event["path"] for event in shadows] == ["/api/v2/internal/debug"]
    (shadow,) = shadows
    assert (shadow["tenant"], shadow["service"], shadow["action"]) == ("acme", "shop", "observed")
    assert shadow["method"] == "GET"
    time.sleep(1.0)  # five more flushes, which must not report it again
    again = read_discovery_events(folder)
    assert len([event for event in again if event["kind"] == "api-shadow"]) == 1


def test_zombie_endpoints(
    gateway_factory: Factory, upstream: upstream_support.TestUpstream, tmp_path: Path
) -> None:
    folder = tmp_path / "zombie"
    gateway = gateway_factory(gateway_config(upstream, folder))
    assert get(gateway, "/api/v2/exports").status == 200
    assert get(gateway, "/api/v1/users/42").status == 200
    expected = {
        ("/api/v2/exports", "deprecated"),
        ("/api/v1/users/{userId}", "superseded by /api/v2/users/{id}"),
    }
    events = discovery_events(folder, lambda items: expected <= found(items, "api-zombie"))
    assert found(events, "api-zombie") == expected
    assert found(events, "api-shadow") == set()


def test_orphan_endpoints(
    gateway_factory: Factory, upstream: upstream_support.TestUpstream, tmp_path: Path
) -> None:
    folder = tmp_path / "orphan"
    gateway = gateway_factory(gateway_config(upstream, folder, orphan_after=2.0))
    assert get(gateway, "/api/v2/users").status == 200
    orphans = {("/api/v2/audit", ""), ("/api/v2/users/{id}", ""), ("/api/v2/users/me", "")}
    events = discovery_events(folder, lambda items: orphans <= found(items, "api-orphan"))
    assert orphans <= found(events, "api-orphan")
    reported = [event for event in events if event["kind"] == "api-orphan"]
    assert len(reported) == len({(event["method"], event["path"]) for event in reported})


def test_drift_parameters_and_fields(
    gateway_factory: Factory, upstream: upstream_support.TestUpstream, tmp_path: Path
) -> None:
    folder = tmp_path / "drift"
    gateway = gateway_factory(gateway_config(upstream, folder))
    assert get(gateway, "/api/v2/users?page=2&verbose=true", "X-Debug: 1").status == 200
    assert get(gateway, "/api/v2/users/7").status == 200
    expected = {
        ("/api/v2/users", "query parameter 'verbose'"),
        ("/api/v2/users", "header parameter 'x-debug'"),
        ("/api/v2/users/{userId}", "response field 'upstream' (status 200)"),
    }
    events = discovery_events(folder, lambda items: expected <= found(items, "api-drift"))
    drift = found(events, "api-drift")
    assert expected <= drift
    assert not any("'page'" in detail for _, detail in drift)
    store = InventoryStore(str(folder / "inventory.sqlite3"))
    inventory = store.load("acme", "shop")
    store.close()
    assert inventory is not None
    endpoint = inventory.endpoints[("GET", "/api/v2/users/{userId}")]
    assert endpoint.sampled == 1
    assert "upstream" in endpoint.response_bodies["200"].properties


def test_inventory_survives_restart(
    gateway_factory: Factory, upstream: upstream_support.TestUpstream, tmp_path: Path
) -> None:
    folder = tmp_path / "restart"
    config = gateway_config(upstream, folder)
    database = str(folder / "inventory.sqlite3")
    first = gateway_factory(config)
    for user in range(3):
        assert get(first, f"/api/v2/users/{user}").status == 200
    assert get(first, "/api/v2/hidden").status == 200
    wait_for_hits(database, ("GET", "/api/v2/users/{userId}"), 3)
    discovery_events(folder, lambda items: bool(found(items, "api-shadow")))
    first.stop()

    second = gateway_factory(config)
    assert get(second, "/api/v2/users/99").status == 200
    assert get(second, "/api/v2/hidden").status == 200
    wait_for_hits(database, ("GET", "/api/v2/users/{userId}"), 4)
    time.sleep(1.0)  # five more flushes after the restart
    events = read_discovery_events(folder)
    assert [event["path"] for event in events if event["kind"] == "api-shadow"] == [
        "/api/v2/hidden"
    ]


def wait_for_hits(database: str, key: tuple[str, str], hits: int) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    seen = 0
    while time.monotonic() < deadline:
        store = InventoryStore(database)
        inventory = store.load("acme", "shop")
        store.close()
        endpoint = inventory.endpoints.get(key) if inventory else None
        seen = endpoint.hits if endpoint else 0
        if seen >= hits:
            return
        time.sleep(0.1)
    raise AssertionError(f"{key} has {seen} hits in {database}, expected {hits}")


def test_two_workers_add_counts(
    gateway_factory: Factory, upstream: upstream_support.TestUpstream, tmp_path: Path
) -> None:
    folder = tmp_path / "workers"
    config = gateway_config(upstream, folder)
    config["discovery"]["flush_interval"] = 60.0  # only the stop writes the counts
    gateway = gateway_factory(config, workers=2)
    for user in range(40):
        assert get(gateway, f"/api/v2/users/{user}").status == 200
    assert gateway.stop() == 0
    store = InventoryStore(str(folder / "inventory.sqlite3"))
    inventory = store.load("acme", "shop")
    store.close()
    assert inventory is not None
    assert inventory.endpoints[("GET", "/api/v2/users/{userId}")].hits == 40
