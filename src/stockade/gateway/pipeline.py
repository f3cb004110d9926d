"""The stage pipeline.

A stage reads the exchange at one or more phases and returns a verdict. The
pipeline, not the stage, applies the policy's mode for the stage's layer:
``block`` sends a reject verdict to the client, ``detect`` turns it into a
security event and lets the exchange continue, ``off`` skips the stage.
"""

from __future__ import annotations

import enum
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Protocol

from stockade.events.model import Action, SecurityEvent, Severity
from stockade.gateway.exchange import Exchange, VerdictRecord

if TYPE_CHECKING:
    from stockade.config.models import Policy
    from stockade.gateway.routing import RouteContext

log = logging.getLogger(__name__)


class Phase(enum.IntEnum):
    """Points in the exchange where stages run, numbered as SecLang numbers them."""

    REQUEST_HEADERS = 1
    REQUEST_BODY = 2
    RESPONSE_HEADERS = 3
    RESPONSE_BODY = 4


@dataclass(frozen=True, slots=True)
class Verdict:
    """A stage's decision: continue, or reject with a status and a reason."""

    reject: bool = False
    status: int = 0
    reason: str = ""  # short machine-readable reason for logs and events
    message: str = ""  # what the client is told; never details an attacker could use
    severity: Severity = Severity.MEDIUM
    fields: tuple[tuple[bytes, bytes], ...] = ()  # extra response fields, e.g. Retry-After
    events: tuple[SecurityEvent, ...] = ()
    close: bool = False  # drop the client connection after answering


CONTINUE: Final = Verdict()


def reject(
    status: int,
    reason: str,
    message: str = "",
    *,
    severity: Severity = Severity.MEDIUM,
    fields: tuple[tuple[bytes, bytes], ...] = (),
    events: tuple[SecurityEvent, ...] = (),
    close: bool = False,
) -> Verdict:
    return Verdict(True, status, reason, message, severity, fields, events, close)


class Stage(Protocol):
    """One step of the request path. Implementations keep sockets out where they can."""

    name: str  # unique name, shown in the access log's verdicts
    layer: str  # the policy layer whose mode applies, e.g. "waf"
    phases: frozenset[Phase]
    # A stage may also set ``synchronous = True`` when ``check`` always returns
    # a Verdict, never an awaitable. A route whose stages all do is served
    # from the connection's callbacks, without a task (see fast_path.py).

    def wants_request_body(self, exchange: Exchange) -> bool:
        """Return True when this stage needs the whole request body at REQUEST_BODY."""
        ...

    def wants_response_body(self, exchange: Exchange) -> bool: ...

    def check(self, exchange: Exchange, phase: Phase) -> Verdict | Awaitable[Verdict]: ...


class LogObserver(Protocol):
    """Runs after the response is sent. Must not block: hand work to a bounded queue."""

    def observe(self, exchange: Exchange) -> None: ...


StageFactory = Callable[["RouteContext"], "Stage | None"]


@dataclass(frozen=True, slots=True)
class StageRegistration:
    order: int  # position in the request path; lower runs first
    name: str
    factory: StageFactory


@dataclass(slots=True)
class StageRegistry:
    """Stage factories, called once per route at config load."""

    registrations: list[StageRegistration] = field(default_factory=list)

    def register(self, order: int, name: str, factory: StageFactory) -> None:
        if any(item.name == name for item in self.registrations):
            raise ValueError(f"stage {name!r} is registered twice")
        self.registrations.append(StageRegistration(order, name, factory))
        self.registrations.sort(key=lambda item: item.order)

    def build(self, context: RouteContext) -> Pipeline:
        stages: list[Stage] = []
        for item in self.registrations:
            stage = item.factory(context)
            if stage is not None and context.policy.mode_of(stage.layer) != "off":
                stages.append(stage)
        return Pipeline(stages, context.policy)


class Pipeline:
    """The stages of one route, in request-path order."""

    __slots__ = ("_by_phase", "empty", "policy", "stages", "synchronous")

    def __init__(self, stages: Sequence[Stage], policy: Policy) -> None:
        self.stages = list(stages)
        self.policy = policy
        self.empty = not self.stages  # lets the server skip every phase check at once
        self.synchronous = all(getattr(stage, "synchronous", False) for stage in self.stages)
        self._by_phase: dict[Phase, list[Stage]] = {
            phase: [stage for stage in self.stages if phase in stage.phases] for phase in Phase
        }

    def has_phase(self, phase: Phase) -> bool:
        return bool(self._by_phase[phase])

    def wants_request_body(self, exchange: Exchange) -> bool:
        return any(
            stage.wants_request_body(exchange) for stage in self._by_phase[Phase.REQUEST_BODY]
        )

    def wants_response_body(self, exchange: Exchange) -> bool:
        return any(
            stage.wants_response_body(exchange) for stage in self._by_phase[Phase.RESPONSE_BODY]
        )

    async def run(self, exchange: Exchange, phase: Phase) -> Verdict:
        """Run every stage of ``phase``; return the first reject that the mode lets through."""
        if self.synchronous:
            return self.run_now(exchange, phase)
        for stage in self._by_phase[phase]:
            result = stage.check(exchange, phase)
            verdict = await result if inspect.isawaitable(result) else result
            if verdict is not CONTINUE and self._apply(exchange, stage, verdict):
                return verdict
        return CONTINUE

    def run_now(self, exchange: Exchange, phase: Phase) -> Verdict:
        """Run ``phase`` as ``run`` does, for a pipeline whose stages are all synchronous."""
        for stage in self._by_phase[phase]:
            verdict = stage.check(exchange, phase)
            if not isinstance(verdict, Verdict):
                raise TypeError(f"stage {stage.name!r} is marked synchronous but its check "
                                "returned an awaitable; return a Verdict or drop the mark")
            if verdict is not CONTINUE and self._apply(exchange, stage, verdict):
                return verdict
        return CONTINUE

    def _apply(self, exchange: Exchange, stage: Stage, verdict: Verdict) -> bool:
        """Record ``verdict`` under the stage layer's mode, and return True when it blocks the
        exchange."""
        if not verdict.reject:
            exchange.events.extend(verdict.events)
            exchange.response_fields_extra.extend(verdict.fields)
            return False
        mode = self.policy.mode_of(stage.layer)
        action = Action.BLOCKED if mode == "block" else Action.DETECTED
        self._record(exchange, stage, verdict, action)
        return action is Action.BLOCKED

    @staticmethod
    def _record(exchange: Exchange, stage: Stage, verdict: Verdict, action: Action) -> None:
        exchange.verdicts.append(
            VerdictRecord(
                stage.name,
                "reject" if action is Action.BLOCKED else "detect",
                verdict.status,
                verdict.reason,
            )
        )
        events = verdict.events or (
            exchange.event(
                stage.layer, verdict.reason, verdict.message or verdict.reason, verdict.severity
            ),
        )
        for event in events:
            event.action = action
            exchange.events.append(event)
