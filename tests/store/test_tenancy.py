from __future__ import annotations

import pytest

from stockade.config.models import Policy, Route, Service, Tenant
from stockade.store import tenancy
from stockade.store.errors import Conflict, NotFound, OutOfScope
from stockade.store.history import list_changes
from stockade.store.scope import Store


def _service(service_id: str = "orders", host: str = "api.acme.test") -> Service:
    return Service.model_validate({
        "id": service_id,
        "hosts": [host],
        "upstream": {"targets": ["127.0.0.1:9000"]},
        "policy": {"mode": "detect"},
        "routes": [
            {"id": "get-order", "methods": ["GET"], "path": "/orders/{id}",
             "policy": {"modes": {"waf": "off"}}},
            {"id": "create-order", "methods": ["POST"], "path": "/orders"},
        ],
    })


def _add_tenant(store: Store, tenant_id: str = "acme") -> None:
    with store.session(None, "admin") as scope:
        tenancy.put_tenant(scope, Tenant(id=tenant_id, name="Acme Corp"))


def test_tenant_create_read_delete(store: Store) -> None:
    with store.session(None, "admin") as scope:
        created = tenancy.put_tenant(scope, Tenant.model_validate(
            {"id": "acme", "name": "Acme", "policy": {"mode": "detect"}}))
    assert created
    with store.session(None, "admin") as scope:
        tenant = tenancy.get_tenant(scope, "acme")
        assert tenant.name == "Acme"
        assert tenant.policy is not None
        assert tenant.policy.mode == "detect"
        assert tenant.policy.model_fields_set == {"mode"}
        assert tenancy.list_tenant_ids(scope) == ["acme"]
        tenancy.delete_tenant(scope, "acme")
    with store.session(None, "admin") as scope:
        assert tenancy.list_tenant_ids(scope) == []
        with pytest.raises(NotFound):
            tenancy.get_tenant(scope, "acme")


def test_tenant_update_keeps_services(store: Store) -> None:
    _add_tenant(store)
    with store.session("acme", "tenant-op") as scope:
        tenancy.put_service(scope, "acme", _service())
    with store.session(None, "admin") as scope:
        assert not tenancy.put_tenant(scope, Tenant(id="acme", name="Renamed"))
        tenant = tenancy.get_tenant(scope, "acme")
    assert tenant.name == "Renamed"
    assert [service.id for service in tenant.services] == ["orders"]


def test_service_round_trip(store: Store) -> None:
    _add_tenant(store)
    service = _service()
    with store.session("acme", "op") as scope:
        assert tenancy.put_service(scope, "acme", service)
    with store.session("acme", "op") as scope:
        stored = tenancy.get_service(scope, "acme", "orders")
    assert stored == service
    assert stored.model_dump(exclude_unset=True) == service.model_dump(exclude_unset=True)


def test_service_replace_drops_routes(store: Store) -> None:
    _add_tenant(store)
    with store.session("acme", "op") as scope:
        tenancy.put_service(scope, "acme", _service())
        smaller = _service().model_copy(update={"routes": [_service().routes[1]]})
        assert not tenancy.put_service(scope, "acme", smaller)
        assert tenancy.list_route_ids(scope, "acme", "orders") == ["create-order"]
        assert tenancy.get_policy(scope, "acme", "orders", "get-order") is None


def test_route_put_get_delete(store: Store) -> None:
    _add_tenant(store)
    with store.session("acme", "op") as scope:
        tenancy.put_service(scope, "acme", _service())
        route = Route.model_validate({"id": "list", "methods": ["GET"], "path": "/orders"})
        assert tenancy.put_route(scope, "acme", "orders", route)
        assert tenancy.get_route(scope, "acme", "orders", "list") == route
        assert tenancy.list_route_ids(scope, "acme", "orders") == [
            "get-order", "create-order", "list"]
        tenancy.delete_route(scope, "acme", "orders", "list")
        with pytest.raises(NotFound):
            tenancy.get_route(scope, "acme", "orders", "list")
        with pytest.raises(NotFound):
            tenancy.put_route(scope, "acme", "missing", route)


def test_policy_levels(store: Store) -> None:
    _add_tenant(store)
    with store.session("acme", "op") as scope:
        tenancy.put_service(scope, "acme", _service())
        tenancy.put_policy(scope, Policy(mode="off"), "acme")
        tenancy.put_policy(scope, Policy(mode="block"), "acme", "orders", "create-order")
        assert tenancy.get_policy(scope, "acme") == Policy(mode="off")
        assert tenancy.get_policy(scope, "acme", "orders", "create-order") == Policy(mode="block")
        tenancy.put_policy(scope, None, "acme", "orders", "create-order")
        assert tenancy.get_policy(scope, "acme", "orders", "create-order") is None
        with pytest.raises(NotFound):
            tenancy.put_policy(scope, Policy(mode="off"), "acme", "nope")


def test_delete_service_removes_children(store: Store) -> None:
    _add_tenant(store)
    with store.session("acme", "op") as scope:
        tenancy.put_service(scope, "acme", _service())
        tenancy.delete_service(scope, "acme", "orders")
        assert tenancy.list_service_ids(scope, "acme") == []
        assert tenancy.get_policy(scope, "acme", "orders") is None
        with pytest.raises(NotFound):
            tenancy.delete_service(scope, "acme", "orders")


def test_scope_hides_other_tenant(store: Store) -> None:
    _add_tenant(store, "acme")
    _add_tenant(store, "globex")
    with store.session("globex", "op") as scope:
        tenancy.put_service(scope, "globex", _service(host="api.globex.test"))
    with store.session("acme", "op") as scope:
        assert tenancy.list_tenant_ids(scope) == ["acme"]
        with pytest.raises(NotFound):
            tenancy.get_tenant(scope, "globex")
        with pytest.raises(NotFound):
            tenancy.get_service(scope, "globex", "orders")
        with pytest.raises(NotFound):
            tenancy.put_service(scope, "globex", _service())
        with pytest.raises(NotFound):
            tenancy.delete_service(scope, "globex", "orders")
        with pytest.raises(NotFound):
            tenancy.put_policy(scope, Policy(mode="off"), "globex")
        with pytest.raises(OutOfScope):
            tenancy.put_tenant(scope, Tenant(id="initech"))
        with pytest.raises(OutOfScope):
            tenancy.delete_tenant(scope, "globex")
    with store.session(None, "admin") as scope:
        assert tenancy.get_service(scope, "globex", "orders").hosts == ["api.globex.test"]


def test_duplicate_insert_conflicts(store: Store) -> None:
    _add_tenant(store)
    with pytest.raises(Conflict), store.session(None, "admin") as scope:
        scope.insert("tenant", "acme", tenancy.schema.tenants,
                     {"tenant_id": "acme", "name": None, "extra": {}, "created_at": 0.0})


def test_writes_recorded_in_history(store: Store) -> None:
    _add_tenant(store)
    before = store.config_version()
    with store.session("acme", "alice") as scope:
        tenancy.put_service(scope, "acme", _service())
        tenancy.delete_route(scope, "acme", "orders", "create-order")
    assert store.config_version() == before + 1
    with store.session("acme", "alice") as scope:
        changes = list_changes(scope, "acme")
    assert changes[0]["action"] == "delete"
    assert changes[0]["object_kind"] == "route"
    assert changes[0]["object_id"] == "acme/orders/create-order"
    assert changes[0]["operator"] == "alice"
    assert changes[0]["before"]["path"] == "/orders"
    assert changes[0]["after"] is None
    kinds = {(change["action"], change["object_kind"]) for change in changes}
    assert ("create", "service") in kinds
    assert ("create", "policy") in kinds
    with store.session(None, "admin") as scope:
        assert all(change["tenant_id"] == "acme" for change in list_changes(scope, "acme"))


def test_history_scoped_to_tenant(store: Store) -> None:
    _add_tenant(store, "acme")
    _add_tenant(store, "globex")
    with store.session("acme", "op") as scope:
        assert {change["tenant_id"] for change in list_changes(scope)} == {"acme"}
        with pytest.raises(NotFound):
            list_changes(scope, "globex")
        with pytest.raises(ValueError, match="page size"):
            list_changes(scope, limit=0)


def test_unchanged_write_not_audited(store: Store) -> None:
    _add_tenant(store)
    with store.session(None, "admin") as scope:
        count = len(list_changes(scope))
        tenancy.put_tenant(scope, Tenant(id="acme", name="Acme Corp"))
        assert len(list_changes(scope)) == count


def test_update_cannot_move_row_to_hidden_tenant(store: Store) -> None:
    _add_tenant(store, "acme")
    _add_tenant(store, "globex")
    with store.session("acme", "op") as scope:
        tenancy.put_service(scope, "acme", _service())
        table = tenancy.schema.services
        key = (table.c.tenant_id == "acme") & (table.c.service_id == "orders")
        with pytest.raises(NotFound):
            scope.update("service", "acme/orders", table, key, {"tenant_id": "globex"})


def test_failed_session_rolls_back_everything(store: Store) -> None:
    with pytest.raises(RuntimeError), store.session(None, "admin") as scope:
        tenancy.put_tenant(scope, Tenant(id="acme"))
        tenancy.put_service(scope, "acme", _service())
        raise RuntimeError("abort the unit of work")
    with store.session(None, "admin") as scope:
        assert tenancy.list_tenant_ids(scope) == []
        assert list_changes(scope) == []
    assert store.config_version() == 0


def test_conflict_inside_session_keeps_earlier_writes(store: Store) -> None:
    _add_tenant(store)
    with store.session(None, "admin") as scope:
        tenancy.put_tenant(scope, Tenant(id="globex"))
        with pytest.raises(Conflict):
            scope.insert("tenant", "acme", tenancy.schema.tenants,
                         {"tenant_id": "acme", "name": None, "extra": {}, "created_at": 0.0})
    with store.session(None, "admin") as scope:
        assert tenancy.list_tenant_ids(scope) == ["acme", "globex"]


def test_put_tenant_replaces_only_named_children(store: Store) -> None:
    from stockade.auth.consumers import ConsumerConfig
    from stockade.store import consumers

    _add_tenant(store)
    with store.session(None, "admin") as scope:
        tenancy.put_service(scope, "acme", _service())
        consumers.put_consumer(scope, "acme", ConsumerConfig(id="mobile"))
        tenancy.put_tenant(scope, Tenant(id="acme", services=[]),
                           replace=frozenset({"services"}))
        assert tenancy.list_service_ids(scope, "acme") == []
        assert consumers.list_consumer_ids(scope, "acme") == ["mobile"]
        with pytest.raises(ValueError, match="cannot replace"):
            tenancy.put_tenant(scope, Tenant(id="acme"), replace=frozenset({"routes"}))
