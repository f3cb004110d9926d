"""The DDoS stages: count every request, detect surges, shed load with 503 and Retry-After.

``ddos`` runs at order 120, before authentication, so that shed requests
cost no key lookup, token check or password hash. It counts each request
and judges at once the requests that carry no credential. On a route that
authenticates, a request with a credential is judged by ``ddos.late`` at
order 280, after authentication (200) and authorization (250) and before
the rate limiter (300), once its consumer is known.
"""

from __future__ import annotations

import hashlib
import ipaddress

from stockade.access.client_address import parse_ip
from stockade.auth.config import AuthPolicy
from stockade.ddos.clients import KnownSources
from stockade.ddos.config import DdosPolicy
from stockade.ddos.shedding import Client
from stockade.ddos.state import TrafficStore
from stockade.ddos.state_redis import RedisTrafficStore
from stockade.ddos.tracker import RouteTracker
from stockade.events.model import Severity
from stockade.gateway.exchange import Exchange
from stockade.gateway.pipeline import CONTINUE, Phase, StageRegistry, Verdict, reject
from stockade.gateway.routing import Resources, RouteContext

DDOS_STAGE_ORDER = 120  # before authentication (200): shed requests cost no credential check
DDOS_LATE_STAGE_ORDER = 280  # after authorization (250), before the rate limiter (300)
IPV6_SOURCE_PREFIX = 64  # an IPv6 client counts as its /64, which usually belongs to one host
TRACKERS = "ddos.trackers"
STATE_KEY = "ddos"  # exchange.state: the arrival time of a request left for ddos.late
SHED_MESSAGE = "the service is under heavy load, retry later"

_SHED_KINDS = {
    "unauthenticated": "ddos-shed-unauthenticated",
    "unknown": "ddos-shed-unknown",
    "over_fair_share": "ddos-shed-over-fair-share",
    "source_limit": "ddos-source-limit",
}


class CredentialProbe:
    """Tells, before authentication, whether a request carries a credential of the route."""

    def __init__(self, auth: AuthPolicy) -> None:
        api_key = auth.api_key
        self._header = (
            api_key.header.lower().encode("ascii") if api_key and api_key.header else None
        )
        parameter = api_key.query_parameter if api_key else None
        self._parameter = parameter.encode("ascii") if parameter else None
        self._certificates = auth.mtls is not None

    def carries_credential(self, exchange: Exchange) -> bool:
        fields = exchange.request.fields
        if b"authorization" in fields:
            return True
        if self._header is not None and self._header in fields:
            return True
        if self._certificates and exchange.client.peer_certificate_der is not None:
            return True
        if self._parameter is not None and exchange.request.query:
            return any(
                pair.partition(b"=")[0] == self._parameter
                for pair in exchange.request.query.split(b"&")
            )
        return False


def source_of(exchange: Exchange) -> str:
    """Return the client address; an IPv6 client gives its /64 network."""
    if ":" not in exchange.client.address:
        return exchange.client.address  # IPv4: parsing it would cost more than the rest
    address = parse_ip(exchange.client.address)
    if address is None or address.version == 4:
        return exchange.client.address
    network = ipaddress.IPv6Network((int(address), IPV6_SOURCE_PREFIX), strict=False)
    return f"{network.network_address}/{IPV6_SOURCE_PREFIX}"


class _Shedder:
    """Base of both DDoS stages: the tracker, the shed verdict and the surge events."""

    name = "ddos"
    layer = "ddos"
    phases = frozenset({Phase.REQUEST_HEADERS})
    synchronous = True  # check never awaits

    def __init__(
        self, tracker: RouteTracker, policy: DdosPolicy, probe: CredentialProbe | None
    ) -> None:
        self.tracker = tracker
        self.policy = policy
        self.probe = probe
        self._retry_after = (b"Retry-After", str(policy.shedding.retry_after_seconds).encode())

    def wants_request_body(self, exchange: Exchange) -> bool:
        return False

    def wants_response_body(self, exchange: Exchange) -> bool:
        return False

    def _judge(self, exchange: Exchange, client: Client, now: float) -> Verdict:
        tracker = self.tracker
        reason = tracker.decide(client, self.policy.cost, now)
        self._attach_events(exchange)
        if reason is None:
            return CONTINUE
        kind = _SHED_KINDS[reason]
        limit = tracker.source_limit(now)
        evidence: dict[str, object] = {"class": reason, "cost": self.policy.cost}
        if limit is not None:
            evidence["limit"] = round(limit, 3)
            evidence["rate"] = round(tracker.clients.rate(client.key, now), 3)
        event = exchange.event(
            "ddos", kind, "request shed under load", Severity.LOW, evidence=evidence
        )
        return reject(
            503,
            kind,
            SHED_MESSAGE,
            severity=Severity.LOW,
            fields=(self._retry_after,),
            events=(event,),
        )

    def _attach_events(self, exchange: Exchange) -> None:
        if not self.tracker.events:
            return
        for pending in self.tracker.take_events():
            exchange.events.append(
                exchange.event(
                    "ddos",
                    pending.kind,
                    pending.message,
                    pending.severity,
                    evidence=pending.evidence,
                )
            )


class DdosStage(_Shedder):
    def check(self, exchange: Exchange, phase: Phase) -> Verdict:
        source = source_of(exchange)
        now = self.tracker.arrive(self.policy.cost, source)
        if self.probe is not None and self.probe.carries_credential(exchange):
            exchange.state[STATE_KEY] = now
            self._attach_events(exchange)
            return CONTINUE
        return self._judge(exchange, Client("ip=" + source, source, False), now)


class DdosLateStage(_Shedder):
    name = "ddos.late"

    def check(self, exchange: Exchange, phase: Phase) -> Verdict:
        arrived = exchange.state.pop(STATE_KEY, None)
        if arrived is None:
            return CONTINUE  # judged before authentication
        source = source_of(exchange)
        consumer = exchange.consumer
        if consumer is not None:
            client = Client("c=" + _digest(consumer.id), source, True)
        else:
            client = Client("ip=" + source, source, False)
        return self._judge(exchange, client, self.tracker.clock())


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def tracker_for(context: RouteContext, policy: DdosPolicy, authenticating: bool) -> RouteTracker:
    """Return the route's tracker, kept across reloads while its policy stays the same."""
    resources = context.resources
    trackers: dict[tuple[str, str, str], RouteTracker] = resources.get_or_create(TRACKERS, dict)
    key = (context.tenant.id, context.service.id, context.route.id)
    tracker = trackers.get(key)
    if (
        tracker is not None
        and tracker.policy == policy
        and tracker.authenticating == authenticating
    ):
        return tracker
    known: KnownSources = resources.get_or_create(
        f"ddos.known:{context.tenant.id}:{policy.known_source_seconds}",
        lambda: KnownSources(policy.known_source_seconds),
    )
    store = _store_for(resources, policy) if policy.store == "redis" else None
    tracker = RouteTracker(
        context.tenant.id,
        f"{context.service.id}/{context.route.id}",
        policy,
        known,
        store,
        authenticating=authenticating,
    )
    trackers[key] = tracker
    return tracker


def _store_for(resources: Resources, policy: DdosPolicy) -> TrafficStore:
    digest = hashlib.sha256(policy.model_dump_json().encode()).hexdigest()[:16]
    store: TrafficStore = resources.get_or_create(
        f"ddos.redis:{digest}", lambda: RedisTrafficStore(policy)
    )
    return store


def _probe(context: RouteContext) -> CredentialProbe | None:
    auth = context.policy.auth
    return CredentialProbe(auth) if auth is not None and auth.any_method() else None


def build_ddos_stage(context: RouteContext) -> DdosStage | None:
    policy = context.policy.ddos
    if policy is None:
        return None
    probe = _probe(context)
    return DdosStage(tracker_for(context, policy, probe is not None), policy, probe)


def build_ddos_late_stage(context: RouteContext) -> DdosLateStage | None:
    policy = context.policy.ddos
    probe = _probe(context)
    if policy is None or probe is None:
        return None
    return DdosLateStage(tracker_for(context, policy, True), policy, probe)


def register(registry: StageRegistry) -> None:
    registry.register(DDOS_STAGE_ORDER, "ddos", build_ddos_stage)
    registry.register(DDOS_LATE_STAGE_ORDER, "ddos.late", build_ddos_late_stage)
