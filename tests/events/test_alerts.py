from __future__ import annotations

from stockade.events.alerts import ALERT_LAYER, AlertEvaluator
from stockade.events.config import AlertRule
from stockade.events.model import Action, SecurityEvent, Severity


def _event(at: float, severity: Severity = Severity.CRITICAL, tenant: str = "acme",
           layer: str = "waf") -> SecurityEvent:
    return SecurityEvent(tenant=tenant, layer=layer, kind="sqli", severity=severity,
                         action=Action.BLOCKED, message="m", time=at)


RULE = AlertRule(id="burst", tenant="acme", threshold=3, window_minutes=1, sink="pager")


def test_fires_when_threshold_exceeded() -> None:
    evaluator = AlertEvaluator([RULE])
    assert [evaluator.observe(_event(t)) for t in (0, 1, 2)] == [[], [], []]
    fired = evaluator.observe(_event(3))
    assert len(fired) == 1
    sink, alert = fired[0]
    assert sink == "pager"
    assert alert.layer == ALERT_LAYER
    assert alert.tenant == "acme"
    assert alert.rule_ids == ["burst"]
    assert alert.evidence["threshold"] == 3


def test_fires_once_per_window() -> None:
    evaluator = AlertEvaluator([RULE])
    fired = [bool(evaluator.observe(_event(t))) for t in range(0, 50)]
    assert fired.count(True) == 1
    assert evaluator.observe(_event(62)) == []  # 59 s after it fired at 3
    assert evaluator.observe(_event(63))  # a new window with the burst still going on


def test_old_events_leave_window() -> None:
    evaluator = AlertEvaluator([RULE])
    for at in (0, 20, 40):
        evaluator.observe(_event(at))
    assert evaluator.observe(_event(61)) == []  # the event at 0 has left the window


def test_filters_tenant_severity_layer() -> None:
    rule = RULE.model_copy(update={"threshold": 0, "layer": "auth"})
    evaluator = AlertEvaluator([rule])
    assert evaluator.observe(_event(0, tenant="globex", layer="auth")) == []
    assert evaluator.observe(_event(0, severity=Severity.HIGH, layer="auth")) == []
    assert evaluator.observe(_event(0, layer="waf")) == []
    assert evaluator.observe(_event(0, layer="auth"))


def test_alert_events_never_count() -> None:
    evaluator = AlertEvaluator([RULE.model_copy(update={"threshold": 0})])
    assert evaluator.observe(_event(0, layer=ALERT_LAYER)) == []


def test_set_rules_keeps_unchanged_state() -> None:
    evaluator = AlertEvaluator([RULE])
    for at in (0, 1, 2):
        evaluator.observe(_event(at))
    evaluator.set_rules([RULE])
    assert evaluator.observe(_event(3))
    evaluator.set_rules([RULE.model_copy(update={"threshold": 1})])
    assert evaluator.observe(_event(4)) == []
