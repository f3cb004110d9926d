from __future__ import annotations

from typing import Any

import pytest

from stockade.config.models import Service, Tenant
from stockade.store import scans, schema, tenancy
from stockade.store.errors import NotFound
from stockade.store.history import list_changes
from stockade.store.scope import Store

REQUEST: dict[str, Any] = {
    "target": "http://127.0.0.1:9000", "openapi": "http://127.0.0.1:9000/openapi.json",
    "headers": {"Host": "shop.test", "Cookie": "session=abc"},
    "profiles": [{"name": "alice", "type": "login", "username": "alice",
                  "password": "alice-secret", "token": None}],
}


@pytest.fixture
def seeded(store: Store) -> Store:
    with store.session(None, "admin") as scope:
        for tenant in ("acme", "globex"):
            tenancy.put_tenant(scope, Tenant(id=tenant))
            tenancy.put_service(scope, tenant, Service.model_validate({
                "id": "shop", "hosts": [f"shop.{tenant}.test"],
                "upstream": {"targets": ["127.0.0.1:9000"]}}))
    return store


def test_request_secrets_are_masked(seeded: Store) -> None:
    with seeded.session("acme", "ann") as scope:
        created = scans.create_scan(scope, "acme", "shop", REQUEST)
        listed = scans.list_scans(scope, "acme")
        fetched = scans.get_scan(scope, "acme", created["scan_id"])
        history = list_changes(scope, "acme")
    for row in (created, listed[0], fetched):
        assert row["request"]["profiles"][0]["password"] == "***"
        assert row["request"]["profiles"][0]["token"] is None
        assert row["request"]["headers"] == {"Host": "shop.test", "Cookie": "***"}
    assert "alice-secret" not in repr(history)
    assert "session=abc" not in repr(history)


def test_claim_takes_oldest_request_once(seeded: Store) -> None:
    with seeded.session(None, "admin") as scope:
        scans.create_scan(scope, "acme", "shop")  # recorded without a request: never claimed
        first = scans.create_scan(scope, "globex", "shop", REQUEST)
        second = scans.create_scan(scope, "acme", "shop", REQUEST)
        claimed = scans.claim_scan(scope, now=100.0)
        assert claimed is not None
        assert claimed["scan_id"] == first["scan_id"]
        assert claimed["request"]["profiles"][0]["password"] == "alice-secret"
        again = scans.claim_scan(scope, now=101.0)
        assert again is not None
        assert again["scan_id"] == second["scan_id"]
        assert scans.claim_scan(scope) is None
        assert scans.get_scan(scope, "globex", first["scan_id"])["status"] == "running"


def test_tenant_scope_claims_only_its_scans(seeded: Store) -> None:
    with seeded.session(None, "admin") as scope:
        scans.create_scan(scope, "globex", "shop", REQUEST)
    with seeded.session("acme", "runner") as scope:
        assert scans.claim_scan(scope) is None


def test_stale_running_scans_fail(seeded: Store) -> None:
    with seeded.session(None, "admin") as scope:
        created = scans.create_scan(scope, "acme", "shop", REQUEST)
        scans.claim_scan(scope, now=100.0)
        assert scans.fail_stale_scans(scope, older_than=50.0) == 0
        assert scans.fail_stale_scans(scope, older_than=150.0) == 1
        failed = scans.get_scan(scope, "acme", created["scan_id"])
    assert failed["status"] == "failed"
    assert failed["finished_at"] is not None
    assert "stopped before the scan finished" in failed["error"]


def test_update_records_error_and_rejects_bad_status(seeded: Store) -> None:
    with seeded.session("acme", "runner") as scope:
        created = scans.create_scan(scope, "acme", "shop", REQUEST)
        updated = scans.update_scan(scope, "acme", created["scan_id"], "failed",
                                    error="login of alice failed")
        assert updated["error"] == "login of alice failed"
        assert updated["request"]["profiles"][0]["password"] == "***"
        with pytest.raises(ValueError, match="invalid scan status"):
            scans.update_scan(scope, "acme", created["scan_id"], "paused")
        with pytest.raises(NotFound):
            scans.create_scan(scope, "acme", "billing", REQUEST)


@pytest.mark.parametrize("status", ["finished", "failed"])
def test_ended_scan_keeps_no_credentials(seeded: Store, status: str) -> None:
    with seeded.session(None, "admin") as scope:
        created = scans.create_scan(scope, "acme", "shop", REQUEST)
        claimed = scans.claim_scan(scope)
        assert claimed is not None
        assert claimed["request"]["profiles"][0]["password"] == "alice-secret"
        scans.update_scan(scope, "acme", created["scan_id"], "running", notes=["halfway"])
        running = scope.fetch_all(schema.scans, schema.scans.c.scan_id == created["scan_id"])
        assert running[0]["request"]["profiles"][0]["password"] == "alice-secret"
        scans.update_scan(scope, "acme", created["scan_id"], status)
        stored = scope.fetch_all(schema.scans, schema.scans.c.scan_id == created["scan_id"])
    request = stored[0]["request"]
    assert request["profiles"][0]["password"] == "***"
    assert request["profiles"][0]["username"] == "alice"
    assert request["headers"] == {"Host": "shop.test", "Cookie": "***"}
    assert request["target"] == REQUEST["target"]
