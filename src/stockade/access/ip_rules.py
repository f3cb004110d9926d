"""The IP access stage: allow and deny lists of client networks."""

from __future__ import annotations

from collections.abc import Sequence

from stockade.access.client_address import IPNetwork, parse_ip, resolve_client_address
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

    def __init__(self, policy: AccessPolicy | None, trusted_proxies: Sequence[IPNetwork]) -> None:
        self._allow = IpSet(policy.ip_allow if policy else ())
        self._deny = IpSet(policy.ip_deny if policy else ())
        self._trusted = tuple(trusted_proxies)

    def wants_request_body(self, exchange: Exchange) -> bool:
        return False

    def wants_response_body(self, exchange: Exchange) -> bool:
        return False

    def check(self, exchange: Exchange, phase: Phase) -> Verdict:
        client = exchange.client
        if self._trusted and client.address == client.peer_address:
            # NOTE: the listener should resolve the address once; this covers listeners that do not.
            forwarded = b",".join(exchange.request.fields.get_all(b"x-forwarded-for")) or None
            client.address = resolve_client_address(client.peer_address, forwarded, self._trusted)
        if not self._allow and not self._deny:
            return CONTINUE
        address = parse_ip(client.address)
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
    trusted = context.config.trusted_proxies
    if not trusted and (policy is None or not policy.has_ip_rules()):
        return None
    return IpAccessStage(policy, trusted)
