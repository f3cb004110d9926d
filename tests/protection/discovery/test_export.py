from __future__ import annotations

import json

from openapi_spec_validator import validate

from stockade.protection.discovery.analysis import Observation, analyze
from stockade.protection.discovery.export import export_openapi
from stockade.protection.discovery.inventory import ServiceInventory
from tests.protection.discovery.traffic import generate

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"


def rich_inventory() -> ServiceInventory:
    inventory = ServiceInventory("acme", "shop")
    for index, (method, path, _) in enumerate(generate(800)):
        fields = (
            [(b"Authorization", f"Bearer {JWT}".encode())] if index % 2 else [(b"Accept", b"*/*")]
        )
        body = json.dumps({"id": index, "email": "a@b.io", "status": ["new", "paid"][index % 2]})
        observation = Observation(
            "acme",
            "shop",
            method,
            f"{path}?page={index % 5}",
            200 if index % 7 else 401,
            1_700_000_000.0 + index,
            request_fields=fields,
            response_fields=[(b"Content-Type", b"application/json")],
            response_body=body.encode(),
        )
        request_path, unit = analyze(observation)
        inventory.learn(request_path, unit)
    return inventory


def test_export_is_valid_openapi_31() -> None:
    document = export_openapi(rich_inventory())
    validate(document)
    assert document["openapi"] == "3.1.0"
    operation = document["paths"]["/api/v1/users/{userId}"]["get"]
    assert {
        "name": "userId",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    } in operation["parameters"]
    page = next(item for item in operation["parameters"] if item["name"] == "page")
    assert page["in"] == "query"
    assert page["required"] is True
    assert page["schema"] == {"type": "integer"}
    assert operation["x-stockade-hits"] >= 1
    assert operation["x-stockade-sensitive"]["response"] == ["email"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["properties"]["email"]["format"] == "email"
    assert document["components"]["securitySchemes"]["bearer-jwt"]["bearerFormat"] == "JWT"


def test_export_of_empty_inventory_is_valid() -> None:
    validate(export_openapi(ServiceInventory("acme", "empty")))


def test_export_leaves_out_unknown_methods() -> None:
    inventory = ServiceInventory("acme", "dav")
    for method in ("PROPFIND", "GET"):
        path, unit = analyze(Observation("acme", "dav", method, "/files/a", 207, 1.0))
        inventory.learn(path, unit)
    document = export_openapi(inventory)
    validate(document)
    assert list(document["paths"]["/files/a"]) == ["get"]
