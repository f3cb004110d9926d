from __future__ import annotations

import base64
import json

import pytest

from stockade.gateway.pipeline import CONTINUE, Phase
from stockade.protection.bola import BolaStage, resource_of, returned_ids
from stockade.protection.config import BolaProtection, IdentitySettings
from stockade.protection.openapi.operations import CompiledDocument
from stockade.protection.state import MemoryState
from tests.protection.demo import OPENAPI_PATH
from tests.protection.exchanges import exchange, respond

DOCUMENT = CompiledDocument.load(str(OPENAPI_PATH), False)
IDENTITY = IdentitySettings(jwt_claim="sub", groups_claim="role")


def token(sub: str, role: str = "user") -> dict[str, str]:
    claims = base64.urlsafe_b64encode(json.dumps({"sub": sub, "role": role}).encode()).decode()
    return {"authorization": f"Bearer eyJhbGciOiJIUzI1NiJ9.{claims.rstrip('=')}.sig"}


def stage(**settings: object) -> BolaStage:
    return BolaStage(BolaProtection.model_validate(settings), IDENTITY, MemoryState(), "t",
                     "acme", "/", DOCUMENT)


@pytest.mark.parametrize(("template", "expected"), [
    ("/api/v2/orders/{orderId}", ("/api/v2/orders", "orderId")),
    ("/api/v2/orders", ("/api/v2/orders", None)),
    ("/api/v2/users/me", ("/api/v2/users", None)),
    ("/users/{userId}/orders/{orderId}", ("/users/{userId}/orders", "orderId")),
    ("/{id}", ("/", "id")),
])
def test_resource_of(template: str, expected: tuple[str, str | None]) -> None:
    assert resource_of(template) == expected


def test_returned_ids_from_objects_and_lists() -> None:
    assert returned_ids({"id": 7, "items": [{"id": 8}, {"id": "9"}]}, ["id"]) == ["7", "8", "9"]
    assert returned_ids([{"id": 1}, {"id": 1}, {"uuid": "x"}], ["id", "uuid"]) == ["1", "x"]
    assert returned_ids([{"id": True}, {"id": None}, "text"], ["id"]) == []


async def learn(bola: BolaStage, sub: str, path: str, body: object) -> None:
    request = respond(exchange("GET", path, headers=token(sub)), 200, body)
    assert bola.wants_response_body(request)
    assert await bola.check(request, Phase.RESPONSE_BODY) is CONTINUE


async def test_foreign_object_flagged() -> None:
    bola = stage()
    await learn(bola, "1", "/api/v2/orders", [{"id": 1}, {"id": 2}])
    await learn(bola, "2", "/api/v2/orders", [{"id": 3}])
    own = await bola.check(exchange("GET", "/api/v2/orders/1", headers=token("1")),
                           Phase.REQUEST_HEADERS)
    assert own is CONTINUE
    foreign = await bola.check(exchange("DELETE", "/api/v2/orders/1", headers=token("2")),
                               Phase.REQUEST_HEADERS)
    assert (foreign.status, foreign.reason) == (403, "bola")
    assert foreign.events[0].evidence == {"resource": "/api/v2/orders", "object_id": "1"}
    unknown = await bola.check(exchange("GET", "/api/v2/orders/99", headers=token("2")),
                               Phase.REQUEST_HEADERS)
    assert unknown is CONTINUE


async def test_created_and_self_objects_learned() -> None:
    bola = stage()
    created = respond(exchange("POST", "/api/v2/orders", headers=token("1")), 201, {"id": 6})
    await bola.check(created, Phase.RESPONSE_BODY)
    await learn(bola, "1", "/api/v2/users/me", {"id": 1, "username": "alice"})
    for path in ("/api/v2/orders/6", "/api/v2/users/1"):
        verdict = await bola.check(exchange("GET", path, headers=token("2")), Phase.REQUEST_HEADERS)
        assert verdict.reason == "bola", path


async def test_exempt_group_and_flagged_exchange_not_learned() -> None:
    bola = stage(exempt_groups=["admin"])
    await learn(bola, "1", "/api/v2/orders", [{"id": 1}])
    admin = await bola.check(exchange("GET", "/api/v2/orders/1", headers=token("4", "admin")),
                             Phase.REQUEST_HEADERS)
    assert admin is CONTINUE
    attacker = exchange("GET", "/api/v2/orders/1", headers=token("2"))
    assert (await bola.check(attacker, Phase.REQUEST_HEADERS)).reject
    respond(attacker, 200, {"id": 1})
    assert not bola.wants_response_body(attacker)
    again = await bola.check(exchange("GET", "/api/v2/orders/1", headers=token("2")),
                             Phase.REQUEST_HEADERS)
    assert again.reason == "bola"


async def test_distinct_id_enumeration() -> None:
    bola = stage(enumeration_distinct_ids=5, sequential_run=100)
    reasons = []
    for object_id in (10, 30, 50, 70, 90):
        verdict = await bola.check(exchange("GET", f"/api/v2/orders/{object_id}",
                                            headers=token("2")), Phase.REQUEST_HEADERS)
        reasons.append(verdict.reason)
    assert reasons == ["", "", "", "", "object-enumeration"]


async def test_sequential_id_enumeration_by_address() -> None:
    bola = stage(sequential_run=4)
    reasons = []
    for object_id in range(100, 105):
        verdict = await bola.check(exchange("GET", f"/api/v2/products/{object_id}"),
                                   Phase.REQUEST_HEADERS)
        reasons.append(verdict.reason)
    assert reasons == ["", "", "", "sequential-enumeration", "sequential-enumeration"]


async def test_repeat_of_unknown_id_checked_again() -> None:
    bola = stage()
    probe = await bola.check(exchange("GET", "/api/v2/orders/1", headers=token("2")),
                             Phase.REQUEST_HEADERS)
    assert probe is CONTINUE
    await learn(bola, "1", "/api/v2/orders", [{"id": 1}])
    again = await bola.check(exchange("GET", "/api/v2/orders/1", headers=token("2")),
                             Phase.REQUEST_HEADERS)
    assert again.reason == "bola"


async def test_reported_until_block_after() -> None:
    bola = stage(block_after=3)
    await learn(bola, "1", "/api/v2/orders", [{"id": 1}, {"id": 2}])
    verdicts = []
    for object_id in (1, 2, 1):
        request = exchange("GET", f"/api/v2/orders/{object_id}", headers=token("2"))
        verdict = await bola.check(request, Phase.REQUEST_HEADERS)
        verdicts.append((verdict.reason, [event.kind for event in request.events]))
    assert verdicts == [("", ["bola"]), ("", ["bola"]), ("bola", [])]
