"""The CSRF stage's source check: each combination of Sec-Fetch-Site, Origin and Referer."""

from __future__ import annotations

import pytest

from stockade.auth.hashing import hash_api_key, new_api_key
from tests.csrf.support import APP, Gate, config, kinds

SESSION = ("Cookie", "session=s1")
OWN = "https://api.test"
EVIL = "https://evil.test"

# (Sec-Fetch-Site, Origin, Referer, expected reason or "" for a pass)
COMBINATIONS = [
    ("same-origin", None, None, ""),
    ("none", None, None, ""),
    ("same-origin", EVIL, None, ""),
    ("cross-site", None, None, "csrf-cross-site"),
    ("cross-site", EVIL, None, "csrf-cross-site"),
    ("cross-site", APP, None, ""),
    ("same-site", "https://other.api.test", None, "csrf-cross-site"),
    ("same-site", APP, None, ""),
    ("cross-site", EVIL, OWN + "/page", "csrf-cross-site"),
    (None, OWN, None, ""),
    (None, APP, None, ""),
    (None, EVIL, None, "csrf-origin-not-allowed"),
    (None, "null", None, "csrf-origin-not-allowed"),
    (None, "https://api.test:8443", None, "csrf-origin-not-allowed"),
    (None, "http://api.test", None, "csrf-origin-not-allowed"),
    (None, "https://user@api.test", None, "csrf-origin-not-allowed"),
    (None, EVIL, OWN + "/page", "csrf-origin-not-allowed"),
    (None, None, OWN + "/orders?id=1", ""),
    (None, None, APP + "/checkout", ""),
    (None, None, EVIL + "/attack", "csrf-referer-not-allowed"),
    (None, None, "not a url", "csrf-referer-not-allowed"),
    ("unknown-value", OWN, None, ""),
    ("unknown-value", EVIL, None, "csrf-origin-not-allowed"),
    (None, None, None, "csrf-no-source"),
]


def gate(**csrf: object) -> Gate:
    return Gate(config({"allowed_origins": [APP], **csrf}))


def request_headers(
    fetch_site: str | None, origin: str | None, referer: str | None
) -> list[tuple[str, str]]:
    headers = [SESSION]
    if fetch_site is not None:
        headers.append(("Sec-Fetch-Site", fetch_site))
    if origin is not None:
        headers.append(("Origin", origin))
    if referer is not None:
        headers.append(("Referer", referer))
    return headers


@pytest.mark.parametrize(("fetch_site", "origin", "referer", "expected"), COMBINATIONS)
async def test_field_combination_strict(
    fetch_site: str | None, origin: str | None, referer: str | None, expected: str
) -> None:
    verdict, exchange = await gate().send(headers=request_headers(fetch_site, origin, referer))
    if expected:
        assert verdict.reject
        assert verdict.status == 403
        assert verdict.reason == expected
        assert kinds(exchange) == [expected]
    else:
        assert not verdict.reject
        assert exchange.events == []


async def test_no_source_lax_passes_with_event() -> None:
    verdict, exchange = await gate(strictness="lax").send(headers=[SESSION])
    assert not verdict.reject
    assert kinds(exchange) == ["csrf-no-source"]
    assert exchange.events[0].action.value == "observed"
    assert exchange.events[0].evidence["credentials"] == ["cookie"]


async def test_lax_still_rejects_bad_origin() -> None:
    verdict, _ = await gate(strictness="lax").send(headers=[SESSION, ("Origin", EVIL)])
    assert verdict.reason == "csrf-origin-not-allowed"


async def test_detect_mode_records_instead_of_rejecting() -> None:
    gateway = Gate(config({"allowed_origins": [APP]}, extra_policy={"modes": {"csrf": "detect"}}))
    verdict, exchange = await gateway.send(headers=[SESSION, ("Origin", EVIL)])
    assert not verdict.reject
    assert kinds(exchange) == ["csrf-origin-not-allowed"]
    assert exchange.events[0].action.value == "detected"
    assert exchange.verdicts[0].action == "detect"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_every_unsafe_method_checked(method: str) -> None:
    verdict, _ = await gate().send(method, headers=[SESSION, ("Origin", EVIL)])
    assert verdict.reason == "csrf-origin-not-allowed"


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
async def test_safe_methods_not_checked(method: str) -> None:
    verdict, exchange = await gate().send(
        method, headers=[SESSION, ("Sec-Fetch-Site", "cross-site")]
    )
    assert not verdict.reject
    assert exchange.events == []


async def test_request_without_credentials_not_checked() -> None:
    verdict, _ = await gate().send(headers=[("Origin", EVIL)])
    assert not verdict.reject


async def test_check_all_requests_checks_without_credentials() -> None:
    verdict, _ = await gate(check_all_requests=True).send(headers=[("Origin", EVIL)])
    assert verdict.reason == "csrf-origin-not-allowed"


async def test_basic_credentials_are_ambient() -> None:
    verdict, exchange = await gate().send(
        headers=[("Authorization", "Basic dXNlcjpwdw=="), ("Origin", EVIL)]
    )
    assert verdict.reason == "csrf-origin-not-allowed"
    assert exchange.events[0].evidence["credentials"] == ["basic"]


async def test_bearer_token_exempt_even_with_cookies() -> None:
    verdict, _ = await gate().send(
        headers=[SESSION, ("Authorization", "Bearer abc.def.ghi"), ("Origin", EVIL)]
    )
    assert not verdict.reject


async def test_api_key_consumer_exempt() -> None:
    key = new_api_key()
    consumers = [{"id": "web", "api_keys": [{"id": "w", "hash": hash_api_key(key)}]}]
    gateway = Gate(config({}, extra_policy={"auth": {"api_key": {}}}, consumers=consumers))
    verdict, exchange = await gateway.send(headers=[SESSION, ("X-API-Key", key), ("Origin", EVIL)])
    assert not verdict.reject
    assert exchange.consumer is not None
    assert exchange.consumer.auth_method == "api-key"


async def test_client_certificate_is_ambient() -> None:
    exchange = gate().exchange(headers=[("Origin", EVIL)])
    exchange.client.peer_certificate_der = b"0"
    verdict = await gate().run(exchange)
    assert verdict.reason == "csrf-origin-not-allowed"


async def test_session_cookies_limit_which_cookies_count() -> None:
    only_session = gate(session_cookies=["session"])
    theme, _ = await only_session.send(headers=[("Cookie", "theme=dark"), ("Origin", EVIL)])
    assert not theme.reject
    session, _ = await only_session.send(
        headers=[("Cookie", "theme=dark; session=s1"), ("Origin", EVIL)]
    )
    assert session.reason == "csrf-origin-not-allowed"


async def test_credential_kinds_can_be_narrowed() -> None:
    cookies_only = gate(credentials=["cookie"])
    verdict, _ = await cookies_only.send(
        headers=[("Authorization", "Basic dXNlcjpwdw=="), ("Origin", EVIL)]
    )
    assert not verdict.reject


async def test_same_origin_over_plain_http_accepts_both_schemes() -> None:
    for origin in ("http://api.test", "https://api.test"):
        exchange = gate().exchange(headers=[SESSION, ("Origin", origin)], tls=False)
        verdict = await gate().run(exchange)
        assert not verdict.reject, origin


async def test_same_origin_can_be_turned_off() -> None:
    verdict, _ = await gate(allow_same_origin=False).send(headers=[SESSION, ("Origin", OWN)])
    assert verdict.reason == "csrf-origin-not-allowed"


async def test_referer_evidence_keeps_only_origin() -> None:
    _, exchange = await gate().send(
        headers=[SESSION, ("Referer", "https://evil.test/path?email=a@b.test")]
    )
    assert exchange.events[0].evidence["referer"] == "https://evil.test"


async def test_oversized_origin_not_allowed() -> None:
    verdict, _ = await gate().send(headers=[SESSION, ("Origin", APP + "x" * 5000)])
    assert verdict.reason == "csrf-origin-not-allowed"
    assert len(verdict.events[0].evidence["origin"]) <= 256


@pytest.mark.parametrize(
    "headers",
    [
        [("Origin", "https://\u00e4pp.acme.test")],
        [("Origin", "https://[::1")],
        [("Origin", "https://app.acme.test:99999")],
        [("Origin", "https://app.acme.test:-1")],
        [("Origin", "javascript://x")],
        [("Origin", "")],
        [("Referer", "https://")],
        [("Referer", "//evil.test/x")],
        [("Sec-Fetch-Site", "\u00ff\u00fe")],
        [("Sec-Fetch-Site", "")],
    ],
)
async def test_malformed_fields_rejected_without_error(headers: list[tuple[str, str]]) -> None:
    verdict, exchange = await gate().send(headers=[SESSION, *headers])
    assert verdict.reject
    assert verdict.status == 403
    assert len(exchange.events) == 1


async def test_malformed_cookie_and_token_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_CSRF_KEY", "k" * 40)
    gateway = Gate(config({"token": {"mode": "signed", "key_env": "TEST_CSRF_KEY"}}))
    headers = [
        ("Sec-Fetch-Site", "same-origin"),
        ("Cookie", "session; =; __Host-csrf=v1.x.y.z; \u00e9=\u00e9"),
        ("X-CSRF-Token", "v1.x.y.z"),
    ]
    verdict, _ = await gateway.send(headers=headers)
    assert verdict.reason == "csrf-token-invalid"
