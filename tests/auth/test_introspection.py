from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.auth.http_server import LocalAuthServer
from tests.auth.support import Gate, gateway_config

SECRET_ENV = "STOCKADE_TEST_INTROSPECTION_SECRET"
CLIENT_SECRET = "s3cr:et/with?chars"


def answers(active: dict[str, dict[str, Any]]) -> Any:
    def handler(form: dict[str, str], authorization: str | None) -> tuple[int, Any]:
        expected = base64.b64encode(b"gateway:s3cr%3Aet%2Fwith%3Fchars").decode()
        if authorization != f"Basic {expected}":
            return 401, {"error": "invalid_client"}
        claims = active.get(form.get("token", ""))
        return 200, ({"active": True, **claims} if claims is not None else {"active": False})

    return handler


def introspection_gate(server: LocalAuthServer, **overrides: Any) -> Gate:
    settings = {
        "endpoint": server.url("/introspect"),
        "client_id": "gateway",
        "client_secret_env": SECRET_ENV,
    }
    settings.update(overrides)
    consumers = [{"id": "partner", "token_subjects": [{"subject": "client-9"}]}]
    return Gate(gateway_config({"auth": {"introspection": settings}}, consumers=consumers))


@pytest.fixture
async def server(
    auth_server: LocalAuthServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[LocalAuthServer]:
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)
    now = int(time.time())
    auth_server.introspection = answers(
        {
            "tok-active": {"sub": "client-9", "scope": "read", "exp": now + 600},
            "tok-unknown-sub": {"sub": "someone", "exp": now + 600},
        }
    )
    yield auth_server


def bearer(token: str) -> list[tuple[str, str]]:
    return [("Authorization", f"Bearer {token}")]


async def test_active_token_maps_consumer(server: LocalAuthServer) -> None:
    gate = introspection_gate(server)
    verdict, exchange = await gate.request(headers=bearer("tok-active"))
    await gate.close()
    assert not verdict.reject
    assert exchange.consumer is not None
    assert exchange.consumer.id == "partner"
    assert exchange.consumer.scopes == frozenset({"read"})
    assert exchange.consumer.auth_method == "introspection"
    form, _ = server.posts[0]
    assert form == {"token": "tok-active", "token_type_hint": "access_token"}


async def test_inactive_token_rejected(server: LocalAuthServer) -> None:
    gate = introspection_gate(server)
    verdict, _ = await gate.request(headers=bearer("tok-revoked"))
    await gate.close()
    assert verdict.status == 401
    assert verdict.reason == "token-inactive"


async def test_responses_cached_both_ways(server: LocalAuthServer) -> None:
    gate = introspection_gate(server)
    for _ in range(3):
        assert not (await gate.request(headers=bearer("tok-active")))[0].reject
        assert (await gate.request(headers=bearer("tok-revoked")))[0].status == 401
    await gate.close()
    assert len(server.posts) == 2


async def test_cache_never_outlives_token(server: LocalAuthServer) -> None:
    # The server sets the expiry when it responds, so a slow machine cannot see the token
    # expire before its first use.
    issued: list[int] = []

    def short_lived(form: dict[str, str], authorization: str | None) -> tuple[int, Any]:
        if not issued:
            issued.append(int(time.time()) + 2)
        return 200, {"active": True, "client_id": "client-9", "exp": issued[0]}

    server.introspection = short_lived
    gate = introspection_gate(server, cache_seconds=600)
    assert not (await gate.request(headers=bearer("tok-short")))[0].reject
    time.sleep(max(0.0, issued[0] - time.time()) + 0.05)
    verdict, _ = await gate.request(headers=bearer("tok-short"))
    await gate.close()
    # The cached response expired with the token. The server was called again, and its
    # response, past its exp, counts as inactive.
    assert len(server.posts) == 2
    assert verdict.status == 401
    assert verdict.reason == "token-inactive"


async def test_cache_bounded(server: LocalAuthServer) -> None:
    gate = introspection_gate(server, cache_max_entries=1)
    for token in ("tok-active", "tok-unknown-sub", "tok-active"):
        await gate.request(headers=bearer(token))
    await gate.close()
    assert len(server.posts) == 3


async def test_client_secret_post(server: LocalAuthServer) -> None:
    server.introspection = lambda form, authorization: (
        200,
        {
            "active": form.get("client_secret") == CLIENT_SECRET and authorization is None,
            "sub": "client-9",
        },
    )
    gate = introspection_gate(server, client_auth="client_secret_post")
    verdict, _ = await gate.request(headers=bearer("anything"))
    await gate.close()
    assert not verdict.reject


async def test_server_down_gets_503(server: LocalAuthServer) -> None:
    gate = introspection_gate(server, endpoint="http://127.0.0.1:9/introspect", timeout_seconds=0.5)
    verdict, exchange = await gate.request(headers=bearer("tok-active"))
    await gate.close()
    assert verdict.status == 503
    assert verdict.reason == "introspection-unavailable"
    assert "tok-active" not in repr(exchange.events[0].to_dict())


async def test_invalid_response_gets_503(server: LocalAuthServer) -> None:
    server.introspection = lambda form, authorization: (200, {"active": "yes"})
    gate = introspection_gate(server)
    verdict, _ = await gate.request(headers=bearer("tok-active"))
    await gate.close()
    assert verdict.status == 503


def test_missing_secret_variable_named(
    monkeypatch: pytest.MonkeyPatch, auth_server: LocalAuthServer
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    with pytest.raises(ValueError, match=SECRET_ENV):
        introspection_gate(auth_server)


async def test_concurrent_requests_share_one_call(server: LocalAuthServer) -> None:
    import asyncio

    gate = introspection_gate(server)
    results = await asyncio.gather(*(gate.request(headers=bearer("tok-active")) for _ in range(20)))
    await gate.close()
    assert all(not verdict.reject for verdict, _ in results)
    assert len(server.posts) == 1


async def test_failing_server_not_asked_per_request(server: LocalAuthServer) -> None:
    server.introspection = lambda form, authorization: (500, {"error": "down"})
    gate = introspection_gate(server)
    verdicts = [(await gate.request(headers=bearer(f"tok-{index}")))[0] for index in range(10)]
    await gate.close()
    assert [verdict.status for verdict in verdicts] == [503] * 10
    assert len(server.posts) == 1
