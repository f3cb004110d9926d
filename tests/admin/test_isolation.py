"""A tenant operator of tenant A gets 404 for every object of tenant B, on every endpoint."""

from __future__ import annotations

import re
from typing import Any

import pytest

from stockade.admin.app import create_admin_app
from stockade.store.operators import Role

SERVICE = {"id": "orders", "hosts": ["api.{tenant}.test"],
           "upstream": {"targets": ["127.0.0.1:9000"]},
           "routes": [{"id": "get-order", "methods": ["GET"], "path": "/orders/{{id}}"}]}


def _seed(client: Any, tenant: str) -> dict[str, str]:
    """Create one object of every kind for ``tenant``; return the path parameters."""
    assert client.put(f"/v1/tenants/{tenant}", json={"id": tenant}).status_code == 201
    service = {**SERVICE, "hosts": [f"api.{tenant}.test"],
               "routes": [{"id": "get-order", "methods": ["GET"], "path": "/orders/{id}"}]}
    assert client.put(f"/v1/tenants/{tenant}/services/orders", json=service).status_code == 201
    assert client.put(f"/v1/tenants/{tenant}/policy", json={"mode": "detect"}).status_code == 200
    assert client.put(f"/v1/tenants/{tenant}/consumers/mobile",
                      json={"id": "mobile"}).status_code == 201
    created = client.post(f"/v1/tenants/{tenant}/consumers/mobile/api-keys", json={"id": "k1"})
    assert created.status_code == 201
    block = client.post(f"/v1/tenants/{tenant}/blocks",
                        json={"client": "192.0.2.1", "reason": "test"}).json()
    route_block = client.post(f"/v1/tenants/{tenant}/route-blocks", json={
        "service_id": "orders", "method": "GET", "path": "/debug", "reason": "test"}).json()
    scan = client.post(f"/v1/tenants/{tenant}/scans",
                       json={"service_id": "orders", "openapi": "/openapi.json"}).json()
    rule = {"id": "burst", "tenant": tenant, "threshold": 5, "window_minutes": 5, "sink": "s"}
    assert client.put(f"/v1/tenants/{tenant}/alert-rules/burst", json=rule).status_code == 201
    return {"tenant_id": tenant, "service_id": "orders", "route_id": "get-order",
            "consumer_id": "mobile", "key_id": "k1", "block_id": block["block_id"],
            "route_block_id": route_block["block_id"],
            "scan_id": scan["scan_id"], "rule_id": "burst", "event_id": "e-" + tenant}


def _insert_event(admin: Any, tenant: str) -> None:
    from stockade.events.model import Action, SecurityEvent, Severity
    from stockade.store.events import insert_events

    with admin.store.session(None, "gateway") as scope:
        insert_events(scope, [SecurityEvent(tenant=tenant, layer="waf", kind="sqli",
                                            severity=Severity.HIGH, action=Action.BLOCKED,
                                            message="m", id="e-" + tenant)])


def _tenant_routes() -> list[tuple[str, str]]:
    app = create_admin_app(store=None, inventory_database=None)  # type: ignore[arg-type]
    found = []
    for path, operations in app.openapi()["paths"].items():
        if "{tenant_id}" in path:
            found.extend((method.upper(), path) for method in sorted(operations))
    return found


def _body_for(method: str, path: str, params: dict[str, str]) -> Any:
    if method not in ("PUT", "POST"):
        return None
    bodies: dict[str, Any] = {
        "/v1/tenants/{tenant_id}": {"id": params["tenant_id"]},
        "/v1/tenants/{tenant_id}/services/{service_id}": {**SERVICE, "hosts": ["x.test"],
                                                          "routes": []},
        "/v1/tenants/{tenant_id}/blocks": {"client": "192.0.2.9", "reason": "x"},
        "/v1/tenants/{tenant_id}/route-blocks": {"service_id": "orders", "method": "GET",
                                                 "path": "/x", "reason": "x"},
        "/v1/tenants/{tenant_id}/scans": {"service_id": "orders", "openapi": "/openapi.json"},
        "/v1/tenants/{tenant_id}/consumers/{consumer_id}": {"id": "mobile"},
        "/v1/tenants/{tenant_id}/consumers/{consumer_id}/api-keys": {"id": "k9"},
        "/v1/tenants/{tenant_id}/events/{event_id}/acknowledged": {"acknowledged": True},
    }
    return bodies.get(path, {"mode": "off"})


def test_every_tenant_route_is_covered() -> None:
    paths = {path for _, path in _tenant_routes()}
    assert len(paths) >= 20
    for path in paths:
        assert set(re.findall(r"{(\w+)}", path)) <= {
            "tenant_id", "service_id", "route_id", "consumer_id", "key_id", "block_id",
            "route_block_id", "scan_id", "rule_id", "event_id"}, path


@pytest.mark.parametrize("role", [Role.TENANT_ADMIN, Role.TENANT_VIEWER])
def test_other_tenant_objects_are_404(admin: Any, role: Role) -> None:
    root = admin.client(admin.operator("root", Role.MSSP_ADMIN))
    own = _seed(root, "acme")
    other = _seed(root, "globex")
    _insert_event(admin, "acme")
    _insert_event(admin, "globex")
    client = admin.client(admin.operator("acme-op", role, "acme"))

    # Control: the same reads of the operator's own tenant succeed.
    for method, path in _tenant_routes():
        if method == "GET" and not path.endswith("/inventory"):  # needs discovery configured
            response = client.get(path.format(**own))
            assert response.status_code == 200, (path, response.status_code, response.text)

    for method, path in _tenant_routes():
        url = path.format(**other)
        response = client.request(method, url, json=_body_for(method, path, other))
        assert response.status_code == 404, (method, url, response.status_code, response.text)

    root.post("/v1/operators", json={"id": "globex-op", "role": "tenant-viewer",
                                     "tenant_id": "globex"})
    assert client.post("/v1/operators/globex-op/token").status_code == 404
    assert client.delete("/v1/operators/globex-op").status_code == 404
    assert client.delete("/v1/operators/root").status_code == 404

    assert client.get("/v1/tenants").json() == ["acme"]
    assert client.get("/v1/events", params={"tenant": "globex"}).status_code == 404
    listed = client.get("/v1/events").json()["events"]
    assert {event["tenant"] for event in listed} == {"acme"}
    history = client.get("/v1/tenants/acme/history").json()
    assert {change["tenant_id"] for change in history} == {"acme"}

    # The objects of the other tenant are untouched.
    check = root.get(f"/v1/tenants/globex/blocks/{other['block_id']}")
    assert check.status_code == 200
    assert root.get("/v1/tenants/globex/services/orders/routes").json() == ["get-order"]
    assert root.get("/v1/tenants/globex/consumers/mobile/api-keys").json()[0]["id"] == "k1"


def test_missing_tenant_matches_hidden_tenant(admin: Any) -> None:
    root = admin.client(admin.operator("root", Role.MSSP_ADMIN))
    _seed(root, "acme")
    _seed(root, "globex")
    client = admin.client(admin.operator("acme-op", Role.TENANT_ADMIN, "acme"))
    hidden = client.get("/v1/tenants/globex/services")
    missing = client.get("/v1/tenants/nosuch/services")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"].replace("globex", "X") == missing.json()["detail"].replace(
        "nosuch", "X")
