"""The CORS stage: responds to preflight requests and adds CORS fields for allowed origins.

An allowed origin is echoed only when it is in the configured list; the
config rejects ``*`` together with credentials, so no origin outside the list
is ever granted credentialed access. Preflights are answered by the gateway
with 204 and never reach the upstream or the authentication stage, because
browsers send them without credentials.
"""

from __future__ import annotations

from stockade.access.config import CorsPolicy
from stockade.events.model import Severity
from stockade.gateway.exchange import Exchange
from stockade.gateway.pipeline import CONTINUE, Phase, Verdict, reject
from stockade.gateway.routing import RouteContext

CORS_STAGE_ORDER = 120  # before authentication: preflights carry no credentials
MAX_REQUESTED_HEADERS = 64  # field names listed in one Access-Control-Request-Headers
_VARY = (b"Vary", b"Origin")


class CorsStage:
    name = "cors"
    layer = "cors"
    phases = frozenset({Phase.REQUEST_HEADERS})
    synchronous = True  # check never awaits

    def __init__(self, policy: CorsPolicy) -> None:
        self.policy = policy
        self._any_origin = "*" in policy.allow_origins
        self._origins = frozenset(
            origin.encode("ascii") for origin in policy.allow_origins if origin != "*"
        )
        self._methods = frozenset(method.encode("ascii") for method in policy.allow_methods)
        self._headers = frozenset(name.lower().encode("ascii") for name in policy.allow_headers)
        self._preflight_fields = self._build_preflight_fields()

    def wants_request_body(self, exchange: Exchange) -> bool:
        return False

    def wants_response_body(self, exchange: Exchange) -> bool:
        return False

    def check(self, exchange: Exchange, phase: Phase) -> Verdict:
        fields = exchange.request.fields
        origin = fields.get(b"origin")
        if origin is None:
            return CONTINUE
        allowed = self._any_origin or origin.lower() in self._origins
        requested_method = fields.get(b"access-control-request-method")
        if exchange.request.method == b"OPTIONS" and requested_method is not None:
            return self._preflight(exchange, origin, allowed, requested_method)
        if not allowed:
            return CONTINUE if self._any_origin else Verdict(fields=(_VARY,))
        return Verdict(fields=self._origin_fields(origin) + self._expose_fields())

    def _preflight(
        self, exchange: Exchange, origin: bytes, allowed: bool, method: bytes
    ) -> Verdict:
        if not allowed:
            return self._deny(exchange, "cors-origin-not-allowed", origin)
        if method not in self._methods:
            return self._deny(exchange, "cors-method-not-allowed", origin)
        requested = b",".join(exchange.request.fields.get_all(b"access-control-request-headers"))
        names = [name.strip().lower() for name in requested.split(b",") if name.strip()]
        if len(names) > MAX_REQUESTED_HEADERS or any(name not in self._headers for name in names):
            return self._deny(exchange, "cors-header-not-allowed", origin)
        # NOTE: a reject verdict is the only early response a stage has, so the pipeline records an
        # INFO event for every preflight; a non-event "respond" verdict would avoid that.
        event = exchange.event(
            "cors", "cors-preflight", "preflight answered by the gateway", Severity.INFO
        )
        return reject(
            204,
            "cors-preflight",
            "",
            severity=Severity.INFO,
            events=(event,),
            fields=self._origin_fields(origin) + self._preflight_fields,
        )

    def _origin_fields(self, origin: bytes) -> tuple[tuple[bytes, bytes], ...]:
        if self._any_origin:
            return ((b"Access-Control-Allow-Origin", b"*"),)
        fields: tuple[tuple[bytes, bytes], ...] = ((b"Access-Control-Allow-Origin", origin), _VARY)
        if self.policy.allow_credentials:
            fields += ((b"Access-Control-Allow-Credentials", b"true"),)
        return fields

    def _expose_fields(self) -> tuple[tuple[bytes, bytes], ...]:
        if not self.policy.expose_headers:
            return ()
        return (
            (
                b"Access-Control-Expose-Headers",
                ", ".join(self.policy.expose_headers).encode("ascii"),
            ),
        )

    def _build_preflight_fields(self) -> tuple[tuple[bytes, bytes], ...]:
        policy = self.policy
        fields = [
            (b"Access-Control-Allow-Methods", ", ".join(policy.allow_methods).encode("ascii")),
            (b"Access-Control-Max-Age", str(policy.max_age_seconds).encode("ascii")),
        ]
        if policy.allow_headers:
            fields.append(
                (b"Access-Control-Allow-Headers", ", ".join(policy.allow_headers).encode("ascii"))
            )
        return tuple(fields)

    @staticmethod
    def _deny(exchange: Exchange, reason: str, origin: bytes) -> Verdict:
        event = exchange.event(
            "cors",
            reason,
            "preflight rejected",
            Severity.LOW,
            evidence={"origin": origin[:256].decode("latin-1")},
        )
        return reject(
            403, reason, "forbidden", severity=Severity.LOW, events=(event,), fields=(_VARY,)
        )


def build_cors_stage(context: RouteContext) -> CorsStage | None:
    policy = context.policy.cors
    return CorsStage(policy) if policy is not None else None
