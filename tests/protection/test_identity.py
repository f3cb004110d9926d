from __future__ import annotations

import base64
import json

from stockade.gateway.exchange import Consumer
from stockade.protection.config import IdentitySettings
from stockade.protection.identity import caller_of, unverified_claims
from tests.protection.exchanges import exchange

PASSIVE = IdentitySettings(jwt_claim="sub", groups_claim="role")


def bearer(claims: dict[str, object]) -> dict[str, str]:
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return {"authorization": f"Bearer eyJhbGciOiJIUzI1NiJ9.{payload}.c2ln"}


def test_verified_consumer_wins() -> None:
    consumer = Consumer("mobile", "acme", frozenset({"apps"}))
    caller = caller_of(exchange(consumer=consumer, headers=bearer({"sub": "9"})), PASSIVE)
    assert caller is not None
    assert (caller.id, caller.groups, caller.verified) == ("mobile", frozenset({"apps"}), True)


def test_passive_identity_from_claims() -> None:
    caller = caller_of(exchange(headers=bearer({"sub": 4, "role": "admin"})), PASSIVE)
    assert caller is not None
    assert (caller.id, caller.groups, caller.verified) == ("jwt:4", frozenset({"admin"}), False)


def test_no_identity_without_settings_or_token() -> None:
    assert caller_of(exchange(headers=bearer({"sub": "4"})), IdentitySettings()) is None
    assert caller_of(exchange(), PASSIVE) is None
    assert caller_of(exchange(headers={"authorization": "Bearer not.a.jwt!"}), PASSIVE) is None
    assert caller_of(exchange(headers=bearer({"sub": ""})), PASSIVE) is None
    assert caller_of(exchange(headers=bearer({"sub": True})), PASSIVE) is None


def test_unverified_claims_rejects_garbage() -> None:
    assert unverified_claims("a.b") is None
    assert unverified_claims("a.!!!.c") is None
    assert unverified_claims("a.WzFd.c") is None  # a JSON list, not an object
