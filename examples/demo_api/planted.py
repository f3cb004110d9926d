"""The planted vulnerabilities as data, for tests and tools to compare against.

VULNERABILITIES.md describes each entry under its key. ``category`` is the
OWASP API Security Top 10 2023 id. The 2023 list has no injection
category, so the injections carry the 2019 id API8:2019 (Injection).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlantedHole:
    key: str
    category: str
    method: str
    path: str
    summary: str


PLANTED_HOLES = (
    PlantedHole(
        "bola-order-read",
        "API1:2023",
        "GET",
        "/api/v2/orders/{orderId}",
        "any user reads any order",
    ),
    PlantedHole(
        "bola-order-update",
        "API1:2023",
        "PUT",
        "/api/v2/orders/{orderId}",
        "any user changes any order",
    ),
    PlantedHole(
        "bola-order-delete",
        "API1:2023",
        "DELETE",
        "/api/v2/orders/{orderId}",
        "any user deletes any order",
    ),
    PlantedHole(
        "bola-user-read",
        "API1:2023",
        "GET",
        "/api/v2/users/{userId}",
        "any user reads any user",
    ),
    PlantedHole(
        "bola-user-update",
        "API1:2023",
        "PUT",
        "/api/v2/users/{userId}",
        "any user changes any user's profile",
    ),
    PlantedHole(
        "bfla-user-delete",
        "API5:2023",
        "DELETE",
        "/api/v2/users/{userId}",
        "a normal user deletes users, an admin-only operation",
    ),
    PlantedHole(
        "bfla-admin-user-list",
        "API5:2023",
        "GET",
        "/api/v2/admin/users",
        "a normal user lists all users",
    ),
    PlantedHole(
        "bfla-admin-user-create",
        "API5:2023",
        "POST",
        "/api/v2/admin/users",
        "a normal user creates users, admins included",
    ),
    PlantedHole(
        "unauthenticated-admin-stats",
        "API5:2023",
        "GET",
        "/api/v2/admin/stats",
        "an admin route answers without credentials",
    ),
    PlantedHole(
        "mass-assignment-profile",
        "API3:2023",
        "PATCH",
        "/api/v2/users/me",
        "role, is_admin, balance and internal_notes are accepted and stored",
    ),
    PlantedHole(
        "excessive-data-exposure",
        "API3:2023",
        "GET",
        "/api/v2/users/me",
        "user objects carry password_hash, ssn, card_number, internal_notes, is_admin",
    ),
    PlantedHole(
        "jwt-weak-secret",
        "API2:2023",
        "POST",
        "/api/v2/login",
        "tokens are signed with HS256 and the dictionary password 'changeme'",
    ),
    PlantedHole(
        "jwt-alg-none",
        "API2:2023",
        "GET",
        "/api/v2/users/me",
        "an unsigned token with alg none is accepted",
    ),
    PlantedHole(
        "jwt-expired-accepted",
        "API2:2023",
        "GET",
        "/api/v2/users/me",
        "a token past its exp is accepted",
    ),
    PlantedHole(
        "token-in-query",
        "API2:2023",
        "GET",
        "/api/v2/users/me",
        "a token in the access_token query parameter is accepted",
    ),
    PlantedHole(
        "login-user-enumeration",
        "API2:2023",
        "POST",
        "/api/v2/login",
        "'unknown user' and 'wrong password' answers tell usernames apart",
    ),
    PlantedHole(
        "login-no-rate-limit",
        "API2:2023",
        "POST",
        "/api/v2/login",
        "unlimited failed logins, no lockout, failures answer 200",
    ),
    PlantedHole(
        "nosql-operator-login",
        "API8:2019",
        "POST",
        "/api/v2/login",
        'a password of {"$ne": ""} logs in as any user',
    ),
    PlantedHole(
        "sqli-products-search",
        "API8:2019",
        "GET",
        "/api/v2/products",
        "search is pasted into SQL: error, boolean and time-based",
    ),
    PlantedHole(
        "os-command-injection-ping",
        "API8:2019",
        "GET",
        "/api/v2/diagnostics/ping",
        "a shell operator and 'sleep N' in host delay the answer N seconds (simulated)",
    ),
    PlantedHole(
        "ssrf-webhook-test",
        "API7:2023",
        "POST",
        "/api/v2/webhooks/test",
        "the server POSTs to any URL and returns the answer",
    ),
    PlantedHole(
        "ssrf-url-fetch",
        "API7:2023",
        "GET",
        "/api/v2/fetch",
        "the server GETs any URL, loopback and private addresses included",
    ),
    PlantedHole(
        "no-export-rate-limit",
        "API4:2023",
        "GET",
        "/api/v2/orders/export",
        "the CSV export has no rate limit",
    ),
    PlantedHole(
        "cors-reflects-any-origin",
        "API8:2023",
        "GET",
        "/api/v2/users/me",
        "any Origin is echoed in Access-Control-Allow-Origin with credentials",
    ),
    PlantedHole(
        "missing-security-headers",
        "API8:2023",
        "GET",
        "/health",
        "no CSP, X-Content-Type-Options, X-Frame-Options, Cache-Control or HSTS",
    ),
    PlantedHole(
        "version-disclosure-headers",
        "API8:2023",
        "GET",
        "/health",
        "Server and X-Powered-By name the software stack",
    ),
    PlantedHole(
        "verbose-errors",
        "API8:2023",
        "GET",
        "/api/v2/orders/{orderId}",
        "bad input answers 500 with the exception and a stack trace",
    ),
    PlantedHole(
        "debug-config-endpoint",
        "API8:2023",
        "GET",
        "/api/v2/debug/config",
        "configuration including the JWT secret, without credentials",
    ),
    PlantedHole(
        "debug-actuator-endpoint",
        "API8:2023",
        "GET",
        "/actuator/env",
        "the same configuration under a Spring Boot Actuator path",
    ),
    PlantedHole(
        "unsupported-method-200",
        "API8:2023",
        "DELETE",
        "/api/v2/products",
        "a method the route does not support answers 200",
    ),
    PlantedHole(
        "zombie-api-v1-users",
        "API9:2023",
        "GET",
        "/api/v1/users/{userId}",
        "the deprecated v1 still serves full user records without credentials",
    ),
    PlantedHole(
        "zombie-api-v1-orders",
        "API9:2023",
        "GET",
        "/api/v1/orders/{orderId}",
        "the deprecated v1 still serves any order without credentials",
    ),
    PlantedHole(
        "shadow-internal-users",
        "API9:2023",
        "GET",
        "/api/v2/internal/users",
        "an undocumented route dumps every user without credentials",
    ),
)

UNDOCUMENTED_PATHS = ("/api/v2/internal/users", "/api/v2/debug/config", "/actuator/env")
"""Paths the vulnerable variant serves that openapi.yaml deliberately leaves out."""
