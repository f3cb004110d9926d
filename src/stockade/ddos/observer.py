"""The log-phase observer that feeds upstream latency and errors into the route baselines.

It runs after the response is sent and only adds numbers to the route's
current bucket in memory, so it never delays or fails a request.
"""

from __future__ import annotations

from collections.abc import Callable

from stockade.config.models import GatewayConfig
from stockade.ddos.stage import TRACKERS
from stockade.ddos.tracker import RouteTracker
from stockade.events.model import SecurityEvent
from stockade.gateway.exchange import Exchange
from stockade.gateway.routing import Resources

UPSTREAM_FAILURE_KINDS = frozenset(
    {"upstream-failure", "upstream-tls-failure", "upstream-overloaded"}
)
"""Events of the proxy for an upstream that failed, timed out or had no free slot."""


class DdosObserver:
    def __init__(self, resources: Resources) -> None:
        self.resources = resources

    def observe(self, exchange: Exchange) -> None:
        match = exchange.match
        if match is None or match.policy.ddos is None:
            return
        trackers: dict[tuple[str, str, str], RouteTracker] | None = self.resources.items.get(
            TRACKERS
        )
        if not trackers:
            return
        tracker = trackers.get((match.tenant.id, match.service.id, match.route.id))
        if tracker is None:
            return
        outcome = upstream_outcome(exchange)
        if outcome is not None:
            tracker.outcome(*outcome)


def upstream_outcome(exchange: Exchange) -> tuple[float, bool] | None:
    """Return (latency in seconds, error) when the exchange went to the upstream, else None."""
    if exchange.upstream_seconds is not None:
        response = exchange.response
        status = response.status if response is not None else exchange.status
        return exchange.upstream_seconds, status >= 500
    if any(event.kind in UPSTREAM_FAILURE_KINDS for event in exchange.events):
        return exchange.duration, True
    return None


def create_observer(
    config: GatewayConfig, resources: Resources, emit: Callable[[SecurityEvent], None]
) -> DdosObserver:
    return DdosObserver(resources)
