from __future__ import annotations

import json

from stockade.events.model import Action
from stockade.gateway.pipeline import CONTINUE, Phase
from stockade.protection.config import OpenApiProtection
from stockade.protection.openapi.exposure import find_exposures, sensitive_name
from stockade.protection.openapi.operations import CompiledDocument
from stockade.protection.openapi.stage import OpenApiStage
from tests.protection.demo import OPENAPI_PATH
from tests.protection.exchanges import exchange, respond

DOCUMENT = CompiledDocument.load(str(OPENAPI_PATH), False)
DEMO_USER = {
    "id": 1, "username": "alice", "email": "alice@example.com", "full_name": "Alice",
    "role": "user", "balance": 10.5, "card_last4": "1111", "created_at": "2026-01-01T00:00:00Z",
    "password_hash": "pbkdf2_sha256$20000$salt$hash", "ssn": "900-12-3456",
    "card_number": "4111111111111111", "internal_notes": "vip", "is_admin": False,
}


def stage(block: bool = True, **settings: object) -> OpenApiStage:
    return OpenApiStage(OpenApiProtection.model_validate(settings), DOCUMENT, block)


def test_unknown_path_and_method() -> None:
    unknown = stage().check(exchange("GET", "/api/v2/debug/config"), Phase.REQUEST_HEADERS)
    assert (unknown.status, unknown.reason) == (404, "openapi-unknown-path")
    method = stage().check(exchange("DELETE", "/api/v2/products"), Phase.REQUEST_HEADERS)
    assert (method.status, method.reason) == (405, "openapi-unknown-method")
    assert method.fields == ((b"Allow", b"GET"),)
    allowed = stage(unknown_operation="allow")
    assert allowed.check(exchange("GET", "/actuator/env"), Phase.REQUEST_HEADERS) is CONTINUE


def test_invalid_path_parameter() -> None:
    verdict = stage().check(exchange("GET", "/api/v2/orders/abc"), Phase.REQUEST_HEADERS)
    assert (verdict.status, verdict.reason) == (400, "openapi-parameter-invalid")
    evidence = verdict.events[0].evidence["violations"]
    assert evidence == [{"kind": "parameter", "where": "path:orderId",
                         "message": 'value is not of type "integer"'}]
    fine = stage().check(exchange("GET", "/api/v2/orders/3"), Phase.REQUEST_HEADERS)
    assert fine is CONTINUE


def test_mass_assignment_rejected() -> None:
    request = exchange("PATCH", "/api/v2/users/me", json_body={"role": "admin", "email": "a@b.c"})
    openapi = stage()
    assert openapi.wants_request_body(request)
    verdict = openapi.check(request, Phase.REQUEST_BODY)
    assert (verdict.status, verdict.reason) == (400, "mass-assignment")
    assert "body:/role" in verdict.message


def test_body_not_json_rejected() -> None:
    request = exchange("POST", "/api/v2/orders", body=b"{oops",
                       headers={"content-type": "application/json"})
    verdict = stage().check(request, Phase.REQUEST_BODY)
    assert verdict.reason == "openapi-body-invalid"


def test_exposure_stripped_in_block_mode() -> None:
    response = respond(exchange("GET", "/api/v2/users/me"), 200, DEMO_USER)
    openapi = stage()
    assert openapi.wants_response_body(response)
    assert openapi.check(response, Phase.RESPONSE_BODY) is CONTINUE
    body = json.loads(response.response_body or b"")
    assert set(body) == {"id", "username", "email", "full_name", "role", "balance", "card_last4",
                         "created_at"}
    assert response.events[0].kind == "excessive-data-exposure"
    assert response.events[0].action is Action.BLOCKED
    assert response.events[0].evidence["response"] == "stripped"
    assert "removed before forwarding" in response.events[0].message
    pointers = {item["pointer"] for item in response.events[0].evidence["properties"]}
    assert pointers == {"/password_hash", "/ssn", "/card_number", "/internal_notes", "/is_admin"}


def test_exposure_reported_in_detect_mode() -> None:
    response = respond(exchange("GET", "/api/v2/users/2"), 200, DEMO_USER)
    verdict = stage(block=False).check(response, Phase.RESPONSE_BODY)
    assert verdict.reject
    assert verdict.reason == "excessive-data-exposure"
    assert json.loads(response.response_body or b"") == DEMO_USER


def test_exposure_in_lists_and_reject_policy() -> None:
    response = respond(exchange("GET", "/api/v2/admin/users"), 200, [DEMO_USER, DEMO_USER])
    verdict = stage(response_exposure="reject").check(response, Phase.RESPONSE_BODY)
    assert (verdict.status, verdict.reason) == (502, "excessive-data-exposure")


def test_declared_response_untouched() -> None:
    order = {"id": 1, "user_id": 1, "product_id": 2, "product_name": "Red widget", "quantity": 1,
             "total": 5.0, "status": "new", "shipping_address": "x", "created_at": "now"}
    response = respond(exchange("GET", "/api/v2/orders/1"), 200, order)
    assert stage().check(response, Phase.RESPONSE_BODY) is CONTINUE
    assert response.events == []


def test_open_schema_flags_only_sensitive_extras() -> None:
    validator = DOCUMENT.match("POST", "/api/v2/login").operation.response_validator(  # type: ignore[union-attr]
        200, "application/json")
    assert validator is not None
    found = find_exposures(validator, {"ok": True, "token": "t", "debug": "x",
                                       "password_hash": "h"}, frozenset())
    assert [(item.name, item.declared_closed) for item in found] == [("password_hash", False)]


def test_sensitive_names() -> None:
    assert sensitive_name("password_hash", frozenset())
    assert sensitive_name("SSN", frozenset())
    assert not sensitive_name("shipping_address", frozenset())
    assert sensitive_name("loyalty_id", frozenset({"loyaltyid"}))
