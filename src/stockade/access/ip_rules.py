"""The IP access stage: allow and deny lists of client networks."""

from __future__ import annotations

from stockade.access.client_address import parse_ip
from stockade.access.config import AccessPolicy
from stockade.access.ipset import IpSet
from stockade.events.model import Severity
from stockade.gateway.exchange import Exchange
from stockade.gateway.pipeline import CONTINUE, Phase, Verdict, reject
from stockade.gateway.routing import RouteContext

IP_STAGE_ORDER = 100


class IpAccessStage:
    name = "access.ip"
    layer = "access"
    phases = frozenset({Phase.REQUEST_HEADERS})
    synchronous = True  # check never awaits

    def __init__(self, policy: AccessPolicy) -> None:
        self._allow = IpSet(policy.ip_allow)
        self._deny = IpSet(policy.ip_deny)

    def wants_request_body(self, exchange: Exchange) -> bool:
        return False

    def wants_response_body(self, exchange: Exchange) -> bool:
        return False

    def check(self, exchange: Exchange, phase: Phase) -> Verdict:
        # The listener has already taken the address from X-Forwarded-For when a trusted proxy
        # sent the request (see resolve_client_address).
        address = parse_ip(exchange.client.address)
        if address is not None and self._deny.contains(address):
            return self._reject(exchange, "ip-denied", "client address is in the deny list")
        if self._allow and (address is None or not self._allow.contains(address)):
            return self._reject(
                exchange, "ip-not-allowed", "client address is not in the allow list"
            )
        return CONTINUE

    @staticmethod
    def _reject(exchange: Exchange, reason: str, message: str) -> Verdict:
        event = exchange.event(
            "access",
            reason,
            message,
            Severity.MEDIUM,
            evidence={"client_ip": exchange.client.address, "peer": exchange.client.peer_address},
        )
        return reject(403, reason, "forbidden", events=(event,))


def build_ip_stage(context: RouteContext) -> IpAccessStage | None:
    policy = context.policy.access
    if policy is None or not policy.has_ip_rules():
        return None
    return IpAccessStage(policy)
