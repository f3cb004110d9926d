"""A settable clock and helpers that drive a RouteTracker with synthetic traffic."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stockade.ddos.clients import KnownSources
from stockade.ddos.config import DdosPolicy
from stockade.ddos.shedding import Client
from stockade.ddos.state import TrafficStore
from stockade.ddos.tracker import RouteTracker


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def policy(**settings: Any) -> DdosPolicy:
    base: dict[str, Any] = {
        "bucket_seconds": 0.5,
        "baseline_seconds": 10,
        "warmup_seconds": 2,
        "detection": {"window_seconds": 1.0, "rate_multiplier": 4, "rate_floor": 20},
        "release": {"quiet_seconds": 2, "relax_seconds": 4},
        "shedding": {"escalate_seconds": 1},
    }
    for key, value in settings.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return DdosPolicy.model_validate(base)


def tracker(
    clock: Clock,
    shared: TrafficStore | None = None,
    *,
    authenticating: bool = True,
    known: KnownSources | None = None,
    **settings: Any,
) -> RouteTracker:
    rules = policy(**settings)
    known = known or KnownSources(rules.known_source_seconds)
    return RouteTracker(
        "acme", "api/default", rules, known, shared, clock, authenticating=authenticating
    )


def anonymous(source: str) -> Client:
    return Client("ip=" + source, source, False)


def consumer(name: str, source: str = "127.0.0.1") -> Client:
    return Client("c=" + name, source, True)


@dataclass
class Tally:
    served: int = 0
    shed: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.served + sum(self.shed.values())


def drive(
    route: RouteTracker,
    clock: Clock,
    seconds: float,
    per_second: float,
    client_of: Callable[[int], Client],
    *,
    cost: float = 1.0,
    latency: float | None = None,
    error: bool = False,
) -> Tally:
    """Send ``per_second`` requests for ``seconds``, evenly spaced; return what happened."""
    tally = Tally()
    count = round(seconds * per_second)
    step = 1.0 / per_second
    for index in range(count):
        clock.now += step
        client = client_of(index)
        now = route.arrive(cost, client.source)
        reason = route.decide(client, cost, now)
        if reason is None:
            tally.served += 1
            if latency is not None:
                route.outcome(latency, error)
        else:
            tally.shed[reason] = tally.shed.get(reason, 0) + 1
    return tally


def mixed(
    legit: Callable[[int], Client], attack: Callable[[int], Client], every: int
) -> Callable[[int], Client]:
    """Return a client picker that sends one legitimate request in ``every``."""
    return lambda index: legit(index) if index % every == 0 else attack(index)
