"""The exchange: one request and its response as they pass the gateway."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stockade.events.model import Action, SecurityEvent, Severity
from stockade.http.messages import RequestHead, ResponseHead

if TYPE_CHECKING:
    from stockade.gateway.routing import RouteMatch


@dataclass(slots=True)
class ClientInfo:
    """What the listener knows about the client connection."""

    address: str  # the socket peer, or the forwarded client when a trusted proxy sent it
    port: int
    peer_address: str  # always the socket peer
    tls: bool = False
    sni: str | None = None
    peer_certificate: dict[str, Any] | None = None  # ssl.getpeercert() of a verified client
    peer_certificate_der: bytes | None = None


@dataclass(slots=True)
class Consumer:
    """The API client an authentication stage identified."""

    id: str
    tenant: str
    groups: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    claims: dict[str, Any] = field(default_factory=dict)
    credential: str | None = None  # which credential matched, e.g. "api-key:k1" (never the secret)
    auth_method: str | None = None


@dataclass(slots=True)
class VerdictRecord:
    stage: str
    action: str  # "reject" or "detect"
    status: int
    reason: str


@dataclass(slots=True)
class Exchange:
    request_id: str
    client: ClientInfo
    request: RequestHead
    match: RouteMatch | None = None
    consumer: Consumer | None = None
    body: bytes | None = None  # the whole request body, when a stage asked for it
    body_truncated: bool = False  # body holds only the first buffer_max_bytes
    capture_bytes: int = 0  # copy up to this many bytes of each streamed body for log observers
    response: ResponseHead | None = None
    response_body: bytes | None = None
    response_fields_extra: list[tuple[bytes, bytes]] = field(default_factory=list)
    verdicts: list[VerdictRecord] = field(default_factory=list)
    events: list[SecurityEvent] = field(default_factory=list)
    state: dict[str, Any] = field(
        default_factory=dict
    )  # per-stage scratch data, keyed by stage name
    started: float = field(default_factory=time.perf_counter)
    started_wall: float = field(default_factory=time.time)
    upstream_seconds: float | None = None
    upstream_connect_seconds: float | None = (
        None  # set when a new connection (and handshake) was made
    )
    finished: float | None = None
    upstream_target: str | None = None
    request_bytes: int = 0
    response_bytes: int = 0
    status: int = 0

    @property
    def duration(self) -> float:
        end = self.finished if self.finished is not None else time.perf_counter()
        return end - self.started

    @property
    def tenant_id(self) -> str | None:
        return self.match.tenant.id if self.match else None

    @property
    def service_id(self) -> str | None:
        return self.match.service.id if self.match else None

    @property
    def route_id(self) -> str | None:
        return self.match.route.id if self.match else None

    def event(
        self,
        layer: str,
        kind: str,
        message: str,
        severity: Severity = Severity.MEDIUM,
        *,
        action: Action = Action.OBSERVED,
        rule_ids: list[str] | None = None,
        evidence: dict[str, Any] | None = None,
    ) -> SecurityEvent:
        """Build a security event about this exchange (not yet recorded)."""
        return SecurityEvent(
            tenant=self.tenant_id or "-",
            layer=layer,
            kind=kind,
            severity=severity,
            action=action,
            message=message,
            service=self.service_id,
            route=self.route_id,
            request_id=self.request_id,
            client_ip=self.client.address,
            consumer=self.consumer.id if self.consumer else None,
            method=self.request.method.decode("latin-1"),
            path=self.request.path.decode("latin-1"),
            rule_ids=rule_ids or [],
            evidence=evidence or {},
        )
