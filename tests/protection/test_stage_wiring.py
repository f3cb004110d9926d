"""The protection stages as the gateway builds them from a config, without sockets."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from stockade.config.loader import ConfigError
from stockade.config.models import GatewayConfig
from stockade.events.model import Action, SecurityEvent, Severity
from stockade.gateway.exchange import Consumer
from stockade.gateway.pipeline import Phase
from stockade.gateway.plugins import build_registry
from stockade.gateway.routing import Resources, RouteTable
from stockade.protection.blocking import DenyList
from stockade.protection.blocking_rules import (
    ThresholdObserver,
    create_observer,
    source_of,
    verified_source_of,
)
from stockade.protection.shared import deny_list_for
from tests.protection.demo import OPENAPI_PATH
from tests.protection.exchanges import exchange

UNSIGNED = "eyJhbGciOiJub25lIn0.eyJzdWIiOiI0In0."


def config(protection: dict[str, Any], **service: Any) -> GatewayConfig:
    return GatewayConfig.model_validate({"tenants": [{"id": "acme", "services": [{
        "id": "api", "hosts": ["api.test"], "upstream": {"targets": ["127.0.0.1:9"]},
        "policy": {"protection": protection}, **service}]}]})


def routed(table: RouteTable, method: str, path: str, **kwargs: Any) -> Any:
    request = exchange(method, path, **kwargs)
    request.match = table.match("api.test", method, path)
    return request


def test_stage_order_and_layers() -> None:
    resources = Resources()
    table = RouteTable(config({"openapi": {}, "bola": {}, "ssrf": {}, "leaks": {}, "blocking": {}},
                              openapi=str(OPENAPI_PATH)), build_registry(), resources)
    match = table.match("api.test", "GET", "/api/v2/orders")
    assert match is not None
    names = [(stage.name, stage.layer) for stage in match.pipeline.stages]
    assert names == [("blocking", "blocking"), ("blocking.consumer", "blocking"),
                     ("protection.openapi", "openapi"), ("protection.ssrf", "ssrf"),
                     ("protection.bola", "bola"), ("protection.leaks", "leaks")]


def test_detector_off_by_mode() -> None:
    gateway = GatewayConfig.model_validate({"tenants": [{"id": "acme", "services": [{
        "id": "api", "hosts": ["api.test"], "upstream": {"targets": ["127.0.0.1:9"]},
        "policy": {"modes": {"ssrf": "off"}, "protection": {"ssrf": {}, "leaks": {}}}}]}]})
    match = RouteTable(gateway, build_registry(), Resources()).match("api.test", "GET", "/")
    assert match is not None
    assert [stage.name for stage in match.pipeline.stages] == ["protection.leaks"]


def test_bad_openapi_document_is_config_error(tmp_path: Any) -> None:
    bad = tmp_path / "openapi.yaml"
    bad.write_text("openapi: 2.0\npaths: {}\n")
    with pytest.raises(ConfigError, match=r"services\[api\]\.openapi: .*only 3.0.x and 3.1.x"):
        RouteTable(config({"openapi": {}}, openapi=str(bad)), build_registry(), Resources())


async def test_threshold_blocks_source_then_deny_stage_rejects() -> None:
    resources = Resources()
    gateway = config({"auth_signals": {}, "blocking": {"thresholds": [
        {"min_severity": "critical", "events": 3, "window_seconds": 60, "block_seconds": 60}]}})
    table = RouteTable(gateway, build_registry(), resources)
    emitted: list[SecurityEvent] = []
    observer = create_observer(gateway, resources, emitted.append)
    assert isinstance(observer, ThresholdObserver)
    for _ in range(3):
        request = routed(table, "GET", "/x", headers={"authorization": f"Bearer {UNSIGNED}"},
                         client="203.0.113.7")
        verdict = await request.match.pipeline.run(request, Phase.REQUEST_HEADERS)
        assert verdict.reason == "jwt-alg-none"
        observer.observe(request)
        await asyncio.gather(*observer.tasks)
    assert [event.kind for event in emitted] == ["source-blocked"]
    assert emitted[0].evidence["value"] == "203.0.113.7"
    later = routed(table, "GET", "/x", client="203.0.113.7")
    deny_list: DenyList = deny_list_for(resources, gateway.tenants[0].services[0].policy
                                        .protection.state, 1.0)  # type: ignore[union-attr]
    deny_list.clear_cache()
    verdict = await later.match.pipeline.run(later, Phase.REQUEST_HEADERS)
    assert (verdict.status, verdict.reason) == (403, "denied-source")
    assert later.events[0].action is Action.BLOCKED
    other = routed(table, "GET", "/x", client="198.51.100.1")
    assert not (await other.match.pipeline.run(other, Phase.REQUEST_HEADERS)).reject


async def test_mssp_wide_block_reaches_other_tenants() -> None:
    resources = Resources()
    protection = {"blocking": {"mssp_wide": True, "thresholds": [
        {"min_severity": "high", "events": 1, "block_seconds": 60}]}}
    gateway = GatewayConfig.model_validate({"tenants": [
        {"id": tenant, "services": [{"id": "api", "hosts": [f"{tenant}.test"],
                                      "upstream": {"targets": ["127.0.0.1:9"]},
                                      "policy": {"protection": protection}}]}
        for tenant in ("acme", "globex")]})
    table = RouteTable(gateway, build_registry(), resources)
    observer = create_observer(gateway, resources, lambda event: None)
    assert observer is not None
    attack = exchange("GET", "/x", client="203.0.113.7")
    attack.match = table.match("acme.test", "GET", "/x")
    attack.events.append(attack.event("ssrf", "ssrf", "test", Severity.HIGH,
                                      action=Action.BLOCKED))
    observer.observe(attack)
    await asyncio.gather(*observer.tasks)
    visit = exchange("GET", "/x", client="203.0.113.7")
    visit.match = table.match("globex.test", "GET", "/x")
    assert visit.match is not None
    verdict = await visit.match.pipeline.run(visit, Phase.REQUEST_HEADERS)
    assert verdict.reason == "denied-source"
    assert visit.events[0].evidence["tenant_scope"] == "*"


def test_no_observer_without_blocking() -> None:
    assert create_observer(config({"ssrf": {}}), Resources(), None) is None


def test_forged_subject_never_counts() -> None:
    forged = exchange(headers={"authorization": f"Bearer {UNSIGNED}"})
    assert source_of(forged, "jwt-subject") == "4"
    assert verified_source_of(forged, "jwt-subject") is None
    verified = exchange(consumer=Consumer("alice", "acme", claims={"sub": "4"}, auth_method="jwt"))
    assert verified_source_of(verified, "jwt-subject") == "4"
    assert verified_source_of(verified, "consumer") == "alice"
