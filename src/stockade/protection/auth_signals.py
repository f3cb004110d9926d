"""Broken authentication seen in traffic, OWASP API2:2023. Layer ``auth-signals``.

- Credentials in the URL: a query parameter named like a token, key or
  password, or any query value shaped like a JWT. URLs end up in access
  logs, browser history and Referer fields.
- JWTs with no signature (``alg: none`` or an empty third part) are
  rejected. A JWT signed with a well-known weak HMAC key is reported once an
  hour, and rejected only with ``reject_weak_key_tokens``, because every
  token of that backend is then weak. The check of one token is cached.
- A declared login endpoint on a route with no rate limit, reported once
  per route and worker.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections import OrderedDict

from stockade.events.model import Action, Severity
from stockade.gateway.exchange import Exchange
from stockade.gateway.pipeline import CONTINUE, Phase, Verdict, reject
from stockade.gateway.routing import RouteContext
from stockade.protection.config import AuthSignals, LoginEndpoint
from stockade.protection.identity import bearer_token, decode_segment
from stockade.protection.inputs import query_pairs

LAYER = "auth-signals"

WEAK_HMAC_KEYS = (
    "",
    "secret",
    "changeme",
    "changeit",
    "password",
    "123456",
    "12345678",
    "jwt",
    "key",
    "token",
    "admin",
    "test",
    "default",
    "private",
    "qwerty",
    "letmein",
    "s3cr3t",
    "secretkey",
    "secret-key",
    "secret_key",
    "mysecret",
    "my-secret",
    "jwtsecret",
    "jwt-secret",
    "jwt_secret",
    "supersecret",
    "your-256-bit-secret",
    "your-secret-key",
    "shhhhh",
    "development",
)
"""HMAC keys common enough in tutorials and defaults that any token signed with one is forgeable."""

HMAC_DIGESTS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
MAX_CACHED_TOKENS = 10_000
"""Token verdicts cached per stage; the oldest go first."""
WEAK_KEY_REPORT_INTERVAL_SECONDS = 3600.0
"""A weak signing key is reported once an hour per route and worker, not on every request."""
JWT_PREFIX = "eyJ"
"""Base64url of '{"', the start of every JWT header."""


def jwt_weakness(token: str) -> str | None:
    """Return why a JWT is forgeable (jwt-alg-none, jwt-unsigned, jwt-weak-key), or None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    header = decode_segment(parts[0])
    if not isinstance(header, dict):
        return None
    algorithm = str(header.get("alg", ""))
    if algorithm.lower() == "none":
        return "jwt-alg-none"
    if not parts[2]:
        return "jwt-unsigned"
    digest = HMAC_DIGESTS.get(algorithm)
    if digest is None:
        return None
    signed = f"{parts[0]}.{parts[1]}".encode("ascii", "replace")
    try:
        signature = decode_signature(parts[2])
    except ValueError:
        return None
    for key in WEAK_HMAC_KEYS:
        if hmac.compare_digest(hmac.new(key.encode(), signed, digest).digest(), signature):
            return "jwt-weak-key"
    return None


def decode_signature(segment: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("signature is not base64url") from exc


class AuthSignalsStage:
    name = "protection.auth-signals"
    layer = LAYER
    phases = frozenset({Phase.REQUEST_HEADERS})
    synchronous = True  # check never awaits

    def __init__(self, settings: AuthSignals, unlimited_logins: tuple[LoginEndpoint, ...]) -> None:
        self.settings = settings
        self.names = frozenset(name.lower() for name in settings.url_credential_names)
        self.unlimited_logins = unlimited_logins
        self._reported_logins: set[tuple[str, str]] = set()
        self._tokens: OrderedDict[str, str | None] = OrderedDict()
        self._weak_key_reported = -WEAK_KEY_REPORT_INTERVAL_SECONDS

    def wants_request_body(self, exchange: Exchange) -> bool:
        return False

    def wants_response_body(self, exchange: Exchange) -> bool:
        return False

    def check(self, exchange: Exchange, phase: Phase) -> Verdict:
        self._report_unlimited_login(exchange)
        if self.settings.tokens_in_url:
            names = [
                name
                for name, value in query_pairs(exchange)
                if value and (name.lower() in self.names or value.startswith(JWT_PREFIX))
            ]
            if names:
                event = exchange.event(
                    LAYER,
                    "credential-in-url",
                    "credential sent in the query string",
                    Severity.MEDIUM,
                    evidence={"parameters": sorted(set(names))[:10]},
                )
                return reject(
                    400,
                    "credential-in-url",
                    "credentials must not be sent in the URL",
                    events=(event,),
                )
        if self.settings.weak_jwt:
            token = bearer_token(exchange)
            weakness = self._weakness(token) if token else None
            if weakness == "jwt-weak-key" and not self.settings.reject_weak_key_tokens:
                self._report_weak_key(exchange)
            elif weakness is not None:
                event = exchange.event(
                    LAYER, weakness, "bearer token can be forged", Severity.CRITICAL
                )
                return reject(
                    401,
                    weakness,
                    "invalid token",
                    severity=Severity.CRITICAL,
                    fields=((b"WWW-Authenticate", b'Bearer error="invalid_token"'),),
                    events=(event,),
                )
        return CONTINUE

    def _report_weak_key(self, exchange: Exchange) -> None:
        now = time.monotonic()
        if now - self._weak_key_reported < WEAK_KEY_REPORT_INTERVAL_SECONDS:
            return
        self._weak_key_reported = now
        exchange.events.append(
            exchange.event(
                LAYER,
                "jwt-weak-key",
                "bearer tokens are signed with a well-known weak HMAC key, so "
                "anyone can forge them",
                Severity.CRITICAL,
                action=Action.OBSERVED,
            )
        )

    def _weakness(self, token: str) -> str | None:
        key = hashlib.sha256(token.encode("latin-1", "replace")).hexdigest()
        if key in self._tokens:
            self._tokens.move_to_end(key)
            return self._tokens[key]
        weakness = jwt_weakness(token)
        self._tokens[key] = weakness
        if len(self._tokens) > MAX_CACHED_TOKENS:
            self._tokens.popitem(last=False)
        return weakness

    def _report_unlimited_login(self, exchange: Exchange) -> None:
        if not self.unlimited_logins:
            return
        request = exchange.request
        key = (request.method.decode("latin-1"), request.path.decode("latin-1"))
        login = next(
            (item for item in self.unlimited_logins if (item.method, item.path) == key), None
        )
        if login is not None and key not in self._reported_logins:
            self._reported_logins.add(key)
            exchange.events.append(
                exchange.event(
                    LAYER,
                    "login-without-rate-limit",
                    "login endpoint has no rate limit configured at the gateway",
                    Severity.MEDIUM,
                    action=Action.OBSERVED,
                    evidence={"endpoint": f"{login.method} {login.path}"},
                )
            )


def build_auth_signals_stage(context: RouteContext) -> AuthSignalsStage | None:
    policy = context.policy.protection
    if policy is None or policy.auth_signals is None:
        return None
    unlimited: tuple[LoginEndpoint, ...] = ()
    rate_limit = context.policy.rate_limit
    if (
        policy.auth_signals.login_without_rate_limit
        and policy.abuse is not None
        and (rate_limit is None or not rate_limit.limits)
    ):
        unlimited = tuple(policy.abuse.logins)
    return AuthSignalsStage(policy.auth_signals, unlimited)
