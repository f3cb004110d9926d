"""The inventory endpoint and the report's shadow endpoints, read from discovery's database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from stockade.protection.discovery.analysis import Observation, analyze
from stockade.protection.discovery.inventory import ServiceInventory
from stockade.protection.discovery.storage import InventoryStore
from stockade.store.operators import Role, create_operator
from stockade.store.scope import Store
from stockade.store.testing import migrated_engine, sqlite_url
from tests.admin.conftest import start_server, stop_server

SEEN = 1_700_000_000.0


def _discovery_database(path: Path) -> str:
    database = str(path / "discovery.sqlite3")
    inventory = ServiceInventory("acme", "orders")
    requests = [("GET", "/orders/17", SEEN), ("GET", "/orders/18", SEEN + 1),
                ("POST", "/internal/debug", SEEN + 50)]
    for method, target, at in requests:
        path_learned, unit = analyze(Observation("acme", "orders", method, target, 200, at))
        inventory.learn(path_learned, unit)
    store = InventoryStore(database)
    store.merge(inventory, SEEN + 60)
    declared = {("GET", "/orders/{orderId}")}
    store.save_declared_state("acme", "orders", "1.0", declared, [], SEEN + 60)
    store.close()
    return database


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    engine = migrated_engine(sqlite_url(tmp_path))
    store = Store(engine)
    with store.session(None, "setup") as scope:
        _, token = create_operator(scope, "root", Role.MSSP_ADMIN)
    running, thread, port = start_server(store, _discovery_database(tmp_path))
    yield f"http://127.0.0.1:{port}", token
    stop_server(running, thread)
    engine.dispose()


def _client(server: tuple[str, str]) -> httpx.Client:
    url, token = server
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"})


def _setup_tenant(client: httpx.Client) -> None:
    assert client.put("/v1/tenants/acme", json={"id": "acme"}).status_code == 201
    service = {"id": "orders", "hosts": ["api.acme.test"],
               "upstream": {"targets": ["127.0.0.1:9000"]}}
    assert client.put("/v1/tenants/acme/services/orders", json=service).status_code == 201


def test_inventory_marks_shadow_endpoints(server: tuple[str, str]) -> None:
    with _client(server) as client:
        _setup_tenant(client)
        rows: list[dict[str, Any]] = client.get(
            "/v1/tenants/acme/services/orders/inventory").json()
    by_key = {(row["method"], row["path"]): row for row in rows}
    assert by_key[("GET", "/orders/{orderId}")]["documented"] is True
    assert by_key[("GET", "/orders/{orderId}")]["hits"] == 2
    assert by_key[("POST", "/internal/debug")]["documented"] is False


def test_inventory_of_unknown_service(server: tuple[str, str]) -> None:
    with _client(server) as client:
        _setup_tenant(client)
        assert client.get("/v1/tenants/acme/services/nope/inventory").status_code == 404


def test_report_lists_new_shadow_endpoints(server: tuple[str, str]) -> None:
    with _client(server) as client:
        _setup_tenant(client)
        report = client.get("/v1/tenants/acme/report",
                            params={"since": SEEN + 10, "until": SEEN + 100}).json()
        earlier = client.get("/v1/tenants/acme/report",
                             params={"since": SEEN + 100, "until": SEEN + 200}).json()
    assert [(row["method"], row["path"]) for row in report["new_shadow_endpoints"]] == [
        ("POST", "/internal/debug")]
    assert earlier["new_shadow_endpoints"] == []


