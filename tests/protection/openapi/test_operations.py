from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from stockade.protection.inputs import MISSING
from stockade.protection.openapi.document import OpenApiError, load_document
from stockade.protection.openapi.operations import CompiledDocument
from stockade.protection.openapi.validation import RequestParts, check_body, check_parameters
from tests.protection.demo import OPENAPI_PATH

PET = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "id": {"type": "integer", "readOnly": True},
        "name": {"type": "string", "maxLength": 20, "pattern": "^[a-z]+$"},
        "tag": {"type": "string", "nullable": True},
        "secret": {"type": "string", "writeOnly": True},
        "weight": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
    },
}
LEGACY = {
    "openapi": "3.0.3",
    "info": {"title": "pets", "version": "1"},
    "servers": [{"url": "https://pets.example/v1"}],
    "paths": {
        "/pets": {
            "get": {
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 50}},
                    {"name": "ids", "in": "query", "explode": False,
                     "schema": {"type": "array", "items": {"type": "integer"}}},
                    {"name": "X-Trace", "in": "header", "required": True,
                     "schema": {"type": "string"}},
                    {"name": "session", "in": "cookie", "schema": {"type": "string",
                                                                     "minLength": 4}},
                ],
                "responses": {"200": {"description": "pets", "content": {"application/json": {
                    "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}}}}},
            },
            "post": {
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Pet"}}}},
                "responses": {"201": {"description": "created"}},
            },
        },
        "/pets/{petId}": {
            "parameters": [{"name": "petId", "in": "path", "required": True,
                            "schema": {"type": "integer"}}],
            "get": {"responses": {"200": {"description": "pet"}}},
        },
        "/pets/mine": {"get": {"responses": {"200": {"description": "mine"}}}},
        "/dogs": {"put": {"requestBody": {"content": {"application/json": {"schema": {
            "allOf": [{"$ref": "#/components/schemas/Pet"},
                      {"type": "object", "properties": {"breed": {"type": "string"}}}]}}}},
            "responses": {"200": {"description": "ok"}}}},
    },
    "components": {"schemas": {"Pet": PET}},
}


def compiled(tmp_path: Path, document: dict[str, Any], close: bool = False) -> CompiledDocument:
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(document))
    return CompiledDocument.load(str(path), close)


def parts(path: dict[str, str] | None = None, query: list[tuple[str, str]] | None = None,
          headers: dict[str, str] | None = None, cookies: dict[str, str] | None = None,
          body: Any = MISSING, media_type: str = "application/json") -> RequestParts:
    return RequestParts(path or {}, query or [], headers or {}, cookies or {}, media_type,
                        body is not MISSING, body, body is not MISSING)


def test_match_uses_base_path_and_prefers_literals(tmp_path: Path) -> None:
    document = compiled(tmp_path, LEGACY)
    mine = document.match("GET", "/v1/pets/mine")
    assert mine is not None and mine.operation is not None
    assert mine.operation.template == "/pets/mine"
    one = document.match("GET", "/v1/pets/7")
    assert one is not None and one.operation is not None
    assert one.params == {"petId": "7"}
    assert document.match("GET", "/pets/7") is None
    assert document.match("GET", "/v1/cats") is None
    wrong = document.match("DELETE", "/v1/pets")
    assert wrong is not None and wrong.operation is None
    assert wrong.allowed == ("GET", "POST")
    head = document.match("HEAD", "/v1/pets/mine")
    assert head is not None and head.operation is not None


def test_parameters_converted_and_checked(tmp_path: Path) -> None:
    operation = compiled(tmp_path, LEGACY).match("GET", "/v1/pets").operation  # type: ignore[union-attr]
    assert operation is not None
    good = parts(query=[("limit", "10"), ("ids", "1,2")], headers={"x-trace": "t"},
                 cookies={"session": "abcd"})
    assert check_parameters(operation, good) == []
    bad = parts(query=[("limit", "99"), ("ids", "1,x")], cookies={"session": "ab"})
    found = {(item.kind, item.where) for item in check_parameters(operation, bad)}
    assert found == {("parameter", "query:limit"), ("parameter", "query:ids"),
                     ("parameter", "header:X-Trace"), ("parameter", "cookie:session")}


def test_body_checks_readonly_and_legacy_keywords(tmp_path: Path) -> None:
    operation = compiled(tmp_path, LEGACY).match("POST", "/v1/pets").operation  # type: ignore[union-attr]
    assert operation is not None
    assert check_body(operation, parts(body={"name": "rex", "tag": None, "weight": 1})) == []
    readonly = check_body(operation, parts(body={"name": "rex", "id": 5}))
    assert [(item.kind, item.where) for item in readonly] == [("readonly-property", "body:/id")]
    invalid = check_body(operation, parts(body={"name": "REX", "weight": 0}))
    assert {item.where for item in invalid} == {"body:/name", "body:/weight"}
    assert check_body(operation, parts())[0].message == "the request body is required"
    media = check_body(operation, parts(body={"name": "rex"}, media_type="text/plain"))
    assert media[0].kind == "content-type"


def test_undeclared_properties_rejected_only_when_closed(tmp_path: Path) -> None:
    open_doc = compiled(tmp_path, LEGACY).match("POST", "/v1/pets").operation  # type: ignore[union-attr]
    assert open_doc is not None
    assert check_body(open_doc, parts(body={"name": "rex", "admin": True})) == []
    closed = compiled(tmp_path, LEGACY, close=True).match("POST", "/v1/pets").operation  # type: ignore[union-attr]
    assert closed is not None
    found = check_body(closed, parts(body={"name": "rex", "admin": True}))
    assert [(item.kind, item.where) for item in found] == [("mass-assignment", "body:/admin")]


def test_closing_keeps_allof_composition(tmp_path: Path) -> None:
    operation = compiled(tmp_path, LEGACY, close=True).match("PUT", "/v1/dogs").operation  # type: ignore[union-attr]
    assert operation is not None
    assert check_body(operation, parts(body={"name": "rex", "breed": "pug"})) == []
    extra = check_body(operation, parts(body={"name": "rex", "breed": "pug", "role": "x"}))
    assert [item.kind for item in extra] == ["mass-assignment"]


def test_demo_document_mass_assignment() -> None:
    document = CompiledDocument.load(str(OPENAPI_PATH), False)
    operation = document.match("PATCH", "/api/v2/users/me").operation  # type: ignore[union-attr]
    assert operation is not None
    found = check_body(operation, parts(body={"role": "admin", "is_admin": True, "balance": 1}))
    assert sorted(item.where for item in found) == ["body:/balance", "body:/is_admin", "body:/role"]
    assert check_body(operation, parts(body={"email": "a@example.com"})) == []


@pytest.mark.parametrize(("document", "message"), [
    ({"swagger": "2.0", "paths": {}}, "only 3.0.x and 3.1.x"),
    ({"openapi": "3.1.0"}, "no 'paths' mapping"),
    ({"openapi": "3.1.0", "paths": {"/a": {"$ref": "other.yaml#/paths/a"}}}, "only local"),
])
def test_unusable_documents_rejected(tmp_path: Path, document: dict[str, Any],
                                     message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(OpenApiError, match=message):
        load_document(str(path))


def test_missing_document_named(tmp_path: Path) -> None:
    with pytest.raises(OpenApiError, match=r"cannot read OpenAPI document .*absent\.yaml"):
        load_document(str(tmp_path / "absent.yaml"))


def test_dangling_reference_rejected(tmp_path: Path) -> None:
    document = {"openapi": "3.1.0", "paths": {"/a": {"get": {
        "parameters": [{"$ref": "#/components/parameters/Nope"}],
        "responses": {"200": {"description": "ok"}}}}}}
    with pytest.raises(OpenApiError, match="points at nothing"):
        compiled(tmp_path, document)
