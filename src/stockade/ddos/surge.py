"""The surge state of one route: when it started, which shedding steps run, when it ends.

A surge starts the moment a signal trips and runs the first step of the
shedding order. While the admitted rate (what this layer lets through) stays
over the threshold for ``escalate_seconds``, the next step starts. The surge
ends only after ``quiet_seconds`` without any signal tripping, and the
per-source limit then rises back over ``relax_seconds``: both delays keep a
pulsing attack from switching protection off between pulses.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

from stockade.ddos.config import DdosPolicy, ShedClass

TIME_EPSILON = 1e-6  # seconds; spans summed from float bucket times come out a hair short


class Transition(enum.Enum):
    STARTED = "started"
    ESCALATED = "escalated"
    ENDED = "ended"


@dataclass(slots=True)
class SurgeState:
    policy: DdosPolicy
    order: tuple[ShedClass, ...]  # the policy's shedding order, less classes the route cannot have
    active: bool = False
    started: float = 0.0
    last_tripped: float = -math.inf
    step: int = 0  # how many classes of the shedding order are shed
    step_changed: float = 0.0
    over_since: float | None = None
    ended: float | None = None
    threshold_at_end: float = 0.0
    fair_share_at_end: float | None = None  # set when the surge ended with fair shares applied
    surges: int = 0
    classes: frozenset[ShedClass] = field(default_factory=frozenset)

    def observe(
        self, now: float, tripped: bool, admitted_rate: float, threshold: float
    ) -> Transition | None:
        """Move the state on at the close of a bucket; return what changed, if anything."""
        if tripped:
            self.last_tripped = now
        if not self.active:
            if not tripped:
                return None
            self.active = True
            self.started = now
            self.surges += 1
            self.ended = None
            self.fair_share_at_end = None
            self._set_step(1, now)
            return Transition.STARTED
        if now - self.last_tripped + TIME_EPSILON >= self.policy.release.quiet_seconds:
            self.active = False
            self.ended = now
            self.threshold_at_end = threshold
            self._set_step(0, now)
            return Transition.ENDED
        if admitted_rate <= threshold:
            self.over_since = None
            return None
        if self.over_since is None:
            self.over_since = now
        waited = now - max(self.over_since, self.step_changed)
        order = self.order
        if waited + TIME_EPSILON >= self.policy.shedding.escalate_seconds and self.step < len(
            order
        ):
            self._set_step(self.step + 1, now)
            return Transition.ESCALATED
        return None

    def sheds(self, kind: ShedClass) -> bool:
        return kind in self.classes

    def relax_progress(self, now: float) -> float | None:
        """Return how far the per-source limit has risen back (0 to 1); None when not relaxing."""
        if self.active or self.ended is None or self.fair_share_at_end is None:
            return None
        span = self.policy.release.relax_seconds
        progress = (now - self.ended) / span if span > 0 else 1.0
        return progress if progress < 1.0 else None

    def _set_step(self, step: int, now: float) -> None:
        self.step = step
        self.step_changed = now
        if step <= 1:
            self.over_since = None  # a new surge, or its end: escalation starts over
        self.classes = frozenset(self.order[:step])
