"""The CSRF stage: checks unsafe requests that carry ambient credentials, and issues tokens.

For each POST, PUT, PATCH or DELETE that carries a cookie, cached Basic
credentials or a client certificate (and no bearer token or API key), the
stage checks in turn:

1. where the request comes from (``checks.OriginRule``), 403 when not allowed;
2. on routes that take only JSON, that the body is not one a browser sends
   cross-site without a preflight, 415 otherwise;
3. with a token mode, that the token field matches the token cookie, 403 otherwise.

It runs after authentication, so it can see how the consumer authenticated,
and before rate limiting. With a token mode it also sets the token cookie on
responses of the route whenever the client has no valid one.
"""

from __future__ import annotations

import logging
import time

from stockade.csrf.ambient import ambient_credentials, carries_header_credential
from stockade.csrf.checks import UNSAFE_METHODS, OriginRule, SourceCheck
from stockade.csrf.config import CsrfPolicy, CsrfToken
from stockade.csrf.content_types import JsonOnlyRule, is_simple, media_type
from stockade.csrf.cookies import cookie_values, request_cookies, set_cookie
from stockade.csrf.origins import parse_origins
from stockade.csrf.tokens import TokenCheck, TokenCodec, build_codec, check_request_token
from stockade.events.model import SecurityEvent, Severity
from stockade.gateway.exchange import Exchange
from stockade.gateway.pipeline import CONTINUE, Phase, StageRegistry, Verdict, reject
from stockade.gateway.routing import RouteContext

log = logging.getLogger(__name__)

CSRF_STAGE_ORDER = 260  # after authentication (200) and authorization (250), before rate limits
REJECT_MESSAGE = "cross-site request rejected"
CONTENT_TYPE_MESSAGE = "this content type is not accepted here; send JSON"


class CsrfStage:
    name = "csrf"
    layer = "csrf"
    phases = frozenset({Phase.REQUEST_HEADERS})
    synchronous = True  # check never awaits

    def __init__(
        self,
        policy: CsrfPolicy,
        origins: OriginRule,
        json_only: JsonOnlyRule,
        codec: TokenCodec | None,
    ) -> None:
        self.policy = policy
        self.origins = origins
        self.json_only = json_only
        self.codec = codec
        self._token: CsrfToken | None = policy.token
        self._token_cookie = policy.token.cookie.name.encode("ascii") if policy.token else b""
        self._token_header = policy.token.header.lower().encode("ascii") if policy.token else b""
        self._session_cookie = (
            policy.token.session_cookie.encode("ascii")
            if policy.token and policy.token.session_cookie
            else None
        )
        self._session_cookies = frozenset(name.encode("ascii") for name in policy.session_cookies)
        self._allowed_types = frozenset(policy.allow_content_types)

    def wants_request_body(self, exchange: Exchange) -> bool:
        return False

    def wants_response_body(self, exchange: Exchange) -> bool:
        return False

    def check(self, exchange: Exchange, phase: Phase) -> Verdict:
        cookies = request_cookies(exchange.request.fields)
        tokens = cookie_values(cookies, self._token_cookie) if self._token else []
        binding = self._binding(cookies)
        events: tuple[SecurityEvent, ...] = ()
        if exchange.request.method in UNSAFE_METHODS:
            credentials = self._credentials(exchange, cookies)
            if self.policy.check_all_requests or credentials:
                verdict = self._check_unsafe(exchange, credentials, tokens, binding)
                if verdict.reject:
                    return verdict
                events = verdict.events
        fields = self._token_fields(exchange, tokens, binding)
        if not fields and not events:
            return CONTINUE
        return Verdict(fields=fields, events=events)

    def _credentials(self, exchange: Exchange, cookies: list[tuple[bytes, bytes]]) -> list[str]:
        if carries_header_credential(exchange):
            return []
        names = [name for name, _ in cookies if name != self._token_cookie]
        return ambient_credentials(exchange, self.policy.credentials, names, self._session_cookies)

    def _check_unsafe(
        self,
        exchange: Exchange,
        credentials: list[str],
        tokens: list[bytes],
        binding: bytes | None,
    ) -> Verdict:
        source = self.origins.check(exchange)
        lax_events: tuple[SecurityEvent, ...] = ()
        if not source.passed:
            if source.reason == "csrf-no-source" and self.policy.strictness == "lax":
                lax_events = (self._event(exchange, source, credentials, Severity.LOW),)
            else:
                event = self._event(exchange, source, credentials, Severity.MEDIUM)
                return reject(403, source.reason, REJECT_MESSAGE, events=(event,))

        body_type = media_type(exchange)
        if (
            body_type is not None
            and is_simple(body_type)
            and body_type not in self._allowed_types
            and self.json_only.applies(exchange)
        ):
            event = exchange.event(
                "csrf",
                "csrf-simple-content-type",
                "a body type browsers send cross-site without preflight, on a JSON-only route",
                Severity.MEDIUM,
                evidence={"content_type": body_type, "credentials": credentials},
            )
            return reject(415, "csrf-simple-content-type", CONTENT_TYPE_MESSAGE, events=(event,))

        if self.codec is not None:
            sent = exchange.request.fields.get(self._token_header)
            outcome = check_request_token(self.codec, sent, tokens, binding)
            if outcome is not TokenCheck.VALID:
                event = exchange.event(
                    "csrf",
                    outcome.value,
                    "CSRF token check failed",
                    Severity.MEDIUM,
                    evidence={"credentials": credentials, "token_cookies": len(tokens)},
                )
                # A fresh cookie comes with the rejection, so the page can retry with it.
                return reject(
                    403,
                    outcome.value,
                    REJECT_MESSAGE,
                    events=(event,),
                    fields=self._issue(exchange, binding, safe=False),
                )
        return Verdict(events=lax_events)

    def _token_fields(
        self, exchange: Exchange, tokens: list[bytes], binding: bytes | None
    ) -> tuple[tuple[bytes, bytes], ...]:
        codec = self.codec
        if codec is None:
            return ()
        now = time.time()
        safe = exchange.request.method not in UNSAFE_METHODS
        for value in tokens:
            if codec.check_cookie(value, binding, now) is TokenCheck.VALID and not codec.renew_due(
                value, now
            ):
                return self._expose(value.decode("ascii")) if safe else ()
        return self._issue(exchange, binding, safe)

    def _issue(
        self, exchange: Exchange, binding: bytes | None, safe: bool
    ) -> tuple[tuple[bytes, bytes], ...]:
        token = self._token
        codec = self.codec
        if token is None or codec is None:
            return ()
        value = codec.issue(binding, time.time())
        cookie = set_cookie(token.cookie, value, token.max_age_seconds)
        return (cookie, *self._expose(value)) if safe else (cookie,)

    def _expose(self, value: str) -> tuple[tuple[bytes, bytes], ...]:
        """Send the token in a response field when scripts cannot read the HttpOnly cookie."""
        token = self._token
        if token is None or not token.cookie.http_only:
            return ()
        return ((token.header.encode("ascii"), value.encode("ascii")),)

    def _binding(self, cookies: list[tuple[bytes, bytes]]) -> bytes | None:
        if self._session_cookie is None:
            return None
        values = cookie_values(cookies, self._session_cookie)
        return values[0] if values else None

    @staticmethod
    def _event(
        exchange: Exchange, source: SourceCheck, credentials: list[str], severity: Severity
    ) -> SecurityEvent:
        messages = {
            "csrf-cross-site": "cross-site request from an origin that is not allowed",
            "csrf-origin-not-allowed": "Origin is not an allowed origin",
            "csrf-referer-not-allowed": "Referer is not from an allowed origin",
            "csrf-no-source": "unsafe request without Sec-Fetch-Site, Origin or Referer",
        }
        evidence: dict[str, object] = {"source": source.source, "credentials": credentials}
        evidence.update(source.evidence)
        return exchange.event(
            "csrf", source.reason, messages[source.reason], severity, evidence=evidence
        )


def build_csrf_stage(context: RouteContext) -> CsrfStage | None:
    policy = context.policy.csrf
    if policy is None:
        return None
    allowed = set(policy.allowed_origins)
    if policy.allow_cors_origins and context.policy.cors is not None:
        allowed.update(origin for origin in context.policy.cors.allow_origins if origin != "*")
    origins = OriginRule(parse_origins(allowed), policy.allow_same_origin)
    json_only = JsonOnlyRule.build(policy.json_only, context)
    codec = None
    if policy.token is not None:
        codec = build_codec(policy.token, f"{context.tenant.id}/{context.service.id}")
    return CsrfStage(policy, origins, json_only, codec)


def register(registry: StageRegistry) -> None:
    registry.register(CSRF_STAGE_ORDER, "csrf", build_csrf_stage)
