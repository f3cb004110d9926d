"""A full scan of the demo API: every planted hole is found in the vulnerable
variant, and none (no finding at all) in the fixed one.

Both variants run as subprocesses on loopback ports the kernel picks; the
SSRF canary the scanner starts is the only other listener, on 127.0.0.1.
Each scan runs once per module and takes about 10 to 15 seconds: time-based
probes ask for 0.5 s delays and the rate-limit bursts are 30 and 15 requests.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from stockade.scanner.auth import login_profile
from stockade.scanner.findings import Finding
from stockade.scanner.runner import ScanConfig, ScanResult, run_scan
from tests.scanner.demo import OPENAPI, REPO, USERS, demo_api, demo_password

sys.path.insert(0, str(REPO / "examples"))
from demo_api.planted import PLANTED_HOLES

Match = Callable[[Finding], bool]


def _kind(kind: str, method: str | None = None, path: str | None = None) -> Match:
    def match(finding: Finding) -> bool:
        return (finding.kind == kind and (method is None or finding.method == method)
                and (path is None or finding.path == path))
    return match


ORDER = "/api/v2/orders/{orderId}"
USER = "/api/v2/users/{userId}"

COVERAGE: dict[str, Match] = {
    "bola-order-read": _kind("bola", "GET", ORDER),
    "bola-order-update": _kind("bola", "PUT", ORDER),
    "bola-order-delete": _kind("bola", "DELETE", ORDER),
    "bola-user-read": _kind("bola", "GET", USER),
    "bola-user-update": _kind("bola", "PUT", USER),
    "bfla-user-delete": _kind("bfla", "DELETE", USER),
    "bfla-admin-user-list": _kind("bfla", "GET", "/api/v2/admin/users"),
    "bfla-admin-user-create": _kind("bfla", "POST", "/api/v2/admin/users"),
    "unauthenticated-admin-stats": _kind("missing-authentication", "GET", "/api/v2/admin/stats"),
    "mass-assignment-profile": _kind("mass-assignment", "PATCH", "/api/v2/users/me"),
    "excessive-data-exposure": _kind("excessive-data-exposure", "GET", "/api/v2/users/me"),
    "jwt-weak-secret": _kind("jwt-weak-secret"),
    "jwt-alg-none": _kind("jwt-alg-none", "GET", "/api/v2/users/me"),
    "jwt-expired-accepted": _kind("jwt-expired-accepted", "GET", "/api/v2/users/me"),
    "token-in-query": _kind("token-in-query", "GET", "/api/v2/users/me"),
    "login-user-enumeration": _kind("user-enumeration", "POST", "/api/v2/login"),
    "login-no-rate-limit": _kind("no-login-rate-limit", "POST", "/api/v2/login"),
    "nosql-operator-login": _kind("nosql-injection", "POST", "/api/v2/login"),
    "sqli-products-search": _kind("sqli-error", "GET", "/api/v2/products"),
    "os-command-injection-ping": _kind("os-command-injection", "GET", "/api/v2/diagnostics/ping"),
    "ssrf-webhook-test": _kind("ssrf", "POST", "/api/v2/webhooks/test"),
    "ssrf-url-fetch": _kind("ssrf", "GET", "/api/v2/fetch"),
    "no-export-rate-limit": _kind("no-rate-limit", "GET", "/api/v2/orders/export"),
    "cors-reflects-any-origin": _kind("cors-any-origin"),
    "missing-security-headers": _kind("missing-security-headers"),
    "version-disclosure-headers": _kind("version-disclosure"),
    "verbose-errors": _kind("verbose-errors"),
    "debug-config-endpoint": _kind("debug-endpoint", "GET", "/api/v2/debug/config"),
    "debug-actuator-endpoint": _kind("debug-endpoint", "GET", "/actuator/env"),
    "unsupported-method-200": _kind("unsupported-method-200", path="/api/v2/products"),
    "zombie-api-v1-users": _kind("deprecated-operation-served", "GET", "/api/v1/users/{userId}"),
    "zombie-api-v1-orders": _kind("deprecated-operation-served", "GET",
                                  "/api/v1/orders/{orderId}"),
    "shadow-internal-users": _kind("undocumented-endpoint", "GET", "/api/v2/internal/users"),
}
"""Which finding shows each planted hole; the keys are PLANTED_HOLES' keys."""

SQL_TECHNIQUES = ("sqli-error", "sqli-boolean", "sqli-time")


def _scan(base_url: str) -> ScanResult:
    profiles = [login_profile(f"{user}:{demo_password(user)}", "user", "/api/v2/login")
                for user in USERS]
    profiles.append(login_profile(f"admin:{demo_password('admin')}", "admin", "/api/v2/login"))
    return asyncio.run(run_scan(ScanConfig(base_url, str(OPENAPI), profiles)))


Profiles = dict[str, dict[str, Any]]


def _profiles(base_url: str) -> Profiles:
    """Each seeded user's own profile, read with a fresh login."""
    profiles = {}
    for user in USERS:
        login = httpx.post(f"{base_url}/api/v2/login",
                           json={"username": user, "password": demo_password(user)})
        token = login.json()["token"]
        profiles[user] = httpx.get(f"{base_url}/api/v2/users/me",
                                   headers={"Authorization": f"Bearer {token}"}).json()
    return profiles


@pytest.fixture(scope="module")
def profiles_around_scan() -> dict[str, Profiles]:
    """Filled by vulnerable_scan with the users' profiles before and after the scan."""
    return {}


@pytest.fixture(scope="module")
def vulnerable_scan(tmp_path_factory: pytest.TempPathFactory,
                    profiles_around_scan: dict[str, Profiles]) -> Iterator[ScanResult]:
    log = tmp_path_factory.mktemp("demo") / "vulnerable.log"
    with demo_api(log) as base_url:
        profiles_around_scan["before"] = _profiles(base_url)
        result = _scan(base_url)
        profiles_around_scan["after"] = _profiles(base_url)
        yield result


@pytest.fixture(scope="module")
def fixed_scan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScanResult]:
    log = tmp_path_factory.mktemp("demo") / "fixed.log"
    with demo_api(log, fixed=True) as base_url:
        yield _scan(base_url)


def test_coverage_names_every_planted_hole() -> None:
    assert sorted(COVERAGE) == sorted(hole.key for hole in PLANTED_HOLES)


@pytest.mark.parametrize("key", sorted(COVERAGE))
def test_vulnerable_variant_finding(vulnerable_scan: ScanResult, key: str) -> None:
    matches = [finding for finding in vulnerable_scan.findings if COVERAGE[key](finding)]
    found = sorted(f"{f.kind} {f.method} {f.path}" for f in vulnerable_scan.findings)
    assert matches, f"no finding for planted hole {key}; found: {found}"


@pytest.mark.parametrize("key", sorted(COVERAGE))
def test_fixed_variant_no_finding(fixed_scan: ScanResult, key: str) -> None:
    matches = [finding for finding in fixed_scan.findings if COVERAGE[key](finding)]
    assert not matches, f"planted hole {key} reported against the fixed variant: {matches}"


def test_fixed_variant_has_no_findings(fixed_scan: ScanResult) -> None:
    assert [f"{f.kind} {f.method} {f.path}" for f in fixed_scan.findings] == []
    assert fixed_scan.errors == []


def test_vulnerable_scan_ran_without_errors(vulnerable_scan: ScanResult) -> None:
    assert vulnerable_scan.errors == []
    assert vulnerable_scan.notes == []


@pytest.mark.parametrize("kind", SQL_TECHNIQUES)
def test_each_sql_technique_confirmed(vulnerable_scan: ScanResult, kind: str) -> None:
    assert any(_kind(kind, "GET", "/api/v2/products")(f) for f in vulnerable_scan.findings)


def test_findings_carry_evidence_and_remediation(vulnerable_scan: ScanResult) -> None:
    for finding in vulnerable_scan.findings:
        assert finding.evidence, f"{finding.kind} has no evidence"
        assert finding.remediation, f"{finding.kind} has no remediation"
        assert all(item.response is not None for item in finding.evidence)


def test_evidence_holds_no_credentials(vulnerable_scan: ScanResult) -> None:
    secrets = [demo_password(user) for user in (*USERS, "admin")] + ["changeme"]
    for finding in vulnerable_scan.findings:
        text = repr(finding.to_dict())
        for secret in secrets:
            assert secret not in text, f"{finding.kind} evidence shows {secret!r}"


def test_scan_is_bounded(vulnerable_scan: ScanResult) -> None:
    assert vulnerable_scan.requests < 3000


def test_scan_restores_changed_profiles(vulnerable_scan: ScanResult,
                                        profiles_around_scan: dict[str, Profiles]) -> None:
    """After the scan, every user's role and profile are what they were before it."""
    assert any(finding.kind == "mass-assignment" for finding in vulnerable_scan.findings)
    before, after = profiles_around_scan["before"], profiles_around_scan["after"]
    for user in USERS:
        for field in ("role", "is_admin", "balance", "email", "full_name"):
            assert after[user][field] == before[user][field], f"{user}.{field} changed"
