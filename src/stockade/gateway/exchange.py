"""The exchange: one request and its response as they pass the gateway."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stockade.events.model import Action, SecurityEvent, Severity
from stockade.http.messages import RequestHead, ResponseHead

if TYPE_CHECKING:
    from stockade.gateway.routing import RouteMatch


@dataclass(slots=True, init=False)
class ClientInfo:
    """What the listener knows about the client connection."""

    address: str  # the socket peer, or the forwarded client when a trusted proxy sent it
    port: int
    peer_address: str  # always the socket peer
    tls: bool
    sni: str | None
    peer_certificate: dict[str, Any] | None  # ssl.getpeercert() of a verified client
    peer_certificate_der: bytes | None

    def __init__(
        self,
        address: str,
        port: int,
        peer_address: str,
        tls: bool = False,
        sni: str | None = None,
        peer_certificate: dict[str, Any] | None = None,
        peer_certificate_der: bytes | None = None,
    ) -> None:
        # Written out rather than made by @dataclass: mypyc compiles this
        # __init__, while the one @dataclass makes runs interpreted.
        self.address = address
        self.port = port
        self.peer_address = peer_address
        self.tls = tls
        self.sni = sni
        self.peer_certificate = peer_certificate
        self.peer_certificate_der = peer_certificate_der


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


@dataclass(slots=True, init=False)
class VerdictRecord:
    stage: str
    action: str  # "reject" or "detect"
    status: int
    reason: str

    def __init__(self, stage: str, action: str, status: int, reason: str) -> None:
        self.stage = stage
        self.action = action
        self.status = status
        self.reason = reason


@dataclass(slots=True, init=False)
class Exchange:
    request_id: str
    client: ClientInfo
    request: RequestHead
    match: RouteMatch | None
    consumer: Consumer | None
    body: bytes | None  # the whole request body, when a stage asked for it
    body_truncated: bool  # body holds only the first buffer_max_bytes
    capture_bytes: int  # copy up to this many bytes of each streamed body for log observers
    response: ResponseHead | None
    response_body: bytes | None
    response_fields_extra: list[tuple[bytes, bytes]]
    verdicts: list[VerdictRecord]
    events: list[SecurityEvent]
    state: dict[str, Any]  # per-stage scratch data, keyed by stage name
    started: float  # time.perf_counter() when the request head was read
    started_wall: float  # time.time() at the same moment
    upstream_seconds: float | None
    upstream_connect_seconds: float | None  # set when a new connection (and handshake) was made
    finished: float | None
    upstream_target: str | None
    request_bytes: int
    response_bytes: int
    status: int

    def __init__(
        self,
        request_id: str,
        client: ClientInfo,
        request: RequestHead,
        match: RouteMatch | None = None,
        consumer: Consumer | None = None,
        *,
        body: bytes | None = None,
    ) -> None:
        # Written out rather than made by @dataclass: mypyc compiles this
        # __init__, while the one @dataclass makes runs interpreted, and an
        # exchange is made for every request.
        self.request_id = request_id
        self.client = client
        self.request = request
        self.match = match
        self.consumer = consumer
        self.body = body
        self.body_truncated = False
        self.capture_bytes = 0
        self.response = None
        self.response_body = None
        self.response_fields_extra = []
        self.verdicts = []
        self.events = []
        self.state = {}
        self.started = time.perf_counter()
        self.started_wall = time.time()
        self.upstream_seconds = None
        self.upstream_connect_seconds = None
        self.finished = None
        self.upstream_target = None
        self.request_bytes = 0
        self.response_bytes = 0
        self.status = 0

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
