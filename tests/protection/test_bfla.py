from __future__ import annotations

from stockade.events.model import Action
from stockade.gateway.exchange import Consumer
from stockade.gateway.pipeline import CONTINUE, Phase
from stockade.protection.bfla import BflaStage
from stockade.protection.config import BflaProtection, IdentitySettings
from stockade.protection.openapi.operations import CompiledDocument
from stockade.protection.state import MemoryState
from tests.protection.demo import OPENAPI_PATH
from tests.protection.exchanges import exchange

DOCUMENT = CompiledDocument.load(str(OPENAPI_PATH), False)


def consumer(groups: set[str], scopes: set[str] | None = None) -> Consumer:
    return Consumer("app", "acme", frozenset(groups), frozenset(scopes or set()))


def stage(**settings: object) -> BflaStage:
    return BflaStage(BflaProtection.model_validate(settings), IdentitySettings(), MemoryState(),
                     "t", "acme", DOCUMENT)


async def test_document_role_required() -> None:
    bfla = stage()
    anonymous = await bfla.check(exchange("GET", "/api/v2/admin/stats"), Phase.REQUEST_HEADERS)
    assert (anonymous.status, anonymous.reason) == (401, "bfla-unauthenticated")
    user = await bfla.check(exchange("DELETE", "/api/v2/users/3", consumer=consumer({"user"})),
                            Phase.REQUEST_HEADERS)
    assert (user.status, user.reason) == (403, "bfla-missing-role")
    assert user.events[0].evidence["operation"] == "DELETE /api/v2/users/{userId}"
    admin = await bfla.check(exchange("DELETE", "/api/v2/users/3", consumer=consumer({"admin"})),
                             Phase.REQUEST_HEADERS)
    assert admin is CONTINUE
    plain = await bfla.check(exchange("GET", "/api/v2/users/3"), Phase.REQUEST_HEADERS)
    assert plain is CONTINUE


async def test_policy_rules_with_scopes() -> None:
    bfla = stage(rules=[{"methods": ["POST"], "path": "/billing/{account}/refunds",
                         "scopes": ["billing:write"]}], openapi_role_extension=None)
    missing = await bfla.check(exchange("POST", "/billing/42/refunds",
                                        consumer=consumer(set(), {"billing:read"})),
                               Phase.REQUEST_HEADERS)
    assert missing.reason == "bfla-missing-scope"
    granted = await bfla.check(exchange("POST", "/billing/42/refunds",
                                        consumer=consumer(set(), {"billing:write"})),
                               Phase.REQUEST_HEADERS)
    assert granted is CONTINUE
    other = await bfla.check(exchange("GET", "/billing/42/refunds"), Phase.REQUEST_HEADERS)
    assert other is CONTINUE
    assert await bfla.check(exchange("GET", "/api/v2/admin/stats"), Phase.REQUEST_HEADERS) \
        is CONTINUE


async def test_first_use_of_privileged_route_by_group_reported_once() -> None:
    bfla = stage()
    first = exchange("GET", "/api/v2/admin/users", consumer=consumer({"admin"}))
    await bfla.check(first, Phase.REQUEST_HEADERS)
    assert [(event.kind, event.action) for event in first.events] == \
        [("bfla-new-group", Action.OBSERVED)]
    assert first.events[0].evidence == {"group": "admin", "operation": "GET /api/v2/admin/users"}
    second = exchange("GET", "/api/v2/admin/users", consumer=consumer({"admin"}))
    await bfla.check(second, Phase.REQUEST_HEADERS)
    assert second.events == []
