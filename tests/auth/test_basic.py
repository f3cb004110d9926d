from __future__ import annotations

import base64

from stockade.auth.hashing import hash_password
from tests.auth.support import Gate, field, gateway_config

PASSWORD_HASH = hash_password("correct horse")
CONSUMERS = [
    {"id": "ops", "basic": {"username": "alice", "password_hash": PASSWORD_HASH}},
    {"id": "gone", "disabled": True, "basic": {"username": "bob", "password_hash": PASSWORD_HASH}},
]


def basic(username: str, password: str) -> list[tuple[str, str]]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return [("Authorization", f"Basic {token}")]


def gate() -> Gate:
    return Gate(gateway_config({"auth": {"basic": {}}}, consumers=CONSUMERS))


async def test_right_password_passes() -> None:
    verdict, exchange = await gate().request(headers=basic("alice", "correct horse"))
    assert not verdict.reject
    assert exchange.consumer is not None and exchange.consumer.id == "ops"
    assert exchange.request.fields.get(b"authorization") is None


async def test_wrong_password_rejected() -> None:
    verdict, exchange = await gate().request(headers=basic("alice", "Tr0ub4dor"))
    assert verdict.status == 401
    assert verdict.reason == "basic-wrong-password"
    assert field(verdict, "WWW-Authenticate") == ['Basic realm="stockade", charset="UTF-8"']
    assert "Tr0ub4dor" not in repr(exchange.events[0].to_dict())


async def test_unknown_user_rejected() -> None:
    verdict, _ = await gate().request(headers=basic("mallory", "correct horse"))
    assert verdict.status == 401
    assert verdict.reason == "basic-unknown-user"


async def test_disabled_consumer_rejected() -> None:
    verdict, _ = await gate().request(headers=basic("bob", "correct horse"))
    assert verdict.status == 401
    assert verdict.reason == "consumer-disabled"


async def test_verified_login_cached_but_wrong_password_not() -> None:
    g = gate()
    assert not (await g.request(headers=basic("alice", "correct horse")))[0].reject
    assert not (await g.request(headers=basic("alice", "correct horse")))[0].reject
    assert (await g.request(headers=basic("alice", "correct horsE")))[0].status == 401


async def test_malformed_credentials_rejected() -> None:
    for value in ("Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode(), "Basic "):
        verdict, _ = await gate().request(headers=[("Authorization", value)])
        assert verdict.status == 401, value


async def test_repeated_authorization_rejected() -> None:
    headers = basic("alice", "correct horse") + basic("mallory", "guess")
    verdict, exchange = await gate().request(headers=headers)
    assert verdict.status == 401
    assert verdict.reason == "authorization-repeated"
    assert exchange.consumer is None
