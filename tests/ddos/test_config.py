"""The ddos policy section: defaults, limits and errors that name the value."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from stockade.config.models import GatewayConfig
from stockade.ddos.config import DdosPolicy
from stockade.ddos.stage import TRACKERS
from stockade.ddos.tracker import RouteTracker
from stockade.gateway.plugins import build_registry
from stockade.gateway.routing import Resources, RouteTable


def test_defaults_valid() -> None:
    policy = DdosPolicy()
    assert policy.shedding.order == ["unauthenticated", "unknown", "over_fair_share"]
    assert policy.store == "memory"
    assert policy.cost == 1.0


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"bucket_seconds": 1, "detection": {"window_seconds": 1.5}}, "at least two buckets"),
        ({"shedding": {"order": ["unknown", "unknown"]}}, "names a class twice"),
        ({"shedding": {"order": ["everyone"]}}, "unauthenticated"),
        ({"redis_url": "http://127.0.0.1:6379"}, "must start with redis://"),
        ({"cost": 0}, "greater than or equal to 0.01"),
        ({"bucket_seconds": 0.01}, "greater than or equal to 0.1"),
        ({"detection": {"rate_multiplier": 1}}, "greater than 1"),
        ({"surge": {}}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_settings_named(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DdosPolicy.model_validate(settings)


def gateway_config(service_policy: dict[str, Any], route_policy: dict[str, Any]) -> GatewayConfig:
    service = {
        "id": "api",
        "hosts": ["api.test"],
        "upstream": {"targets": ["127.0.0.1:9"]},
        "policy": {"ddos": service_policy},
        "routes": [{"id": "search", "path": "/search", "policy": {"ddos": route_policy}}],
    }
    return GatewayConfig.model_validate({"tenants": [{"id": "acme", "services": [service]}]})


def trackers_of(resources: Resources) -> dict[tuple[str, str, str], RouteTracker]:
    trackers: dict[tuple[str, str, str], RouteTracker] = resources.items[TRACKERS]
    return trackers


def test_route_cost_merges_with_service_policy() -> None:
    resources = Resources()
    RouteTable(
        gateway_config({"detection": {"rate_floor": 99}}, {"cost": 5}), build_registry(), resources
    )
    search = trackers_of(resources)[("acme", "api", "search")]
    default = trackers_of(resources)[("acme", "api", "default")]
    assert search.policy.cost == 5
    assert search.policy.detection.rate_floor == 99
    assert default.policy.cost == 1


def test_tracker_kept_across_reload_with_same_policy() -> None:
    resources = Resources()
    config = gateway_config({}, {"cost": 5})
    RouteTable(config, build_registry(), resources)
    before = trackers_of(resources)[("acme", "api", "search")]
    RouteTable(config, build_registry(), resources)
    assert trackers_of(resources)[("acme", "api", "search")] is before
    RouteTable(gateway_config({}, {"cost": 6}), build_registry(), resources)
    assert trackers_of(resources)[("acme", "api", "search")] is not before
