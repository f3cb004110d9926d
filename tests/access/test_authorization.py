from __future__ import annotations

import pytest
from pydantic import ValidationError

from stockade.access.authorization import claim_holds
from stockade.access.config import ClaimCondition
from stockade.auth.hashing import hash_api_key, new_api_key
from tests.auth.support import Gate, field, gateway_config
from tests.auth.tokens import ISSUER, public_jwk, rsa_key, sign

PARTNER_KEY = new_api_key()
INTERN_KEY = new_api_key()
SIGNING_KEY = rsa_key()
CONSUMERS = [
    {
        "id": "partner",
        "groups": ["partners"],
        "api_keys": [{"id": "p", "hash": hash_api_key(PARTNER_KEY)}],
    },
    {
        "id": "intern",
        "groups": ["staff", "interns"],
        "api_keys": [{"id": "i", "hash": hash_api_key(INTERN_KEY)}],
    },
]
JWT = {
    "issuers": [
        {
            "issuer": ISSUER,
            "algorithms": ["RS256"],
            "audiences": ["orders-api"],
            "keys": [{"jwk": public_jwk(SIGNING_KEY, "k1")}],
        }
    ]
}


def gate(access: dict[str, object]) -> Gate:
    policy = {"auth": {"api_key": {}, "jwt": JWT}, "access": access}
    return Gate(gateway_config(policy, consumers=CONSUMERS))


async def test_group_allow_list() -> None:
    g = gate({"groups_allow": ["partners"]})
    assert not (await g.request(headers=[("X-API-Key", PARTNER_KEY)]))[0].reject
    verdict, _ = await g.request(headers=[("X-API-Key", INTERN_KEY)])
    assert verdict.status == 403
    assert verdict.reason == "group-not-allowed"


async def test_group_deny_wins() -> None:
    g = gate({"groups_allow": ["staff"], "groups_deny": ["interns"]})
    verdict, exchange = await g.request(headers=[("X-API-Key", INTERN_KEY)])
    assert verdict.status == 403
    assert verdict.reason == "group-denied"
    assert exchange.events[0].evidence == {"groups": ["interns"]}


async def test_consumer_lists() -> None:
    g = gate({"consumers_deny": ["partner"]})
    assert (await g.request(headers=[("X-API-Key", PARTNER_KEY)]))[0].reason == "consumer-denied"
    g = gate({"consumers_allow": ["partner"]})
    assert (await g.request(headers=[("X-API-Key", INTERN_KEY)]))[
        0
    ].reason == "consumer-not-allowed"


async def test_route_rules_by_route() -> None:
    routes = [{"id": "admin", "path": "/admin", "policy": {"access": {"groups_allow": ["staff"]}}}]
    policy = {"auth": {"api_key": {}}}
    g = Gate(gateway_config(policy, consumers=CONSUMERS, routes=routes))
    assert not (await g.request("/orders", headers=[("X-API-Key", PARTNER_KEY)]))[0].reject
    assert (await g.request("/admin", headers=[("X-API-Key", PARTNER_KEY)]))[0].status == 403
    assert not (await g.request("/admin", headers=[("X-API-Key", INTERN_KEY)]))[0].reject


async def test_required_scopes_with_rfc6750_challenge() -> None:
    g = gate({"scopes": ["orders:read", "orders:admin"]})
    token = sign(SIGNING_KEY, "RS256", "k1", scope="orders:read")
    verdict, _ = await g.request(headers=[("Authorization", f"Bearer {token}")])
    assert verdict.status == 403
    assert verdict.reason == "insufficient-scope"
    assert field(verdict, "WWW-Authenticate") == [
        'Bearer realm="stockade", error="insufficient_scope", scope="orders:admin orders:read"'
    ]
    full = sign(SIGNING_KEY, "RS256", "k1", scope="orders:read orders:admin")
    assert not (await g.request(headers=[("Authorization", f"Bearer {full}")]))[0].reject


async def test_claim_conditions() -> None:
    g = gate(
        {
            "claims": [
                {"claim": "org.tier", "one_of": ["gold", "platinum"]},
                {"claim": "roles", "contains": "buyer"},
            ]
        }
    )
    good = sign(SIGNING_KEY, "RS256", "k1", org={"tier": "gold"}, roles=["buyer", "viewer"])
    assert not (await g.request(headers=[("Authorization", f"Bearer {good}")]))[0].reject
    bronze = sign(SIGNING_KEY, "RS256", "k1", org={"tier": "bronze"}, roles=["buyer"])
    verdict, exchange = await g.request(headers=[("Authorization", f"Bearer {bronze}")])
    assert verdict.status == 403
    assert verdict.reason == "claim-condition-failed"
    assert exchange.events[0].evidence == {"claim": "org.tier"}


async def test_anonymous_denied_when_rules_exist() -> None:
    policy = {"auth": {"required": False, "api_key": {}}, "access": {"groups_allow": ["partners"]}}
    g = Gate(gateway_config(policy, consumers=CONSUMERS))
    verdict, _ = await g.request()
    assert verdict.status == 403
    assert verdict.reason == "consumer-anonymous"


def test_claim_values_compare_with_type() -> None:
    assert claim_holds({"admin": True}, ClaimCondition(claim="admin", equals=True))
    assert not claim_holds({"admin": 1}, ClaimCondition(claim="admin", equals=True))
    assert not claim_holds({"level": "1"}, ClaimCondition(claim="level", equals=1))
    assert claim_holds({"scp": "a b c"}, ClaimCondition(claim="scp", contains="b"))
    assert not claim_holds({}, ClaimCondition(claim="missing", equals="x"))


def test_claim_condition_needs_one_operator() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        ClaimCondition(claim="x", equals="a", contains="b")
