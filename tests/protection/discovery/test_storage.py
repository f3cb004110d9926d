from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from stockade.protection.discovery.analysis import Observation, analyze
from stockade.protection.discovery.compare import Finding, RetiredOperation
from stockade.protection.discovery.inventory import ServiceInventory
from stockade.protection.discovery.storage import InventoryStore, StoreError

NOW = 1_700_000_000.0
POSTGRES_URL = os.environ.get(
    "STOCKADE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def delta(service: str, paths: list[str], tenant: str = "acme") -> ServiceInventory:
    inventory = ServiceInventory(tenant, service)
    for index, target in enumerate(paths):
        path, unit = analyze(Observation(tenant, service, "GET", target, 200, NOW + index))
        inventory.learn(path, unit)
    return inventory


def test_merge_survives_reopen(tmp_path: Path) -> None:
    database = str(tmp_path / "inventory.sqlite3")
    store = InventoryStore(database)
    store.merge(delta("shop", ["/users/1", "/users/2", "/users/me"]), NOW)
    store.close()

    reopened = InventoryStore(database)
    loaded = reopened.load("acme", "shop")
    assert loaded is not None
    assert loaded.endpoints[("GET", "/users/{userId}")].hits == 2
    assert loaded.endpoints[("GET", "/users/me")].hits == 1
    assert reopened.services() == [("acme", "shop")]
    assert reopened.load("acme", "other") is None
    assert reopened.watched_since("acme", "shop") == NOW


def test_two_workers_add_counts(tmp_path: Path) -> None:
    database = str(tmp_path / "inventory.sqlite3")
    first, second = InventoryStore(database), InventoryStore(database)
    first.merge(delta("shop", ["/users/1", "/users/2"]), NOW)
    second.merge(delta("shop", ["/users/3", "/orders/9"]), NOW)
    first.merge(delta("shop", ["/users/4"]), NOW)
    merged = first.load("acme", "shop")
    assert merged is not None
    assert merged.endpoints[("GET", "/users/{userId}")].hits == 4
    assert merged.endpoints[("GET", "/orders/{orderId}")].hits == 1


def test_concurrent_merges_lose_nothing(tmp_path: Path) -> None:
    database = str(tmp_path / "inventory.sqlite3")
    InventoryStore(database).close()

    def worker() -> None:
        store = InventoryStore(database)
        for round_index in range(10):
            store.merge(delta("shop", [f"/users/{round_index}"] * 3), NOW)
        store.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    merged = InventoryStore(database).load("acme", "shop")
    assert merged is not None
    assert merged.hits == 4 * 10 * 3


def test_template_revision_rekeys_stored_rows(tmp_path: Path) -> None:
    store = InventoryStore(str(tmp_path / "inventory.sqlite3"))
    names = [f"/people/name{chr(97 + index)}q" for index in range(5)]
    store.merge(delta("shop", names), NOW)
    stored = store.load("acme", "shop")
    assert stored is not None
    assert ("GET", "/people/nameaq") in stored.endpoints
    more = [f"/people/name{chr(107 + index)}q" for index in range(5)]
    merged = store.merge(delta("shop", more), NOW)
    assert set(merged.endpoints) == {("GET", "/people/{personId}")}
    reloaded = store.load("acme", "shop")
    assert reloaded is not None
    assert set(reloaded.endpoints) == {("GET", "/people/{personId}")}
    assert reloaded.hits == 10


def test_tenants_kept_apart(tmp_path: Path) -> None:
    store = InventoryStore(str(tmp_path / "inventory.sqlite3"))
    store.merge(delta("shop", ["/a"], tenant="acme"), NOW)
    store.merge(delta("shop", ["/b"], tenant="globex"), NOW)
    acme = store.load("acme", "shop")
    assert acme is not None
    assert set(acme.endpoints) == {("GET", "/a")}
    assert store.services("globex") == [("globex", "shop")]


def test_findings_recorded_once_and_emitted_once(tmp_path: Path) -> None:
    database = str(tmp_path / "inventory.sqlite3")
    first, second = InventoryStore(database), InventoryStore(database)
    finding = Finding("shadow", "GET", "/debug", "", "GET /debug is not declared")
    assert first.findings.record("acme", "shop", [finding], NOW) == 1
    assert second.findings.record("acme", "shop", [finding], NOW) == 0
    assert first.findings.known("acme", "shop") == {finding.key}
    assert first.findings.claim_unemitted("acme", "shop", NOW) == [finding]
    assert second.findings.claim_unemitted("acme", "shop", NOW) == []
    (stored,) = second.findings.list(tenant="acme", kind="shadow")
    assert stored.emitted_at == NOW
    assert second.findings.list(tenant="globex") == []


def test_declared_state_round_trip(tmp_path: Path) -> None:
    store = InventoryStore(str(tmp_path / "inventory.sqlite3"))
    assert store.declared_state("acme", "shop") == (None, set(), [])
    retired = [RetiredOperation("GET", "/old", "1.0")]
    store.save_declared_state("acme", "shop", "2.0", {("GET", "/new")}, retired, NOW)
    assert store.declared_state("acme", "shop") == ("2.0", {("GET", "/new")}, retired)
    store.merge(delta("shop", ["/new"]), NOW + 5)
    assert store.watched_since("acme", "shop") == NOW


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        InventoryStore(str(tmp_path / "nope" / "inventory.sqlite3"))


def _postgres_available() -> bool:
    try:
        with create_engine(POSTGRES_URL).connect() as connection:
            connection.execute(text("select 1"))
    except (OperationalError, ImportError):
        return False
    return True


@pytest.mark.postgres
def test_same_store_on_postgres() -> None:
    if not _postgres_available():
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}")
    store = InventoryStore(POSTGRES_URL)
    tenant = f"t{uuid.uuid4().hex[:12]}"
    store.merge(delta("shop", ["/users/1", "/users/2"], tenant=tenant), NOW)
    store.merge(delta("shop", ["/users/3"], tenant=tenant), NOW)
    loaded = store.load(tenant, "shop")
    assert loaded is not None
    assert loaded.endpoints[("GET", "/users/{userId}")].hits == 3
    finding = Finding("orphan", "GET", "/x", "", "m")
    assert store.findings.record(tenant, "shop", [finding], NOW) == 1
    assert store.findings.record(tenant, "shop", [finding], NOW) == 0
    store.close()


@pytest.mark.postgres
def test_concurrent_merges_on_postgres() -> None:
    if not _postgres_available():
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}")
    tenant = f"t{uuid.uuid4().hex[:12]}"

    def worker() -> None:
        store = InventoryStore(POSTGRES_URL)
        for round_index in range(5):
            store.merge(delta("shop", [f"/users/{round_index}"] * 2, tenant=tenant), NOW)
        store.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    loaded = InventoryStore(POSTGRES_URL).load(tenant, "shop")
    assert loaded is not None
    assert loaded.hits == 4 * 5 * 2
