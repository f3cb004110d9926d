"""The ddos and ddos.late stages in a route table with authentication, and the observer."""

from __future__ import annotations

from typing import Any

from stockade.access import stage as access_stage
from stockade.auth import stage as auth_stage
from stockade.auth.hashing import hash_api_key, new_api_key
from stockade.config.models import GatewayConfig
from stockade.ddos import stage as ddos_stage
from stockade.ddos.observer import DdosObserver, upstream_outcome
from stockade.ddos.stage import TRACKERS, source_of
from stockade.ddos.tracker import RouteTracker
from stockade.events.model import Action
from stockade.gateway.exchange import ClientInfo, Exchange
from stockade.gateway.pipeline import Phase, StageRegistry, Verdict
from stockade.gateway.routing import Resources, RouteTable
from stockade.http.fields import Fields
from stockade.http.messages import BodyFraming, RequestHead, ResponseHead
from tests.ddos.support import Clock

KEY = new_api_key()
DDOS = {
    "bucket_seconds": 0.5,
    "warmup_seconds": 2,
    "detection": {"window_seconds": 1.0, "rate_multiplier": 4, "rate_floor": 20},
    "release": {"quiet_seconds": 2, "relax_seconds": 2},
    "shedding": {"retry_after_seconds": 7},
}


class Gate:
    def __init__(self, policy: dict[str, Any]) -> None:
        registry = StageRegistry()
        for module in (access_stage, auth_stage, ddos_stage):
            module.register(registry)
        consumers = [{"id": "alice", "api_keys": [{"id": "a", "hash": hash_api_key(KEY)}]}]
        service = {
            "id": "api",
            "hosts": ["api.test"],
            "upstream": {"targets": ["127.0.0.1:9"]},
            "policy": policy,
        }
        config = GatewayConfig.model_validate(
            {"tenants": [{"id": "acme", "services": [service], "consumers": consumers}]}
        )
        self.resources = Resources()
        self.table = RouteTable(config, registry, self.resources)
        self.clock = Clock()
        for tracker in self.trackers().values():
            tracker.clock = self.clock

    def trackers(self) -> dict[tuple[str, str, str], RouteTracker]:
        trackers: dict[tuple[str, str, str], RouteTracker] = self.resources.items[TRACKERS]
        return trackers

    def exchange(self, address: str, headers: list[tuple[str, str]] | None = None) -> Exchange:
        items = [(b"Host", b"api.test")]
        items += [(name.encode(), value.encode()) for name, value in headers or []]
        head = RequestHead(b"GET", b"/items", b"1.1", Fields(items), BodyFraming.NONE)
        exchange = Exchange("r", ClientInfo(address, 40000, address), head)
        exchange.match = self.table.match("api.test", "GET", "/items")
        return exchange

    async def send(
        self, address: str, headers: list[tuple[str, str]] | None = None
    ) -> tuple[Verdict, Exchange]:
        exchange = self.exchange(address, headers)
        assert exchange.match is not None
        return await exchange.match.pipeline.run(exchange, Phase.REQUEST_HEADERS), exchange

    async def traffic(self, seconds: float, per_second: int, every_legit: int) -> list[Verdict]:
        """Send a mix: one request with the API key in ``every_legit``, the rest anonymous."""
        verdicts = []
        for index in range(round(seconds * per_second)):
            self.clock.now += 1 / per_second
            if index % every_legit == 0:
                verdict, _ = await self.send("127.0.0.1", [("X-API-Key", KEY)])
            else:
                verdict, _ = await self.send(f"127.0.0.{2 + index % 40}")
            verdicts.append(verdict)
        return verdicts


def authenticated_policy(**extra: Any) -> dict[str, Any]:
    return {"auth": {"required": False, "api_key": {}}, "ddos": DDOS, **extra}


async def test_surge_sheds_anonymous_with_503() -> None:
    gate = Gate(authenticated_policy())
    await gate.traffic(3.0, 10, every_legit=1)
    await gate.traffic(1.0, 200, every_legit=20)
    verdict, exchange = await gate.send("127.0.0.77")
    assert verdict.reject
    assert verdict.status == 503
    assert verdict.reason == "ddos-shed-unauthenticated"
    assert (b"Retry-After", b"7") in verdict.fields
    assert exchange.events[-1].kind == "ddos-shed-unauthenticated"
    assert exchange.events[-1].action is Action.BLOCKED


async def test_consumers_served_through_late_stage() -> None:
    gate = Gate(authenticated_policy())
    await gate.traffic(3.0, 10, every_legit=1)
    verdicts = await gate.traffic(2.0, 200, every_legit=20)
    legit = verdicts[::20]
    assert all(not verdict.reject for verdict in legit)
    assert sum(verdict.reject for verdict in verdicts) > len(verdicts) // 2
    verdict, exchange = await gate.send("127.0.0.1", [("X-API-Key", KEY)])
    assert not verdict.reject
    assert exchange.consumer is not None


async def test_unidentified_credential_shed_after_auth() -> None:
    gate = Gate(authenticated_policy())
    await gate.traffic(3.0, 10, every_legit=1)
    await gate.traffic(1.0, 200, every_legit=20)
    verdict, exchange = await gate.send("127.0.0.78", [("Authorization", "Bearer x.y.z")])
    assert verdict.reason == "ddos-shed-unauthenticated"
    assert exchange.consumer is None
    assert [item.stage for item in exchange.verdicts] == ["ddos.late"]


async def test_surge_event_reaches_an_exchange() -> None:
    gate = Gate(authenticated_policy())
    await gate.traffic(3.0, 10, every_legit=1)
    surge_events = []
    for _ in range(200):
        gate.clock.now += 0.005
        _, exchange = await gate.send("127.0.0.1", [("X-API-Key", KEY)])
        surge_events += [event for event in exchange.events if event.kind == "ddos-surge-detected"]
        _, exchange = await gate.send("127.0.0.50")
        surge_events += [event for event in exchange.events if event.kind == "ddos-surge-detected"]
    assert len(surge_events) == 1
    event = surge_events[0]
    assert event.action is Action.OBSERVED
    assert event.evidence["signals"] == ["rate"]
    assert event.evidence["shedding"] == ["unauthenticated"]


async def test_detect_mode_only_records() -> None:
    gate = Gate(authenticated_policy(modes={"ddos": "detect"}))
    await gate.traffic(3.0, 10, every_legit=1)
    verdicts = await gate.traffic(1.0, 200, every_legit=20)
    verdict, exchange = await gate.send("127.0.0.79")
    assert not any(item.reject for item in verdicts)
    assert not verdict.reject
    assert exchange.events[-1].action is Action.DETECTED


async def test_public_route_has_no_late_stage() -> None:
    gate = Gate({"ddos": DDOS})
    names = [stage.name for stage in gate.table.match("api.test", "GET", "/").pipeline.stages]  # type: ignore[union-attr]
    assert names == ["ddos"]


def test_ipv6_source_is_its_network() -> None:
    head = RequestHead(b"GET", b"/", b"1.1", Fields(), BodyFraming.NONE)
    exchange = Exchange("r", ClientInfo("2001:db8:1:2:3:4:5:6", 1, "::1"), head)
    assert source_of(exchange) == "2001:db8:1:2::/64"


def response_exchange(status: int, seconds: float | None) -> Exchange:
    head = RequestHead(b"GET", b"/", b"1.1", Fields(), BodyFraming.NONE)
    exchange = Exchange("r", ClientInfo("127.0.0.1", 1, "127.0.0.1"), head)
    exchange.upstream_seconds = seconds
    exchange.status = status
    if seconds is not None:
        exchange.response = ResponseHead(status, b"", b"1.1", Fields(), BodyFraming.LENGTH, 0)
    return exchange


def test_upstream_outcome_kinds() -> None:
    assert upstream_outcome(response_exchange(200, 0.05)) == (0.05, False)
    assert upstream_outcome(response_exchange(503, 0.05)) == (0.05, True)
    assert upstream_outcome(response_exchange(401, None)) is None
    failed = response_exchange(502, None)
    failed.events.append(failed.event("gateway", "upstream-failure", "connect failed"))
    outcome = upstream_outcome(failed)
    assert outcome is not None
    assert outcome[1] is True


def test_observer_feeds_tracker() -> None:
    gate = Gate(authenticated_policy())
    observer = DdosObserver(gate.resources)
    exchange = gate.exchange("127.0.0.1")
    exchange.upstream_seconds = 0.25
    exchange.response = ResponseHead(502, b"", b"1.1", Fields(), BodyFraming.LENGTH, 0)
    observer.observe(exchange)
    tracker = next(iter(gate.trackers().values()))
    assert tracker.current.responses == 1
    assert tracker.current.errors == 1
    assert tracker.current.latency_sum == 0.25
