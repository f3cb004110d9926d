from __future__ import annotations

import json
from pathlib import Path

import pytest

from stockade.events.model import Action, Severity
from stockade.protection.discovery.analysis import Observation, analyze
from stockade.protection.discovery.compare import (
    Finding,
    RetiredOperation,
    compare_endpoint,
    diff_inventory,
    find_orphans,
    retired_operations,
)
from stockade.protection.discovery.declared import (
    DeclaredApiError,
    load_declared,
    parse_declared,
    segments_match,
)
from stockade.protection.discovery.drift import undeclared_fields
from stockade.protection.discovery.inventory import ServiceInventory
from stockade.protection.discovery.schema import Shape
from tests.protection.discovery.openapi_fixture import declared_document, write_document

NOW = 1_700_000_000.0
DAY = 86_400.0


def inventory_of(*requests: tuple[str, str, int], **extra: object) -> ServiceInventory:
    inventory = ServiceInventory("acme", "shop")
    for index, (method, target, status) in enumerate(requests):
        observation = Observation("acme", "shop", method, target, status, NOW + index, **extra)  # type: ignore[arg-type]
        path, unit = analyze(observation)
        inventory.learn(path, unit)
    return inventory


def kinds(findings: list[Finding]) -> set[tuple[str, str, str, str]]:
    return {(item.kind, item.method, item.template, item.detail) for item in findings}


def test_declared_operations_with_base_path_and_refs() -> None:
    api = parse_declared(declared_document(), "doc")
    assert ("GET", "/api/v2/users/{id}") in api.keys()
    operation = api.match("GET", "/api/v2/users/{userId}")
    assert operation is not None
    assert operation.response_schema("200") is not None
    assert operation.response_schema("200")["properties"]["address"]["properties"] == {
        "city": {"type": "string"}
    }
    assert api.api_key_names == {"header": {"x-api-key"}}
    assert api.match("HEAD", "/api/v2/users/me") is not None  # HEAD is served by GET


def test_literal_declared_path_preferred() -> None:
    api = parse_declared(declared_document(), "doc")
    operation = api.match("GET", "/api/v2/users/me")
    assert operation is not None
    assert operation.path == "/api/v2/users/me"
    assert segments_match(["users", "{id}"], ["users", "{userId}"]) == 1
    assert segments_match(["users", "me"], ["users", "{userId}"]) == -1


def test_shadow_endpoint() -> None:
    api = parse_declared(declared_document(), "doc")
    inventory = inventory_of(("GET", "/api/v2/internal/debug", 200))
    findings = diff_inventory(api, inventory, now=NOW, orphan_after=30 * DAY)
    assert ("shadow", "GET", "/api/v2/internal/debug", "") in kinds(findings)


def test_undeclared_options_is_no_shadow() -> None:
    api = parse_declared(declared_document(), "doc")
    inventory = inventory_of(("OPTIONS", "/api/v2/users", 204))
    assert [item.kind for item in diff_inventory(api, inventory, now=NOW, orphan_after=DAY)] == []


def test_zombie_deprecated_older_version_and_retired() -> None:
    api = parse_declared(declared_document(), "doc")
    inventory = inventory_of(
        ("GET", "/api/v2/exports", 200),
        ("GET", "/api/v1/users/5", 200),
        ("GET", "/api/v2/legacy", 200),
    )
    retired = [RetiredOperation("GET", "/api/v2/legacy", "1.9.0")]
    found = kinds(diff_inventory(api, inventory, now=NOW, orphan_after=30 * DAY, retired=retired))
    assert ("zombie", "GET", "/api/v2/exports", "deprecated") in found
    assert ("zombie", "GET", "/api/v1/users/{userId}", "superseded by /api/v2/users/{id}") in found
    assert ("zombie", "GET", "/api/v2/legacy", "removed after version 1.9.0") in found
    assert not any(item[0] == "shadow" for item in found)


def test_retired_operations_between_versions() -> None:
    old = parse_declared(declared_document("1.0.0", with_legacy=True), "doc")
    new = parse_declared(declared_document("2.0.0"), "doc")
    retired = retired_operations(old.version, old.keys(), new)
    assert retired == [RetiredOperation("GET", "/api/v2/legacy", "1.0.0")]
    assert retired_operations(new.version, new.keys(), new, retired) == retired
    again = parse_declared(declared_document("3.0.0", with_legacy=True), "doc")
    assert retired_operations(new.version, new.keys(), again, retired) == []


def test_orphans_after_configured_time() -> None:
    api = parse_declared(declared_document(), "doc")
    inventory = inventory_of(("GET", "/api/v2/users", 200), ("GET", "/api/v2/users/7", 200))
    early = find_orphans(api, inventory, NOW + DAY, 7 * DAY, NOW)
    assert early == []
    late = kinds(find_orphans(api, inventory, NOW + 8 * DAY, 7 * DAY, NOW))
    assert ("orphan", "GET", "/api/v2/audit", "") in late
    assert ("orphan", "POST", "/api/v2/users", "") in late
    assert ("orphan", "GET", "/api/v2/users", "") in late  # last seen 8 days before
    recent = inventory_of(("GET", "/api/v2/users", 200))
    recent.endpoints[("GET", "/api/v2/users")].last_seen = NOW + 7.5 * DAY
    assert ("orphan", "GET", "/api/v2/users", "") not in kinds(
        find_orphans(api, recent, NOW + 8 * DAY, 7 * DAY, NOW)
    )


def test_drift_parameters_statuses_and_types() -> None:
    api = parse_declared(declared_document(), "doc")
    fields = [(b"X-Debug", b"1"), (b"X-API-Key", b"k-12345678"), (b"Content-Type", b"text/plain")]
    inventory = inventory_of(
        ("GET", "/api/v2/users?page=1&verbose=true", 200),
        ("GET", "/api/v2/users/3", 500),
        request_fields=fields,
        response_fields=[(b"Content-Type", b"text/html")],
    )
    found = kinds(diff_inventory(api, inventory, now=NOW, orphan_after=30 * DAY))
    assert ("drift", "GET", "/api/v2/users", "query parameter 'verbose'") in found
    assert ("drift", "GET", "/api/v2/users", "header parameter 'x-debug'") in found
    assert ("drift", "GET", "/api/v2/users/{userId}", "status code 500") in found
    assert ("drift", "GET", "/api/v2/users", "request content type 'text/plain'") in found
    assert ("drift", "GET", "/api/v2/users", "response content type 'text/html'") in found
    assert not any("page" in item[3] for item in found)


def test_drift_body_fields() -> None:
    api = parse_declared(declared_document(), "doc")
    request = json.dumps({"name": "a", "isAdmin": True}).encode()
    response = json.dumps(
        {"id": 1, "name": "a", "address": {"city": "x", "zip": "1"}, "passwordHash": "x"}
    ).encode()
    inventory = ServiceInventory("acme", "shop")
    for method, target, status, body, answer in (
        ("POST", "/api/v2/users", 201, request, None),
        ("GET", "/api/v2/users/9", 200, None, response),
    ):
        observation = Observation(
            "acme",
            "shop",
            method,
            target,
            status,
            NOW,
            request_fields=[(b"Content-Type", b"application/json")],
            response_fields=[(b"Content-Type", b"application/json")],
            request_body=body,
            response_body=answer,
        )
        path, unit = analyze(observation)
        inventory.learn(path, unit)
    found = kinds(diff_inventory(api, inventory, now=NOW, orphan_after=30 * DAY))
    assert ("drift", "POST", "/api/v2/users", "request field 'isAdmin'") in found
    assert (
        "drift",
        "GET",
        "/api/v2/users/{userId}",
        "response field 'address.zip' (status 200)",
    ) in found
    assert (
        "drift",
        "GET",
        "/api/v2/users/{userId}",
        "response field 'passwordHash' (status 200)",
    ) in found


def test_undeclared_fields_respects_open_schemas() -> None:
    shape = Shape()
    shape.observe({"a": 1, "b": {"c": 1}})
    assert undeclared_fields(shape, {"type": "object"}) == []
    assert undeclared_fields(shape, {"properties": {"a": {}}, "additionalProperties": True}) == []
    assert (
        undeclared_fields(shape, {"allOf": [{"properties": {"a": {}}}, {"properties": {"b": {}}}]})
        == []
    )
    assert undeclared_fields(shape, {"properties": {"a": {}}}) == ["b"]


def test_finding_event_and_round_trip() -> None:
    api = parse_declared(declared_document(), "doc")
    endpoint = inventory_of(("GET", "/api/v2/secret", 200)).endpoints[("GET", "/api/v2/secret")]
    (finding,) = compare_endpoint(api, endpoint)
    event = finding.to_event("acme", "shop")
    assert (event.tenant, event.service, event.layer, event.kind) == (
        "acme",
        "shop",
        "discovery",
        "api-shadow",
    )
    assert event.action is Action.OBSERVED
    assert event.severity is Severity.MEDIUM
    assert event.path == "/api/v2/secret"
    assert event.evidence["hits"] == 1
    assert Finding.from_dict(json.loads(json.dumps(finding.to_dict()))) == finding


def test_declared_errors_name_file(tmp_path: Path) -> None:
    with pytest.raises(DeclaredApiError, match="cannot read"):
        load_declared(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: [")
    with pytest.raises(DeclaredApiError, match="invalid YAML"):
        load_declared(bad)
    swagger = write_document(tmp_path, {"swagger": "2.0", "paths": {}}, "swagger.yaml")
    with pytest.raises(DeclaredApiError, match=r"not an OpenAPI 3\.0 or 3\.1 document"):
        load_declared(swagger)
    outside = declared_document()
    outside["paths"]["/v2/audit"]["get"]["responses"]["200"] = {"$ref": "other.yaml#/x"}
    with pytest.raises(DeclaredApiError, match="outside the document"):
        load_declared(write_document(tmp_path, outside, "outside.yaml"))


def test_cyclic_schema_refs_terminate(tmp_path: Path) -> None:
    document = declared_document()
    document["components"]["schemas"]["Node"] = {
        "type": "object",
        "properties": {"child": {"$ref": "#/components/schemas/Node"}},
    }
    document["paths"]["/v2/audit"]["get"]["responses"]["200"]["content"] = {
        "application/json": {"schema": {"$ref": "#/components/schemas/Node"}}
    }
    api = load_declared(write_document(tmp_path, document))
    assert api.match("GET", "/api/v2/audit") is not None
