"""CSRF tokens: double-submit and signed, issued in a cookie and checked in a field."""

from __future__ import annotations

import logging
import time

import pytest

from stockade.csrf.config import CsrfToken
from stockade.csrf.tokens import (
    DoubleSubmitCodec,
    SignedCodec,
    TokenCheck,
    build_codec,
    check_request_token,
)
from stockade.gateway.routing import Resources, RouteTable
from tests.csrf.support import Gate, config, fields_named, kinds, registry

KEY = "k" * 40
OLD_KEY = "o" * 40
SAME_ORIGIN = ("Sec-Fetch-Site", "same-origin")


def token_gate(**token: object) -> Gate:
    return Gate(config({"token": {"mode": "double_submit", **token}}))


def signed_gate(monkeypatch: pytest.MonkeyPatch, **token: object) -> Gate:
    monkeypatch.setenv("TEST_CSRF_KEY", KEY)
    return Gate(config({"token": {"mode": "signed", "key_env": "TEST_CSRF_KEY", **token}}))


def issued_token(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


async def test_safe_request_gets_token_cookie() -> None:
    verdict, exchange = await token_gate().send("GET")
    cookies = fields_named(exchange.response_fields_extra, "Set-Cookie")
    assert not verdict.reject
    assert len(cookies) == 1
    attributes = cookies[0].split("; ")
    assert attributes[0].startswith("__Host-csrf=")
    assert "Path=/" in attributes
    assert "Secure" in attributes
    assert "SameSite=Strict" in attributes
    assert "Max-Age=43200" in attributes
    assert "HttpOnly" not in attributes


async def test_valid_cookie_not_reissued() -> None:
    gate = token_gate()
    _, first = await gate.send("GET")
    token = issued_token(fields_named(first.response_fields_extra, "Set-Cookie")[0])
    _, second = await gate.send("GET", headers=[("Cookie", f"__Host-csrf={token}")])
    assert fields_named(second.response_fields_extra, "Set-Cookie") == []


async def test_double_submit_matching_token_passes() -> None:
    gate = token_gate()
    _, first = await gate.send("GET")
    token = issued_token(fields_named(first.response_fields_extra, "Set-Cookie")[0])
    verdict, exchange = await gate.send(
        headers=[
            SAME_ORIGIN,
            ("Cookie", f"session=1; __Host-csrf={token}"),
            ("X-CSRF-Token", token),
        ]
    )
    assert not verdict.reject
    assert exchange.events == []


async def test_double_submit_missing_field_rejected_with_new_cookie() -> None:
    verdict, exchange = await token_gate().send(
        headers=[SAME_ORIGIN, ("Cookie", "session=1; __Host-csrf=abc")]
    )
    assert verdict.status == 403
    assert verdict.reason == "csrf-token-missing"
    assert kinds(exchange) == ["csrf-token-missing"]
    assert len(fields_named(verdict.fields, "Set-Cookie")) == 1


async def test_double_submit_mismatch_rejected() -> None:
    verdict, _ = await token_gate().send(
        headers=[SAME_ORIGIN, ("Cookie", "session=1; __Host-csrf=abc"), ("X-CSRF-Token", "abd")]
    )
    assert verdict.reason == "csrf-token-mismatch"


async def test_double_submit_missing_cookie_rejected() -> None:
    verdict, _ = await token_gate().send(
        headers=[SAME_ORIGIN, ("Cookie", "session=1"), ("X-CSRF-Token", "abc")]
    )
    assert verdict.reason == "csrf-token-missing"


async def test_token_checked_after_origin() -> None:
    verdict, _ = await token_gate().send(
        headers=[("Origin", "https://evil.test"), ("Cookie", "session=1; __Host-csrf=abc")]
    )
    assert verdict.reason == "csrf-origin-not-allowed"


async def test_token_cookie_alone_is_no_credential() -> None:
    verdict, _ = await token_gate().send(
        headers=[("Origin", "https://evil.test"), ("Cookie", "__Host-csrf=abc")]
    )
    assert not verdict.reject


async def test_http_only_cookie_exposes_token_field() -> None:
    gate = token_gate(cookie={"http_only": True, "same_site": "Lax"})
    _, exchange = await gate.send("GET")
    set_cookie = fields_named(exchange.response_fields_extra, "Set-Cookie")[0]
    assert "HttpOnly" in set_cookie.split("; ")
    assert "SameSite=Lax" in set_cookie.split("; ")
    assert fields_named(exchange.response_fields_extra, "X-CSRF-Token") == [
        issued_token(set_cookie)
    ]


async def test_signed_token_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    gate = signed_gate(monkeypatch, session_cookie="session")
    _, first = await gate.send("GET", headers=[("Cookie", "session=alice")])
    token = issued_token(fields_named(first.response_fields_extra, "Set-Cookie")[0])
    assert token.startswith("v1.")
    cookie = ("Cookie", f"session=alice; __Host-csrf={token}")
    verdict, _ = await gate.send(headers=[SAME_ORIGIN, cookie, ("X-CSRF-Token", token)])
    assert not verdict.reject


async def test_signed_token_of_other_session_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    gate = signed_gate(monkeypatch, session_cookie="session")
    _, first = await gate.send("GET", headers=[("Cookie", "session=alice")])
    token = issued_token(fields_named(first.response_fields_extra, "Set-Cookie")[0])
    cookie = ("Cookie", f"session=mallory; __Host-csrf={token}")
    verdict, _ = await gate.send(headers=[SAME_ORIGIN, cookie, ("X-CSRF-Token", token)])
    assert verdict.reason == "csrf-token-invalid"


async def test_forged_signed_token_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    gate = signed_gate(monkeypatch)
    forged = f"v1.{int(time.time())}.AAAAAAAAAAAAAAAAAAAAAA.{'A' * 43}"
    cookie = ("Cookie", f"session=1; __Host-csrf={forged}")
    verdict, _ = await gate.send(headers=[SAME_ORIGIN, cookie, ("X-CSRF-Token", forged)])
    assert verdict.reason == "csrf-token-invalid"


def test_signed_token_expires() -> None:
    codec = SignedCodec([KEY.encode()], "acme/api", max_age_seconds=600)
    now = 1_800_000_000.0
    token = codec.issue(None, now).encode()
    assert codec.check_cookie(token, None, now + 599) is TokenCheck.VALID
    assert codec.check_cookie(token, None, now + 601) is TokenCheck.EXPIRED
    assert codec.check_cookie(token, None, now - 3600) is TokenCheck.EXPIRED
    assert not codec.renew_due(token, now + 200)
    assert codec.renew_due(token, now + 301)


def test_signed_token_scoped_to_service() -> None:
    token = SignedCodec([KEY.encode()], "acme/api", 600).issue(None, 1000.0).encode()
    other = SignedCodec([KEY.encode()], "acme/admin", 600)
    assert other.check_cookie(token, None, 1000.0) is TokenCheck.INVALID


def test_previous_key_still_verifies(monkeypatch: pytest.MonkeyPatch) -> None:
    old = SignedCodec([OLD_KEY.encode()], "acme/api", 600)
    token = old.issue(None, time.time())
    monkeypatch.setenv("NEW_KEY", KEY)
    monkeypatch.setenv("OLD_KEY", OLD_KEY)
    settings = CsrfToken(mode="signed", key_env="NEW_KEY", previous_key_env="OLD_KEY")
    rotated = build_codec(settings, "acme/api")
    assert rotated.check_cookie(token.encode(), None, time.time()) is TokenCheck.VALID
    assert rotated.issue(None, time.time()) != token
    only_new = build_codec(CsrfToken(mode="signed", key_env="NEW_KEY"), "acme/api")
    assert only_new.check_cookie(token.encode(), None, time.time()) is TokenCheck.INVALID


@pytest.mark.parametrize("value", ["", "short"])
def test_missing_or_short_key_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("TEST_CSRF_KEY", value)
    settings = CsrfToken(mode="signed", key_env="TEST_CSRF_KEY")
    with pytest.raises(ValueError, match="TEST_CSRF_KEY") as caught:
        build_codec(settings, "acme/api")
    assert value == "" or value not in str(caught.value).replace("TEST_CSRF_KEY", "")


def test_route_table_build_fails_without_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ABSENT_CSRF_KEY", raising=False)
    gateway_config = config({"token": {"mode": "signed", "key_env": "ABSENT_CSRF_KEY"}})
    with pytest.raises(ValueError, match="ABSENT_CSRF_KEY is not set"):
        RouteTable(gateway_config, registry(), Resources())


async def test_key_never_in_events_or_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gate = signed_gate(monkeypatch)
    _, exchange = await gate.send(headers=[SAME_ORIGIN, ("Cookie", "s=1; __Host-csrf=x")])
    text = repr([event.to_dict() for event in exchange.events]) + caplog.text
    assert KEY not in text


def test_request_token_rules() -> None:
    codec = DoubleSubmitCodec()
    assert check_request_token(codec, None, [b"abc"], None) is TokenCheck.MISSING
    assert check_request_token(codec, b"abc", [], None) is TokenCheck.MISSING
    assert check_request_token(codec, b"abc", [b"abd"], None) is TokenCheck.MISMATCH
    assert check_request_token(codec, b"abc", [b"zzz", b"abc"], None) is TokenCheck.VALID
    assert check_request_token(codec, b"a b", [b"a b"], None) is TokenCheck.INVALID
    assert check_request_token(codec, b"x" * 300, [b"x" * 300], None) is TokenCheck.INVALID


@pytest.mark.parametrize(
    ("cookie", "message"),
    [
        ({"secure": False}, "__Host- cookie needs secure"),
        ({"name": "__Host-x", "domain": "acme.test"}, "__Host- cookie needs"),
        ({"name": "csrf", "secure": False, "same_site": "None"}, "same_site 'None' needs"),
        ({"name": "bad name"}, "must be a non-empty token"),
    ],
)
def test_cookie_settings_validated(cookie: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CsrfToken.model_validate({"mode": "double_submit", "cookie": cookie})


def test_signed_mode_needs_key_env() -> None:
    with pytest.raises(ValueError, match="needs key_env"):
        CsrfToken.model_validate({"mode": "signed"})
