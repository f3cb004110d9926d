"""Admin API behaviour over a real server: roles, audit, keys, events, reports, config."""

from __future__ import annotations

from typing import Any

import pytest

from stockade.auth.hashing import hash_api_key
from stockade.events.model import Action, SecurityEvent, Severity
from stockade.store.events import insert_events
from stockade.store.operators import Role

SERVICE = {"id": "orders", "hosts": ["api.acme.test"],
           "upstream": {"targets": ["127.0.0.1:9000"]}}


def _root(admin: Any) -> Any:
    return admin.client(admin.operator("root", Role.MSSP_ADMIN))


def _with_tenant(admin: Any) -> Any:
    root = _root(admin)
    assert root.put("/v1/tenants/acme", json={"id": "acme", "name": "Acme"}).status_code == 201
    return root


def test_token_required(admin: Any) -> None:
    assert admin.client().get("/v1/tenants").status_code == 401
    response = admin.client("stk_not-a-token").get("/v1/tenants")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert admin.client().get("/healthz").json() == {"status": "ok"}


def test_disabled_operator_rejected(admin: Any) -> None:
    root = _with_tenant(admin)
    token = admin.operator("ann", Role.TENANT_VIEWER, "acme")
    assert admin.client(token).get("/v1/tenants").status_code == 200
    assert root.delete("/v1/operators/ann").status_code == 204
    assert admin.client(token).get("/v1/tenants").status_code == 401


@pytest.mark.parametrize(("role", "expected"), [
    (Role.MSSP_ADMIN, {"service": 201, "block": 201, "tenant": 201, "operators": 200}),
    (Role.MSSP_ANALYST, {"service": 403, "block": 201, "tenant": 403, "operators": 403}),
    (Role.TENANT_ADMIN, {"service": 201, "block": 201, "tenant": 404, "operators": 403}),
    (Role.TENANT_VIEWER, {"service": 403, "block": 403, "tenant": 404, "operators": 403}),
])
def test_role_permissions(admin: Any, role: Role, expected: dict[str, int]) -> None:
    _with_tenant(admin)
    tenant = "acme" if role in (Role.TENANT_ADMIN, Role.TENANT_VIEWER) else None
    client = admin.client(admin.operator("op", role, tenant))
    got = {
        "service": client.put("/v1/tenants/acme/services/orders", json=SERVICE).status_code,
        "block": client.post("/v1/tenants/acme/blocks",
                             json={"client": "192.0.2.1", "reason": "x"}).status_code,
        "tenant": client.put("/v1/tenants/newco", json={"id": "newco"}).status_code,
        "operators": client.get("/v1/operators").status_code,
    }
    assert got == expected


def test_tenant_admin_updates_own_tenant(admin: Any) -> None:
    _with_tenant(admin)
    client = admin.client(admin.operator("op", Role.TENANT_ADMIN, "acme"))
    response = client.put("/v1/tenants/acme", json={"id": "acme", "name": "Acme 2"})
    assert response.status_code == 200
    assert response.json()["name"] == "Acme 2"
    assert client.delete("/v1/tenants/acme").status_code == 403


def test_every_write_audited(admin: Any) -> None:
    root = _with_tenant(admin)
    client = admin.client(admin.operator("alice", Role.TENANT_ADMIN, "acme"))
    client.put("/v1/tenants/acme/services/orders", json=SERVICE)
    client.put("/v1/tenants/acme/services/orders/policy", json={"mode": "detect"})
    block = client.post("/v1/tenants/acme/blocks", json={"client": "192.0.2.1", "reason": "x"})
    client.delete(f"/v1/tenants/acme/blocks/{block.json()['block_id']}")
    history = root.get("/v1/tenants/acme/history").json()
    mine = [(change["action"], change["object_kind"]) for change in history
            if change["operator"] == "alice"]
    assert mine == [("delete", "block"), ("create", "block"), ("create", "policy"),
                    ("create", "service")]
    everything = root.get("/v1/history").json()
    assert any(change["object_kind"] == "tenant" and change["operator"] == "root"
               for change in everything)


def test_body_id_must_match_path(admin: Any) -> None:
    root = _with_tenant(admin)
    response = root.put("/v1/tenants/acme/services/billing", json=SERVICE)
    assert response.status_code == 422
    assert "differs" in response.json()["detail"]


def test_invalid_body_names_field(admin: Any) -> None:
    root = _with_tenant(admin)
    bad = {**SERVICE, "upstream": {"targets": ["nohostport"]}}
    response = root.put("/v1/tenants/acme/services/orders", json=bad)
    assert response.status_code == 422
    assert "nohostport" in response.text


def test_api_key_shown_once(admin: Any) -> None:
    root = _with_tenant(admin)
    root.put("/v1/tenants/acme/consumers/mobile", json={"id": "mobile", "groups": ["apps"]})
    created = root.post("/v1/tenants/acme/consumers/mobile/api-keys", json={"id": "k1"}).json()
    key = created["key"]
    assert created["hash"] == hash_api_key(key)
    listed = root.get("/v1/tenants/acme/consumers/mobile/api-keys").json()
    assert key not in str(listed)
    assert key not in root.get("/v1/tenants/acme/history").text
    assert key not in root.get("/v1/config").text
    assert root.post("/v1/tenants/acme/consumers/mobile/api-keys/k1/revoke").status_code == 204
    consumer = root.get("/v1/tenants/acme/consumers/mobile").json()
    assert consumer["api_keys"][0]["revoked"] is True
    assert root.post("/v1/tenants/acme/consumers/mobile/api-keys",
                     json={"id": "k1"}).status_code == 409


def test_operator_token_rotation(admin: Any) -> None:
    root = _with_tenant(admin)
    created = root.post("/v1/operators", json={"id": "bob", "role": "tenant-viewer",
                                               "tenant_id": "acme"})
    assert created.status_code == 201
    token = created.json()["token"]
    assert admin.client(token).get("/v1/operators/me").json()["role"] == "tenant-viewer"
    rotated = root.post("/v1/operators/bob/token").json()["token"]
    assert admin.client(token).get("/v1/operators/me").status_code == 401
    assert admin.client(rotated).get("/v1/operators/me").json()["id"] == "bob"
    missing_tenant = root.post("/v1/operators", json={"id": "eve", "role": "tenant-admin"})
    assert missing_tenant.status_code == 422


def _events(admin: Any) -> list[SecurityEvent]:
    events = [
        SecurityEvent(tenant="acme", layer="waf", kind="sqli", severity=Severity.CRITICAL,
                      action=Action.BLOCKED, message="sqli", client_ip="192.0.2.1",
                      rule_ids=["942100"], time=1000.0 + n, method="GET", path="/orders",
                      service="orders")
        for n in range(5)
    ]
    events.append(SecurityEvent(tenant="acme", layer="auth", kind="bad-key",
                                severity=Severity.LOW, action=Action.DETECTED, message="key",
                                client_ip="192.0.2.2", consumer="mobile", time=1010.0))
    with admin.store.session(None, "gateway") as scope:
        insert_events(scope, events)
    return events


def test_events_filter_and_pages(admin: Any) -> None:
    root = _with_tenant(admin)
    _events(admin)
    client = admin.client(admin.operator("analyst", Role.MSSP_ANALYST))
    page = client.get("/v1/tenants/acme/events", params={"limit": 2}).json()
    assert len(page["events"]) == 2
    ids = [event["id"] for event in page["events"]]
    while page["next_cursor"]:
        page = client.get("/v1/tenants/acme/events",
                          params={"limit": 2, "cursor": page["next_cursor"]}).json()
        ids.extend(event["id"] for event in page["events"])
    assert len(set(ids)) == 6
    filtered = client.get("/v1/events", params={
        "tenant": "acme", "severity": "high", "rule": "942100", "client_ip": "192.0.2.1",
        "since": 1001, "until": 1004}).json()["events"]
    assert [event["time"] for event in filtered] == [1003.0, 1002.0, 1001.0]
    by_consumer = client.get("/v1/events", params={"consumer": "mobile"}).json()["events"]
    assert [event["kind"] for event in by_consumer] == ["bad-key"]
    assert client.get("/v1/events", params={"severity": "extreme"}).status_code == 422
    assert client.get("/v1/events", params={"cursor": "###"}).status_code == 422
    event_id = ids[0]
    assert client.put(f"/v1/tenants/acme/events/{event_id}/acknowledged",
                      json={"acknowledged": True}).status_code == 204
    assert root.get(f"/v1/tenants/acme/events/{event_id}").json()["acknowledged"] is True


def test_report_json_and_html(admin: Any) -> None:
    root = _with_tenant(admin)
    root.put("/v1/tenants/acme/services/orders", json=SERVICE)
    _events(admin)
    report = root.get("/v1/tenants/acme/report", params={"since": 0, "until": 2000}).json()
    assert report["events"] == 6
    assert report["blocked"] == 5
    assert report["detected"] == 1
    assert report["top_attacks"][0] == {"layer": "waf", "kind": "sqli", "events": 5,
                                        "blocked": 5, "max_severity": 4}
    assert report["top_sources"][0]["client_ip"] == "192.0.2.1"
    assert report["top_blocked_paths"][0]["path"] == "/orders"
    assert report["new_shadow_endpoints"] is None
    page = root.get("/v1/tenants/acme/report",
                    params={"since": 0, "until": 2000, "format": "html"})
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Security report: acme</h1>" in page.text
    assert "192.0.2.1" in page.text
    empty = root.get("/v1/tenants/acme/report", params={"since": 10, "until": 5})
    assert empty.status_code == 422


def test_config_export_import(admin: Any) -> None:
    root = _with_tenant(admin)
    root.put("/v1/tenants/acme/services/orders", json=SERVICE)
    exported = root.get("/v1/config").json()
    assert exported["tenants"][0]["services"][0]["id"] == "orders"
    exported["tenants"].append({"id": "globex"})
    imported = root.put("/v1/config", json=exported)
    assert imported.status_code == 200
    assert root.get("/v1/tenants").json() == ["acme", "globex"]
    analyst = admin.client(admin.operator("analyst", Role.MSSP_ANALYST))
    assert analyst.get("/v1/config").status_code == 200
    assert analyst.put("/v1/config", json=exported).status_code == 403


def test_openapi_documents_endpoints(admin: Any) -> None:
    schema = admin.client().get("/openapi.json").json()
    assert "/v1/tenants/{tenant_id}/events" in schema["paths"]
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


def test_tenant_put_keeps_unlisted_children(admin: Any) -> None:
    root = _with_tenant(admin)
    root.put("/v1/tenants/acme/services/orders", json=SERVICE)
    root.put("/v1/tenants/acme/consumers/mobile", json={"id": "mobile"})
    response = root.put("/v1/tenants/acme", json={"id": "acme", "services": []})
    assert response.status_code == 200
    assert root.get("/v1/tenants/acme/services").json() == []
    assert root.get("/v1/tenants/acme/consumers").json() == ["mobile"]
    root.put("/v1/tenants/acme", json={"id": "acme", "name": "Renamed"})
    assert root.get("/v1/tenants/acme/consumers").json() == ["mobile"]


def test_service_put_keeps_routes_unless_listed(admin: Any) -> None:
    root = _with_tenant(admin)
    with_routes = {**SERVICE, "routes": [{"id": "list", "methods": ["GET"], "path": "/orders"}]}
    root.put("/v1/tenants/acme/services/orders", json=with_routes)
    root.put("/v1/tenants/acme/services/orders", json={**SERVICE, "path_prefix": "/v2"})
    assert root.get("/v1/tenants/acme/services/orders/routes").json() == ["list"]
    root.put("/v1/tenants/acme/services/orders", json={**SERVICE, "routes": []})
    assert root.get("/v1/tenants/acme/services/orders/routes").json() == []


def test_consumer_put_keeps_keys_unless_listed(admin: Any) -> None:
    root = _with_tenant(admin)
    root.put("/v1/tenants/acme/consumers/mobile", json={"id": "mobile"})
    root.post("/v1/tenants/acme/consumers/mobile/api-keys", json={"id": "k1"})
    root.put("/v1/tenants/acme/consumers/mobile", json={"id": "mobile", "groups": ["apps"]})
    keys = root.get("/v1/tenants/acme/consumers/mobile/api-keys").json()
    assert [key["id"] for key in keys] == ["k1"]
    root.put("/v1/tenants/acme/consumers/mobile", json={"id": "mobile", "api_keys": []})
    assert root.get("/v1/tenants/acme/consumers/mobile/api-keys").json() == []


def test_route_block_round_trip(admin: Any) -> None:
    root = _with_tenant(admin)
    assert root.put("/v1/tenants/acme/services/orders", json=SERVICE).status_code == 201
    client = admin.client(admin.operator("ann", Role.MSSP_ANALYST))
    body = {"service_id": "orders", "method": "get", "path": "/orders/{id}/export",
            "reason": "exports every field", "ttl_seconds": 600}
    created = client.post("/v1/tenants/acme/route-blocks", json=body)
    assert created.status_code == 201
    block = created.json()
    assert (block["method"], block["origin"], block["created_by"]) == ("GET", "operator", "ann")
    listed = client.get("/v1/tenants/acme/route-blocks", params={"service_id": "orders"})
    assert [item["block_id"] for item in listed.json()] == [block["block_id"]]
    fetched = client.get(f"/v1/tenants/acme/route-blocks/{block['block_id']}")
    assert fetched.json()["path"] == "/orders/{id}/export"
    deleted = client.delete(f"/v1/tenants/acme/route-blocks/{block['block_id']}")
    assert deleted.status_code == 204
    assert client.get("/v1/tenants/acme/route-blocks").json() == []


@pytest.mark.parametrize(("change", "status", "message"), [
    ({"path": "/orders/../admin"}, 422, "dot segments"),
    ({"path": "orders"}, 422, "absolute path"),
    ({"method": "GE T"}, 422, "invalid method"),
    ({"service_id": "billing"}, 404, "billing"),
])
def test_route_block_invalid_input(admin: Any, change: dict[str, str], status: int,
                                   message: str) -> None:
    root = _with_tenant(admin)
    assert root.put("/v1/tenants/acme/services/orders", json=SERVICE).status_code == 201
    body = {"service_id": "orders", "method": "GET", "path": "/debug", "reason": "x", **change}
    response = root.post("/v1/tenants/acme/route-blocks", json=body)
    assert response.status_code == status
    assert message in response.text
    assert root.get("/v1/tenants/acme/route-blocks").json() == []


def test_viewer_cannot_add_route_block(admin: Any) -> None:
    root = _with_tenant(admin)
    assert root.put("/v1/tenants/acme/services/orders", json=SERVICE).status_code == 201
    client = admin.client(admin.operator("viv", Role.TENANT_VIEWER, "acme"))
    body = {"service_id": "orders", "method": "GET", "path": "/debug", "reason": "x"}
    assert client.post("/v1/tenants/acme/route-blocks", json=body).status_code == 403


def test_scan_request_masks_secrets(admin: Any) -> None:
    root = _with_tenant(admin)
    assert root.put("/v1/tenants/acme/services/orders", json=SERVICE).status_code == 201
    body = {"service_id": "orders", "openapi": "/openapi.json",
            "headers": {"Host": "api.acme.test", "Authorization": "Bearer abc"},
            "profiles": [{"name": "alice", "type": "bearer", "token": "secret-token"}]}
    created = root.post("/v1/tenants/acme/scans", json=body)
    assert created.status_code == 201, created.text
    scan = created.json()
    assert scan["status"] == "queued"
    assert scan["request"]["target"] == "http://127.0.0.1:9000"
    assert scan["request"]["openapi"] == "http://127.0.0.1:9000/openapi.json"
    assert scan["request"]["profiles"][0]["token"] == "***"
    assert scan["request"]["headers"] == {"Host": "api.acme.test", "Authorization": "***"}
    listed = root.get("/v1/tenants/acme/scans").text
    history = root.get("/v1/tenants/acme/history").text
    assert "secret-token" not in listed
    assert "secret-token" not in history
    assert "Bearer abc" not in history


@pytest.mark.parametrize(("change", "message"), [
    ({"target": "http://127.0.0.2:9000"}, "neither a host nor an upstream target"),
    ({"openapi": None}, "declares no OpenAPI document"),
    ({"checks": ["everything"]}, "unknown or no checks"),
    ({"profiles": [{"name": "x", "type": "bearer"}]}, "needs token"),
])
def test_scan_request_invalid(admin: Any, change: dict[str, Any], message: str) -> None:
    root = _with_tenant(admin)
    assert root.put("/v1/tenants/acme/services/orders", json=SERVICE).status_code == 201
    body = {"service_id": "orders", "openapi": "/openapi.json", **change}
    response = root.post("/v1/tenants/acme/scans", json=body)
    assert response.status_code == 422
    assert message in response.text
    assert root.get("/v1/tenants/acme/scans").json() == []


def test_block_of_consumer(admin: Any) -> None:
    root = _with_tenant(admin)
    created = root.post("/v1/tenants/acme/blocks", json={
        "kind": "consumer", "client": "mobile-app", "reason": "scraping", "ttl_seconds": 60})
    assert created.status_code == 201, created.text
    assert (created.json()["kind"], created.json()["client"]) == ("consumer", "mobile-app")
    listed = root.get("/v1/tenants/acme/blocks").json()
    assert [(block["kind"], block["client"]) for block in listed] == [("consumer", "mobile-app")]
    invalid = root.post("/v1/tenants/acme/blocks", json={
        "kind": "session", "client": "x", "reason": "x"})
    assert invalid.status_code == 422
    assert "kind" in invalid.text
    not_an_address = root.post("/v1/tenants/acme/blocks", json={"client": "mobile-app",
                                                                "reason": "x"})
    assert not_an_address.status_code == 422
    assert "invalid client address" in not_an_address.text
