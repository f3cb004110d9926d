"""The WAF stage in the gateway pipeline, with tenant settings from Policy.waf."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockade.config.models import GatewayConfig, Policy, merge_policy
from stockade.events.model import Action
from stockade.gateway.exchange import ClientInfo, Exchange
from stockade.gateway.pipeline import Phase, Pipeline, StageRegistry
from stockade.gateway.routing import DEFAULT_ROUTE, Resources, RouteContext
from stockade.http.fields import Fields
from stockade.http.messages import BodyFraming, RequestHead, ResponseHead
from stockade.waf.stage import WafStage, register
from tests.waf.conftest import CRS_V4_DIR

pytestmark = pytest.mark.crs


@pytest.fixture
def resources(waf_resources: Resources, crs_v4: object) -> Resources:
    """The session's Resources, in which the CRS is already loaded."""
    return waf_resources


def _config(waf: dict[str, object], mode: str = "block") -> GatewayConfig:
    return GatewayConfig.model_validate({
        "tenants": [{
            "id": "acme",
            "policy": {"modes": {"waf": mode}, "waf": {"crs_path": str(CRS_V4_DIR), **waf}},
            "services": [{"id": "api", "hosts": ["api.example.test"],
                          "upstream": {"targets": ["127.0.0.1:9"]}}],
        }],
    })


def _pipeline(config: GatewayConfig, resources: Resources) -> Pipeline:
    tenant = config.tenants[0]
    policy = merge_policy(merge_policy(config.policy, tenant.policy), tenant.services[0].policy)
    context = RouteContext(config, tenant, tenant.services[0], DEFAULT_ROUTE, policy, resources)
    registry = StageRegistry()
    register(registry)
    return registry.build(context)


def _exchange(method: bytes, target: bytes, body: bytes = b"") -> Exchange:
    fields = Fields([(b"Host", b"api.example.test"), (b"User-Agent", b"curl/8.5.0"),
                     (b"Accept", b"*/*")])
    if body:
        fields.add(b"Content-Type", b"application/json")
        fields.add(b"Content-Length", str(len(body)).encode())
    head = RequestHead(method, target, b"1.1", fields,
                       BodyFraming.LENGTH if body else BodyFraming.NONE, len(body) or None)
    exchange = Exchange("req-1", ClientInfo("127.0.0.9", 40000, "127.0.0.9"), head)
    exchange.body = body
    return exchange


async def _run_request(pipeline: Pipeline, exchange: Exchange) -> bool:
    """Return True when the request phases let the exchange through."""
    for phase in (Phase.REQUEST_HEADERS, Phase.REQUEST_BODY):
        verdict = await pipeline.run(exchange, phase)
        if verdict.reject:
            return False
    return True


async def test_attack_blocked_with_event(resources: Resources) -> None:
    pipeline = _pipeline(_config({}), resources)
    exchange = _exchange(b"GET", b"/search?q=<script>alert(1)</script>")
    assert not await _run_request(pipeline, exchange)
    blocked = [event for event in exchange.events if event.action is Action.BLOCKED]
    assert len(blocked) == 1
    assert blocked[0].layer == "waf"
    assert "949110" in blocked[0].rule_ids
    assert blocked[0].evidence["anomaly_scores"]["blocking_inbound_anomaly_score"] >= 5
    assert any('[id "949110"]' in line for line in blocked[0].evidence["error_log"])


async def test_detect_mode_forwards_and_records(resources: Resources) -> None:
    pipeline = _pipeline(_config({}, mode="detect"), resources)
    exchange = _exchange(b"GET", b"/search?q=<script>alert(1)</script>")
    assert await _run_request(pipeline, exchange)
    assert any(event.action is Action.DETECTED for event in exchange.events)


async def test_put_json_allowed_by_api_defaults(resources: Resources) -> None:
    pipeline = _pipeline(_config({}), resources)
    exchange = _exchange(b"PUT", b"/v1/users/7", b'{"name": "Ana"}')
    assert await _run_request(pipeline, exchange)


async def test_put_blocked_without_api_defaults(resources: Resources) -> None:
    pipeline = _pipeline(_config({"api_defaults": False}), resources)
    exchange = _exchange(b"PUT", b"/v1/users/7", b'{"name": "Ana"}')
    assert not await _run_request(pipeline, exchange)
    assert "911100" in exchange.events[-1].rule_ids


async def test_exclusion_removes_target(resources: Resources) -> None:
    waf = {"exclusions": {"remove_targets": [{"rule_id": "941000-941999",
                                               "target": "ARGS:html"},
                                              {"rule_id": "942000-942999",
                                               "target": "ARGS:html"}]}}
    pipeline = _pipeline(_config(waf), resources)
    assert await _run_request(pipeline, _exchange(b"GET", b"/p?html=<b>hi</b>"))
    assert not await _run_request(pipeline,
                                  _exchange(b"GET", b"/p?other=<script>alert(1)</script>"))


async def test_paranoia_level_raises_detection(resources: Resources) -> None:
    target = b"/p?q=a%20%7C%7C%20b"
    low = _pipeline(_config({"paranoia_level": 1}), resources)
    high = _pipeline(_config({"paranoia_level": 4, "inbound_anomaly_threshold": 3}), resources)
    assert await _run_request(low, _exchange(b"GET", target))
    assert not await _run_request(high, _exchange(b"GET", target))


async def test_response_phases_run(resources: Resources) -> None:
    pipeline = _pipeline(_config({}), resources)
    exchange = _exchange(b"GET", b"/ok")
    assert await _run_request(pipeline, exchange)
    exchange.response = ResponseHead(200, b"OK", b"1.1", Fields([(b"Content-Type",
                                                                  b"text/html")]),
                                     BodyFraming.LENGTH, 40)
    verdict = await pipeline.run(exchange, Phase.RESPONSE_HEADERS)
    assert not verdict.reject
    assert pipeline.wants_response_body(exchange)
    exchange.response_body = b"<html>You have an error in your SQL syntax; check</html>"
    verdict = await pipeline.run(exchange, Phase.RESPONSE_BODY)
    assert verdict.reject


def test_rule_set_shared_between_tenants(resources: Resources) -> None:
    first = _pipeline(_config({"paranoia_level": 1}), resources)
    second = _pipeline(_config({"paranoia_level": 3}), resources)
    first_stage, second_stage = first.stages[0], second.stages[0]
    assert isinstance(first_stage, WafStage)
    assert isinstance(second_stage, WafStage)
    assert first_stage.engine.ruleset is second_stage.engine.ruleset
    assert first_stage.engine is not second_stage.engine


def test_policy_without_waf_builds_no_stage(resources: Resources) -> None:
    config = GatewayConfig.model_validate({"tenants": [{
        "id": "acme", "services": [{"id": "api", "hosts": ["a.example.test"],
                                    "upstream": {"targets": ["127.0.0.1:9"]}}]}]})
    assert _pipeline(config, resources).stages == []


def test_waf_policy_rejects_detection_below_blocking() -> None:
    with pytest.raises(ValueError, match="detection_paranoia_level 1 is below"):
        Policy.model_validate({"waf": {"paranoia_level": 2, "detection_paranoia_level": 1}})


async def test_engine_error_fails_closed(resources: Resources, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    rules = tmp_path / "local.conf"
    rules.write_text('SecRule REQUEST_METHOD "@streq GET" "id:10002,phase:1,pass,nolog"\n')
    pipeline = _pipeline(_config({"extra_rule_files": [str(rules)]}), resources)

    def broken(self: object, value: bytes, context: object) -> bool:
        raise RuntimeError("simulated engine bug")

    # Operators stay interpreted, so the engine's call to one reaches the patch
    # whether or not the rest of the engine is compiled.
    monkeypatch.setattr("stockade.waf.operators.streq.Streq.evaluate", broken)
    exchange = _exchange(b"GET", b"/ok")
    verdict = await pipeline.run(exchange, Phase.REQUEST_HEADERS)
    assert verdict.reject
    assert verdict.status == 500
    assert verdict.reason == "waf-engine-error"


async def test_redirect_sets_location(resources: Resources, tmp_path: Path) -> None:
    rules = tmp_path / "local.conf"
    rules.write_text('SecRule ARGS:go "@streq away" '
                     '"id:10001,phase:1,redirect:https://example.test/moved"\n')
    pipeline = _pipeline(_config({"extra_rule_files": [str(rules)]}), resources)
    verdict = await pipeline.run(_exchange(b"GET", b"/p?go=away"), Phase.REQUEST_HEADERS)
    assert verdict.reject
    assert verdict.status == 302
    assert verdict.fields == ((b"Location", b"https://example.test/moved"),)
