from __future__ import annotations

from stockade.gateway.pipeline import CONTINUE, Phase
from stockade.protection.abuse import AbuseStage, login_succeeded
from stockade.protection.config import AbuseProtection, IdentitySettings, LoginEndpoint
from stockade.protection.state import MemoryState
from tests.protection.exchanges import exchange, respond

LOGIN = {"path": "/login", "success": {"status": [200], "json_field": "ok", "json_value": True}}


def stage(**settings: object) -> AbuseStage:
    merged = {"logins": [LOGIN], **settings}
    return AbuseStage(AbuseProtection.model_validate(merged), IdentitySettings(), MemoryState(),
                      "t", "acme", None)


async def attempt(abuse: AbuseStage, username: str, ok: bool, ip: str = "203.0.113.7") -> str:
    """Run one login through the stage; return the request verdict's reason."""
    request = exchange("POST", "/login", json_body={"username": username, "password": "x"},
                       client=ip)
    assert abuse.wants_request_body(request)
    verdict = await abuse.check(request, Phase.REQUEST_BODY)
    if verdict.reject:
        return verdict.reason
    respond(request, 200, {"ok": ok})
    assert abuse.wants_response_body(request)
    await abuse.check(request, Phase.RESPONSE_HEADERS)
    await abuse.check(request, Phase.RESPONSE_BODY)
    return ""


def test_success_recognition() -> None:
    login = LoginEndpoint.model_validate(LOGIN)
    assert login_succeeded(login, respond(exchange("POST", "/login"), 200, {"ok": True}))
    assert not login_succeeded(login, respond(exchange("POST", "/login"), 200, {"ok": False}))
    assert not login_succeeded(login, respond(exchange("POST", "/login"), 401, {"ok": True}))
    compressed = respond(exchange("POST", "/login"), 200, body=b"\x1f\x8b\x08",
                         headers={"content-encoding": "gzip"})
    assert login_succeeded(login, compressed) is None
    by_header = LoginEndpoint.model_validate(
        {"path": "/login", "success": {"header": "Set-Cookie"}})
    with_cookie = respond(exchange("POST", "/login"), 200, {}, headers={"set-cookie": "s=1"})
    assert login_succeeded(by_header, with_cookie)
    assert not login_succeeded(by_header, respond(exchange("POST", "/login"), 200, {}))
    by_status = LoginEndpoint.model_validate({"path": "/login", "success": {"json_field": None}})
    assert login_succeeded(by_status, respond(exchange("POST", "/login"), 204, body=b""))


async def test_brute_force_per_address() -> None:
    abuse = stage(max_failures_per_ip=3, max_failures_per_username=100)
    reasons = [await attempt(abuse, "carol", ok=False) for _ in range(5)]
    assert reasons == ["", "", "", "brute-force", "brute-force"]
    assert await attempt(abuse, "alice", ok=True, ip="198.51.100.1") == ""


async def test_brute_force_per_username_from_many_addresses() -> None:
    abuse = stage(max_failures_per_username=3, max_ips_per_username=100)
    reasons = [await attempt(abuse, "carol", ok=False, ip=f"203.0.113.{index}")
               for index in range(1, 6)]
    assert reasons == ["", "", "", "account-brute-force", "account-brute-force"]


async def test_distinct_addresses_per_username() -> None:
    abuse = stage(max_ips_per_username=3, max_failures_per_username=100)
    reasons = [await attempt(abuse, "carol", ok=False, ip=f"203.0.113.{index}")
               for index in range(1, 6)]
    assert reasons[3:] == ["distributed-brute-force"] * 2


async def test_credential_stuffing_by_distinct_usernames() -> None:
    abuse = stage(max_usernames_per_ip=3)
    reasons = [await attempt(abuse, f"user{index}", ok=False) for index in range(5)]
    assert reasons == ["", "", "", "credential-stuffing", "credential-stuffing"]


async def test_failure_ratio() -> None:
    abuse = stage(failure_ratio=0.5, failure_ratio_min_attempts=4, max_failures_per_ip=100,
                  max_usernames_per_ip=100, max_failures_per_username=100)
    reasons = [await attempt(abuse, "carol", ok=index % 4 == 0) for index in range(6)]
    # The fourth attempt finds 2 failures in 4 attempts; successes then bring the ratio down.
    assert reasons == ["", "", "", "credential-stuffing", "", ""]


async def test_velocity() -> None:
    abuse = stage(max_attempts_per_ip_velocity=3)
    reasons = [await attempt(abuse, "alice", ok=True) for _ in range(5)]
    assert reasons == ["", "", "", "login-velocity", "login-velocity"]


async def test_successes_are_not_failures() -> None:
    abuse = stage(max_failures_per_ip=2)
    assert [await attempt(abuse, "alice", ok=True) for _ in range(4)] == ["", "", "", ""]


async def test_parameter_enumeration() -> None:
    abuse = stage(logins=[], parameters=[{"parameter": "query:email", "distinct": 3, "key": "ip"}])
    reasons = []
    for index in range(4):
        verdict = await abuse.check(exchange("GET", f"/lookup?email=u{index}@example.com"),
                                    Phase.REQUEST_HEADERS)
        reasons.append(verdict.reason)
    assert reasons == ["", "", "parameter-enumeration", "parameter-enumeration"]
    other = await abuse.check(exchange("GET", "/lookup?email=x", client="198.51.100.9"),
                              Phase.REQUEST_HEADERS)
    assert other is CONTINUE
