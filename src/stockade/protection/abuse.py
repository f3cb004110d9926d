"""Abuse of login endpoints and scraping, OWASP API4 and API6:2023. Layer ``abuse``.

Each declared login endpoint says how its answer shows success: a status,
a response field, and a top-level JSON member (many APIs answer a failed
login with 200 and ``"ok": false``). Failures are counted per client
address and per username in a window, with the distinct usernames each
address failed on and the distinct addresses each username failed from;
attempts are counted per address for the failure ratio and the velocity.
Past a threshold, further attempts get 429 until the window passes.

Scraping and enumeration: for each watched query or path parameter, the
distinct values one consumer (or address) sends in a window.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import quote

from stockade.events.model import Severity
from stockade.gateway.exchange import Exchange
from stockade.gateway.pipeline import CONTINUE, Phase, Verdict, reject
from stockade.gateway.routing import RouteContext
from stockade.protection.config import AbuseProtection, IdentitySettings, LoginEndpoint
from stockade.protection.identity import caller_of
from stockade.protection.inputs import MISSING, form_or_json_field, query_pairs, response_json
from stockade.protection.openapi.lookup import document_for, operation_of
from stockade.protection.openapi.operations import CompiledDocument
from stockade.protection.shared import ErrorLog, state_for
from stockade.protection.state import ProtectionState, StateUnavailable

LAYER = "abuse"
MAX_USERNAME_CHARS = 256
"""Longer usernames are cut before they are counted."""
USERNAME_KEY = "protection.abuse.username"
MAX_DISTINCT_READ = 1_000_000
"""Cap passed when only reading the size of a distinct set; real sets stay far smaller."""


def login_succeeded(login: LoginEndpoint, exchange: Exchange) -> bool | None:
    """Tell from the response whether the login succeeded; every configured test must hold.

    Returns None when the JSON member must be read but the body cannot be
    (compressed, cut at the buffer, or not JSON), so the outcome is unknown.
    """
    response = exchange.response
    if response is None:
        return False
    rule = login.success
    if response.status not in rule.status:
        return False
    if (
        rule.header is not None
        and response.fields.get(rule.header.lower().encode("latin-1")) is None
    ):
        return False
    if rule.json_field is not None:
        document = response_json(exchange)
        if document is MISSING:
            return None
        if not isinstance(document, dict):
            return False
        return bool(document.get(rule.json_field) == rule.json_value)
    return True


@dataclass(frozen=True, slots=True)
class LoginCounts:
    """The counters of one login attempt's address and username in the current windows."""

    attempts: int  # attempts from the address, this one included
    velocity: int  # attempts from the address in the short velocity window
    failures_ip: int
    failures_user: int
    users_per_ip: int  # distinct usernames the address failed on
    ips_per_user: int  # distinct addresses the username failed from


def login_findings(settings: AbuseProtection, counts: LoginCounts) -> list[tuple[str, str]]:
    """Return (reason, description) of every threshold the counts reach; the first is reported."""
    findings: list[tuple[str, str]] = []
    if counts.failures_ip >= settings.max_failures_per_ip:
        findings.append(("brute-force", f"{counts.failures_ip} failed logins from this address"))
    if counts.failures_user >= settings.max_failures_per_username:
        text = f"{counts.failures_user} failed logins for this username"
        findings.append(("account-brute-force", text))
    if counts.users_per_ip >= settings.max_usernames_per_ip:
        text = f"failed logins for {counts.users_per_ip} usernames from this address"
        findings.append(("credential-stuffing", text))
    if counts.ips_per_user >= settings.max_ips_per_username:
        text = f"failed logins for this username from {counts.ips_per_user} addresses"
        findings.append(("distributed-brute-force", text))
    ratio_counted = counts.attempts >= settings.failure_ratio_min_attempts
    if ratio_counted and counts.failures_ip / counts.attempts >= settings.failure_ratio:
        text = f"{counts.failures_ip} of {counts.attempts} logins from this address failed"
        findings.append(("credential-stuffing", text))
    if counts.velocity > settings.max_attempts_per_ip_velocity:
        text = (f"{counts.velocity} logins within {settings.velocity_window_seconds:g} s "
                "from this address")
        findings.append(("login-velocity", text))
    return findings


class AbuseStage:
    name = "protection.abuse"
    layer = LAYER
    phases = frozenset(
        {Phase.REQUEST_HEADERS, Phase.REQUEST_BODY, Phase.RESPONSE_HEADERS, Phase.RESPONSE_BODY}
    )

    def __init__(
        self,
        settings: AbuseProtection,
        identity: IdentitySettings,
        state: ProtectionState,
        prefix: str,
        tenant: str,
        document: CompiledDocument | None,
    ) -> None:
        self.settings = settings
        self.identity = identity
        self.state = state
        self.prefix = f"{prefix}:{{{quote(tenant, safe='')}}}:abuse"
        self.document = document
        self.logins = {(login.method, login.path): login for login in settings.logins}
        self._errors = ErrorLog("the abuse state store")

    def _login(self, exchange: Exchange) -> LoginEndpoint | None:
        request = exchange.request
        return self.logins.get((request.method.decode("latin-1"), request.path.decode("latin-1")))

    def wants_request_body(self, exchange: Exchange) -> bool:
        return self._login(exchange) is not None

    def wants_response_body(self, exchange: Exchange) -> bool:
        login = self._login(exchange)
        return login is not None and login.success.json_field is not None

    async def check(self, exchange: Exchange, phase: Phase) -> Verdict:
        try:
            if phase is Phase.REQUEST_HEADERS:
                return await self._check_parameters(exchange)
            login = self._login(exchange)
            if login is None:
                return CONTINUE
            if phase is Phase.REQUEST_BODY:
                return await self._check_login(exchange, login)
            wants_body = login.success.json_field is not None
            if (phase is Phase.RESPONSE_BODY) == wants_body:
                await self._record_outcome(exchange, login)
        except StateUnavailable as error:
            self._errors.report(error)
        return CONTINUE

    def _key(self, *parts: str) -> str:
        return ":".join([self.prefix, *(quote(part, safe="") for part in parts)])

    async def _check_login(self, exchange: Exchange, login: LoginEndpoint) -> Verdict:
        username = (form_or_json_field(exchange, login.username_field) or "")[:MAX_USERNAME_CHARS]
        exchange.state[USERNAME_KEY] = username
        counts = await self._login_counts(exchange.client.address, username)
        findings = login_findings(self.settings, counts)
        if not findings:
            return CONTINUE

        reason = findings[0][0]
        event = exchange.event(
            LAYER,
            reason,
            "; ".join(text for _, text in findings),
            Severity.CRITICAL,
            evidence={
                "findings": [kind for kind, _ in findings],
                "endpoint": f"{login.method} {login.path}",
                "username_sha256_prefix": _digest(username),
            },
        )
        retry = str(int(self.settings.window_seconds)).encode("ascii")
        return reject(
            429,
            reason,
            "too many login attempts",
            severity=Severity.CRITICAL,
            fields=((b"Retry-After", retry),),
            events=(event,),
        )

    async def _login_counts(self, ip: str, username: str) -> LoginCounts:
        """Count this attempt and read every login counter of its address and username."""
        settings = self.settings
        window = settings.window_seconds
        attempts = await self.state.count(self._key("attempts", ip), window)
        velocity = await self.state.count(
            self._key("velocity", ip), settings.velocity_window_seconds
        )
        counters = [(self._key("fail-ip", ip), window)]
        if username:
            counters.append((self._key("fail-user", username), window))
        values = await self.state.peek(counters)
        return LoginCounts(
            attempts=attempts,
            velocity=velocity,
            failures_ip=values[0],
            failures_user=values[1] if username else 0,
            users_per_ip=await self._distinct_size("users-ip", ip),
            ips_per_user=await self._distinct_size("ips-user", username) if username else 0,
        )

    async def _distinct_size(self, name: str, value: str) -> int:
        # The state store has no plain read of a set's size: adding the empty marker, which
        # is never a real member, grows it by one at most, and that one is subtracted.
        size = await self.state.add_distinct(
            self._key(name, value), "", self.settings.window_seconds, MAX_DISTINCT_READ
        )
        return max(0, size - 1)

    async def _record_outcome(self, exchange: Exchange, login: LoginEndpoint) -> None:
        if login_succeeded(login, exchange) is not False:  # a success, or unknown
            return
        settings = self.settings
        window = settings.window_seconds
        ip = exchange.client.address
        username = exchange.state.get(USERNAME_KEY) or ""
        await self.state.count(self._key("fail-ip", ip), window)
        if username:
            await self.state.count(self._key("fail-user", username), window)
            cap = max(settings.max_usernames_per_ip, settings.max_ips_per_username) + 2
            await self.state.add_distinct(self._key("users-ip", ip), username, window, cap)
            await self.state.add_distinct(self._key("ips-user", username), ip, window, cap)

    async def _check_parameters(self, exchange: Exchange) -> Verdict:
        for watch in self.settings.parameters:
            place, _, name = watch.parameter.partition(":")
            value = self._parameter(exchange, place, name)
            if value is None:
                continue
            caller = caller_of(exchange, self.identity)
            who = (
                f"c:{caller.id}"
                if watch.key == "consumer" and caller is not None
                else f"ip:{exchange.client.address}"
            )
            size = await self.state.add_distinct(
                self._key("param", watch.parameter, who),
                value,
                watch.window_seconds,
                watch.distinct,
            )
            if size >= watch.distinct:
                event = exchange.event(
                    LAYER,
                    "parameter-enumeration",
                    f"{size} distinct values of {watch.parameter} within "
                    f"{watch.window_seconds:g} s",
                    Severity.HIGH,
                    evidence={"parameter": watch.parameter},
                )
                return reject(
                    429,
                    "parameter-enumeration",
                    "too many requests",
                    severity=Severity.HIGH,
                    events=(event,),
                )
        return CONTINUE

    def _parameter(self, exchange: Exchange, place: str, name: str) -> str | None:
        if place == "query":
            return next((value for key, value in query_pairs(exchange) if key == name), None)
        if self.document is not None:
            match = operation_of(exchange, self.document)
            if match is not None and name in match.params:
                return match.params[name]
        params = exchange.match.params if exchange.match is not None else {}
        return params.get(name)


def _digest(username: str) -> str:
    return hashlib.sha256(username.encode("utf-8", "replace")).hexdigest()[:12]


def build_abuse_stage(context: RouteContext) -> AbuseStage | None:
    policy = context.policy.protection
    if policy is None or policy.abuse is None:
        return None
    if not policy.abuse.logins and not policy.abuse.parameters:
        return None
    return AbuseStage(
        policy.abuse,
        policy.identity,
        state_for(context.resources, policy.state),
        policy.state.key_prefix,
        context.tenant.id,
        document_for(context),
    )
