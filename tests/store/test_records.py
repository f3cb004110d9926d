"""Store functions for consumers, operators, blocks, scans, inventory and alert rules."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from stockade.auth.consumers import ConsumerConfig
from stockade.auth.hashing import hash_api_key
from stockade.config.models import Service, Tenant
from stockade.events.config import AlertRule
from stockade.store import alerts, blocks, consumers, operators, scans, tenancy
from stockade.store.errors import Conflict, NotFound
from stockade.store.history import list_changes
from stockade.store.operators import Role
from stockade.store.scope import Store

SERVICE = Service.model_validate(
    {"id": "orders", "hosts": ["api.acme.test"], "upstream": {"targets": ["127.0.0.1:9000"]}})


@pytest.fixture
def tenants(store: Store) -> Store:
    with store.session(None, "admin") as scope:
        for tenant_id in ("acme", "globex"):
            tenancy.put_tenant(scope, Tenant(id=tenant_id))
            tenancy.put_service(scope, tenant_id, SERVICE)
    return store


def test_consumer_round_trip(tenants: Store) -> None:
    consumer = ConsumerConfig.model_validate({
        "id": "mobile", "groups": ["apps"],
        "api_keys": [{"id": "k1", "hash": hash_api_key("secret-one"),
                      "expires": "2030-01-01T00:00:00Z"}],
        "token_subjects": [{"subject": "mobile-app"}],
    })
    with tenants.session("acme", "op") as scope:
        assert consumers.put_consumer(scope, "acme", consumer)
        assert consumers.get_consumer(scope, "acme", "mobile") == consumer
        assert consumers.list_consumer_ids(scope, "acme") == ["mobile"]
        without_keys = consumer.model_copy(update={"api_keys": []})
        assert not consumers.put_consumer(scope, "acme", without_keys)
        assert consumers.list_api_keys(scope, "acme", "mobile") == []
        consumers.delete_consumer(scope, "acme", "mobile")
        with pytest.raises(NotFound):
            consumers.get_consumer(scope, "acme", "mobile")


def test_api_key_lifecycle(tenants: Store) -> None:
    with tenants.session("acme", "op") as scope:
        consumers.put_consumer(scope, "acme", ConsumerConfig(id="mobile"))
        expires = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
        record, key = consumers.create_api_key(scope, "acme", "mobile", "k1", expires)
        assert key.startswith("sk_")
        assert record.hash == hash_api_key(key)
        assert key not in str(list_changes(scope))
        assert consumers.find_api_key(scope, key) == ("acme", "mobile")
        with pytest.raises(NotFound):
            consumers.find_api_key(scope, key, now=expires.timestamp() + 1)
        with pytest.raises(Conflict):
            consumers.create_api_key(scope, "acme", "mobile", "k1")
        consumers.revoke_api_key(scope, "acme", "mobile", "k1")
        with pytest.raises(NotFound):
            consumers.find_api_key(scope, key)
        consumers.delete_api_key(scope, "acme", "mobile", "k1")
        assert consumers.list_api_keys(scope, "acme", "mobile") == []


def test_api_key_of_other_tenant_not_found(tenants: Store) -> None:
    with tenants.session("globex", "op") as scope:
        consumers.put_consumer(scope, "globex", ConsumerConfig(id="partner"))
        _, key = consumers.create_api_key(scope, "globex", "partner", "k1")
    with tenants.session("acme", "op") as scope:
        with pytest.raises(NotFound):
            consumers.find_api_key(scope, key)
        with pytest.raises(NotFound):
            consumers.get_consumer(scope, "globex", "partner")
        with pytest.raises(NotFound):
            consumers.create_api_key(scope, "globex", "partner", "k2")
        with pytest.raises(NotFound):
            consumers.delete_api_key(scope, "globex", "partner", "k1")


def test_operator_tokens(tenants: Store) -> None:
    with tenants.session(None, "bootstrap") as scope:
        admin, admin_token = operators.create_operator(scope, "root", Role.MSSP_ADMIN)
        viewer, viewer_token = operators.create_operator(scope, "ann", Role.TENANT_VIEWER, "acme")
        assert admin.scope_tenant is None
        assert viewer.scope_tenant == "acme"
        assert operators.authenticate(scope, admin_token).operator_id == "root"
        assert operators.authenticate(scope, viewer_token).operator_id == "ann"
        with pytest.raises(NotFound):
            operators.authenticate(scope, admin_token + "x")
        with pytest.raises(ValueError, match="needs a tenant"):
            operators.create_operator(scope, "bob", Role.TENANT_ADMIN)
        with pytest.raises(ValueError, match="every tenant"):
            operators.create_operator(scope, "eve", Role.MSSP_ANALYST, "acme")
        with pytest.raises(Conflict):
            operators.create_operator(scope, "root", Role.MSSP_ADMIN)
        new_token = operators.rotate_token(scope, "ann")
        with pytest.raises(NotFound):
            operators.authenticate(scope, viewer_token)
        assert operators.authenticate(scope, new_token).operator_id == "ann"
        operators.set_operator_disabled(scope, "ann", True)
        with pytest.raises(NotFound):
            operators.authenticate(scope, new_token)
        history = str(list_changes(scope))
        assert admin_token not in history
        assert "token_hash" not in history
    with tenants.session("acme", "ann") as scope:
        assert [item.operator_id for item in operators.list_operators(scope)] == ["ann"]
        with pytest.raises(NotFound):
            operators.get_operator(scope, "root")
    with tenants.session(None, "root") as scope:
        operators.delete_operator(scope, "ann")
        assert [item.operator_id for item in operators.list_operators(scope)] == ["root"]


def test_blocks_expire(tenants: Store) -> None:
    with tenants.session("acme", "analyst") as scope:
        forever = blocks.add_block(scope, "acme", "192.0.2.7", "credential stuffing")
        short = blocks.add_block(scope, "acme", "2001:db8::/32", "scanner", ttl_seconds=60)
        assert forever.client == "192.0.2.7"
        assert short.client == "2001:db8::/32"
        assert forever.created_by == "analyst"
        now = time.time()
        assert {block.block_id for block in blocks.list_blocks(scope, "acme", now)} == {
            forever.block_id, short.block_id}
        assert blocks.list_blocks(scope, "acme", now + 120) == [forever]
        assert blocks.purge_expired_blocks(scope, now + 120) == 1
        assert blocks.get_block(scope, "acme", forever.block_id) == forever
        blocks.delete_block(scope, "acme", forever.block_id)
        assert blocks.list_blocks(scope, "acme") == []
        with pytest.raises(ValueError, match="invalid client"):
            blocks.add_block(scope, "acme", "not-an-ip", "x")
        with pytest.raises(ValueError, match="out of range"):
            blocks.add_block(scope, "acme", "192.0.2.1", "x", ttl_seconds=-1)


def test_blocks_of_other_source_kinds(tenants: Store) -> None:
    with tenants.session("acme", "analyst") as scope:
        consumer = blocks.add_block(scope, "acme", " mobile-app ", "scraping", 600,
                                    kind="consumer")
        subject = blocks.add_block(scope, "acme", "user-" + "x" * 300, "stolen token",
                                   kind="jwt-subject")
        assert (consumer.kind, consumer.client) == ("consumer", "mobile-app")
        assert blocks.get_block(scope, "acme", subject.block_id) == subject
        assert {block.kind for block in blocks.list_blocks(scope, "acme")} == {
            "consumer", "jwt-subject"}
        with pytest.raises(ValueError, match="invalid block kind"):
            blocks.add_block(scope, "acme", "x", "x", kind="cookie")
        with pytest.raises(ValueError, match="printable"):
            blocks.add_block(scope, "acme", "key\n1", "x", kind="api-key")
        with pytest.raises(ValueError, match="printable"):
            blocks.add_block(scope, "acme", "   ", "x", kind="api-key")


def test_blocks_isolated(tenants: Store) -> None:
    with tenants.session("globex", "op") as scope:
        block = blocks.add_block(scope, "globex", "198.51.100.1", "abuse")
    with tenants.session("acme", "op") as scope:
        assert blocks.list_blocks(scope) == []
        with pytest.raises(NotFound):
            blocks.get_block(scope, "globex", block.block_id)
        with pytest.raises(NotFound):
            blocks.delete_block(scope, "globex", block.block_id)
        with pytest.raises(NotFound):
            blocks.add_block(scope, "globex", "198.51.100.2", "abuse")
    with tenants.session(None, "gateway") as scope:
        assert blocks.list_blocks(scope) == [block]


def test_scan_lifecycle(tenants: Store) -> None:
    with tenants.session("acme", "op") as scope:
        scan = scans.create_scan(scope, "acme", "orders")
        assert scan["status"] == "queued"
        finding = {"check": "bola", "severity": "high", "endpoint": "GET /orders/{id}"}
        updated = scans.update_scan(scope, "acme", scan["scan_id"], "finished", [finding])
        assert updated["finished_at"] is not None
        assert scans.get_scan(scope, "acme", scan["scan_id"])["findings"] == [finding]
        assert [row["scan_id"] for row in scans.list_scans(scope, "acme", status="finished")] == [
            scan["scan_id"]]
        with pytest.raises(ValueError, match="invalid scan status"):
            scans.update_scan(scope, "acme", scan["scan_id"], "done")
        with pytest.raises(NotFound):
            scans.create_scan(scope, "acme", "missing")
        scans.delete_scan(scope, "acme", scan["scan_id"])
        assert scans.list_scans(scope, "acme") == []
    with tenants.session("globex", "op") as scope, pytest.raises(NotFound):
        scans.create_scan(scope, "acme", "orders")


def test_alert_rules(tenants: Store) -> None:
    rule = AlertRule(id="burst", tenant="acme", threshold=10, window_minutes=5, sink="pager")
    with tenants.session("acme", "op") as scope:
        assert alerts.put_alert_rule(scope, rule)
        assert not alerts.put_alert_rule(scope, rule.model_copy(update={"threshold": 20}))
        assert alerts.get_alert_rule(scope, "acme", "burst").threshold == 20
        assert [item.id for item in alerts.list_alert_rules(scope)] == ["burst"]
        with pytest.raises(NotFound):
            alerts.put_alert_rule(scope, rule.model_copy(update={"tenant": "globex"}))
    with tenants.session("globex", "op") as scope:
        assert alerts.list_alert_rules(scope) == []
        with pytest.raises(NotFound):
            alerts.delete_alert_rule(scope, "acme", "burst")
    with tenants.session("acme", "op") as scope:
        alerts.delete_alert_rule(scope, "acme", "burst")
        assert alerts.list_alert_rules(scope, "acme") == []


def test_delete_tenant_removes_everything(tenants: Store) -> None:
    with tenants.session(None, "admin") as scope:
        consumers.put_consumer(scope, "acme", ConsumerConfig(id="mobile"))
        consumers.create_api_key(scope, "acme", "mobile", "k1")
        blocks.add_block(scope, "acme", "192.0.2.7", "x")
        operators.create_operator(scope, "ann", Role.TENANT_ADMIN, "acme")
        alerts.put_alert_rule(scope, AlertRule(id="r", tenant="acme", threshold=1,
                                               window_minutes=1, sink="s"))
        scans.create_scan(scope, "acme", "orders")
        tenancy.delete_tenant(scope, "acme")
        assert tenancy.list_tenant_ids(scope) == ["globex"]
        assert operators.list_operators(scope) == []
        assert blocks.list_blocks(scope) == []
        assert alerts.list_alert_rules(scope) == []
