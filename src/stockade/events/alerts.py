"""Alert rules: more than N matching events of a tenant within M minutes.

Pure logic: the pipeline feeds every event in and routes the alert events
that come out to the sink each rule names. A rule fires at most once per
window: after it fires, it stays quiet until a whole window has passed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from stockade.events.config import AlertRule, severity_of
from stockade.events.model import Action, SecurityEvent

ALERT_LAYER = "alert"


@dataclass(slots=True)
class _RuleState:
    rule: AlertRule
    window_seconds: float
    times: deque[float] = field(default_factory=deque)  # at most threshold + 1 entries
    last_fired: float | None = None

    def matches(self, event: SecurityEvent) -> bool:
        rule = self.rule
        return (event.tenant == rule.tenant
                and event.layer != ALERT_LAYER
                and event.severity >= severity_of(rule.min_severity)
                and (rule.layer is None or event.layer == rule.layer)
                and (rule.kind is None or event.kind == rule.kind))


class AlertEvaluator:
    def __init__(self, rules: Iterable[AlertRule] = ()) -> None:
        self._states: list[_RuleState] = []
        self.set_rules(rules)

    def set_rules(self, rules: Iterable[AlertRule]) -> None:
        """Replace the rules; a rule whose settings did not change keeps its window."""
        previous = {(state.rule.tenant, state.rule.id): state for state in self._states}
        states = []
        for rule in rules:
            old = previous.get((rule.tenant, rule.id))
            if old is not None and old.rule == rule:
                states.append(old)
            else:
                states.append(_RuleState(rule, rule.window_minutes * 60))
        self._states = states

    def observe(self, event: SecurityEvent) -> list[tuple[str, SecurityEvent]]:
        """Count ``event``; return (sink name, alert event) for each rule that fires."""
        fired: list[tuple[str, SecurityEvent]] = []
        for state in self._states:
            if not state.matches(event):
                continue
            now = event.time
            state.times.append(now)
            while state.times and state.times[0] <= now - state.window_seconds:
                state.times.popleft()
            while len(state.times) > state.rule.threshold + 1:
                state.times.popleft()
            if len(state.times) <= state.rule.threshold:
                continue
            if state.last_fired is not None and now - state.last_fired < state.window_seconds:
                continue
            state.last_fired = now
            fired.append((state.rule.sink, _alert_event(state.rule, event)))
        return fired


def _alert_event(rule: AlertRule, trigger: SecurityEvent) -> SecurityEvent:
    return SecurityEvent(
        tenant=rule.tenant,
        layer=ALERT_LAYER,
        kind="threshold",
        severity=severity_of(rule.min_severity),
        action=Action.OBSERVED,
        message=(f"alert rule {rule.id}: more than {rule.threshold} events of severity "
                 f"{rule.min_severity} or higher within {rule.window_minutes:g} minutes"),
        service=trigger.service,
        rule_ids=[rule.id],
        evidence={"threshold": rule.threshold, "window_minutes": rule.window_minutes,
                  "last_event_id": trigger.id, "last_event_kind": trigger.kind},
        time=trigger.time,
    )
