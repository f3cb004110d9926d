from __future__ import annotations

import base64
import hashlib
import hmac
import json

from stockade.events.model import Action
from stockade.gateway.pipeline import CONTINUE, Phase
from stockade.protection.auth_signals import AuthSignalsStage, jwt_weakness
from stockade.protection.config import AuthSignals, LoginEndpoint
from tests.protection.exchanges import exchange


def _segment(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def hs256(key: str, claims: dict[str, object]) -> str:
    signed = f"{_segment({'alg': 'HS256', 'typ': 'JWT'})}.{_segment(claims)}"
    signature = hmac.new(key.encode(), signed.encode(), hashlib.sha256).digest()
    return f"{signed}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def test_jwt_weaknesses() -> None:
    assert jwt_weakness(f"{_segment({'alg': 'none'})}.{_segment({'sub': '4'})}.") == "jwt-alg-none"
    assert jwt_weakness(f"{_segment({'alg': 'NoNe'})}.{_segment({'sub': '4'})}.x") == "jwt-alg-none"
    assert jwt_weakness(f"{_segment({'alg': 'RS256'})}.{_segment({'sub': '4'})}.") == "jwt-unsigned"
    assert jwt_weakness(hs256("changeme", {"sub": "1"})) == "jwt-weak-key"
    assert jwt_weakness(hs256("a-long-random-key-nobody-guesses-5f1e", {"sub": "1"})) is None
    assert jwt_weakness("not-a-token") is None


def test_alg_none_token_rejected() -> None:
    stage = AuthSignalsStage(AuthSignals(), ())
    token = f"{_segment({'alg': 'none'})}.{_segment({'sub': '4'})}."
    verdict = stage.check(exchange(headers={"authorization": f"Bearer {token}"}),
                          Phase.REQUEST_HEADERS)
    assert verdict.reject
    assert verdict.status == 401
    assert verdict.reason == "jwt-alg-none"


def test_weak_key_reported_once_not_rejected() -> None:
    stage = AuthSignalsStage(AuthSignals(), ())
    token = hs256("secret", {"sub": "1"})
    first = exchange(headers={"authorization": f"Bearer {token}"})
    assert stage.check(first, Phase.REQUEST_HEADERS) is CONTINUE
    assert [event.kind for event in first.events] == ["jwt-weak-key"]
    assert first.events[0].action is Action.OBSERVED
    second = exchange(headers={"authorization": f"Bearer {token}"})
    assert stage.check(second, Phase.REQUEST_HEADERS) is CONTINUE
    assert second.events == []


def test_weak_key_rejected_when_asked() -> None:
    stage = AuthSignalsStage(AuthSignals(reject_weak_key_tokens=True), ())
    token = hs256("secret", {"sub": "1"})
    verdict = stage.check(exchange(headers={"authorization": f"Bearer {token}"}),
                          Phase.REQUEST_HEADERS)
    assert verdict.reason == "jwt-weak-key"


def test_credentials_in_url_rejected() -> None:
    stage = AuthSignalsStage(AuthSignals(), ())
    verdict = stage.check(exchange("GET", "/me?access_token=abc"), Phase.REQUEST_HEADERS)
    assert verdict.reject
    assert verdict.reason == "credential-in-url"
    assert verdict.events[0].evidence == {"parameters": ["access_token"]}
    shaped = stage.check(exchange("GET", "/me?q=eyJhbGciOi.x.y"), Phase.REQUEST_HEADERS)
    assert shaped.reason == "credential-in-url"
    assert stage.check(exchange("GET", "/me?page=2"), Phase.REQUEST_HEADERS) is CONTINUE


def test_login_without_rate_limit_reported_once() -> None:
    login = LoginEndpoint(path="/login")
    stage = AuthSignalsStage(AuthSignals(), (login,))
    first = exchange("POST", "/login")
    stage.check(first, Phase.REQUEST_HEADERS)
    assert [event.kind for event in first.events] == ["login-without-rate-limit"]
    again = exchange("POST", "/login")
    stage.check(again, Phase.REQUEST_HEADERS)
    assert again.events == []
