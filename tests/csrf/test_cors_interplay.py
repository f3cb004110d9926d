"""CORS and CSRF together: a preflighted request from an allowed origin passes both."""

from __future__ import annotations

from tests.csrf.support import APP, Gate, config, fields_named, kinds

CORS = {
    "allow_origins": [APP],
    "allow_credentials": True,
    "allow_methods": ["GET", "POST", "DELETE"],
    "allow_headers": ["Content-Type", "X-CSRF-Token"],
}


def gate(csrf: dict[str, object] | None = None) -> Gate:
    return Gate(config(csrf or {"json_only": True}, extra_policy={"cors": CORS}))


def preflight(origin: str) -> list[tuple[str, str]]:
    return [
        ("Origin", origin),
        ("Access-Control-Request-Method", "POST"),
        ("Access-Control-Request-Headers", "content-type, x-csrf-token"),
        ("Sec-Fetch-Site", "cross-site"),
    ]


def actual(origin: str, *extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [
        ("Origin", origin),
        ("Sec-Fetch-Site", "cross-site"),
        ("Cookie", "session=1"),
        ("Content-Type", "application/json"),
        *extra,
    ]


async def test_preflighted_request_from_allowed_origin_passes_both() -> None:
    gateway = gate()
    answer, _ = await gateway.send("OPTIONS", headers=preflight(APP))
    assert answer.status == 204
    assert fields_named(answer.fields, "Access-Control-Allow-Origin") == [APP]

    verdict, exchange = await gateway.send(headers=actual(APP), body=b"{}")
    assert not verdict.reject
    assert fields_named(exchange.response_fields_extra, "Access-Control-Allow-Origin") == [APP]
    assert kinds(exchange) == []


async def test_other_origin_fails_preflight_and_csrf() -> None:
    gateway = gate()
    answer, _ = await gateway.send("OPTIONS", headers=preflight("https://evil.test"))
    assert answer.status == 403
    assert answer.reason == "cors-origin-not-allowed"

    # A simple form post needs no preflight, so only the CSRF stage stands in its way.
    verdict, _ = await gateway.send(
        headers=[
            ("Origin", "https://evil.test"),
            ("Sec-Fetch-Site", "cross-site"),
            ("Cookie", "session=1"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body=b"amount=100",
    )
    assert verdict.status == 403
    assert verdict.reason == "csrf-cross-site"


async def test_allowed_origin_form_post_still_needs_json() -> None:
    verdict, _ = await gate().send(
        headers=[
            ("Origin", APP),
            ("Sec-Fetch-Site", "cross-site"),
            ("Cookie", "session=1"),
            ("Content-Type", "text/plain"),
        ],
        body=b"{}",
    )
    assert verdict.status == 415


async def test_cors_origins_ignored_when_turned_off() -> None:
    gateway = gate({"allow_cors_origins": False})
    verdict, _ = await gateway.send(headers=actual(APP), body=b"{}")
    assert verdict.reason == "csrf-cross-site"


async def test_preflighted_request_with_token_passes_both() -> None:
    gateway = gate({"token": {"mode": "double_submit"}})
    answer, _ = await gateway.send("OPTIONS", headers=preflight(APP))
    assert answer.status == 204
    _, first = await gateway.send("GET", headers=[("Origin", APP)])
    set_cookie = fields_named(first.response_fields_extra, "Set-Cookie")[0]
    token = set_cookie.split(";", 1)[0].split("=", 1)[1]
    verdict, exchange = await gateway.send(
        headers=actual(APP, ("Cookie", f"__Host-csrf={token}"), ("X-CSRF-Token", token)),
        body=b"{}",
    )
    assert not verdict.reject
    assert kinds(exchange) == []
