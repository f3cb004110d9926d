"""The ``ddos`` policy section: baselines, surge detection, shedding and request cost."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from stockade.config.base import StrictModel

ShedClass = Literal["unauthenticated", "unknown", "over_fair_share"]
"""Kinds of client shed during a surge, in the order the policy lists them."""

DEFAULT_ORDER: tuple[ShedClass, ...] = ("unauthenticated", "unknown", "over_fair_share")
MAX_COST = 1000.0  # one request never counts as more than this many plain ones
MAX_BUCKET_SECONDS = 10.0
MIN_BUCKET_SECONDS = 0.1  # finer buckets cost more bookkeeping than they add in speed


class Detection(StrictModel):
    """The conditions under which traffic counts as a surge."""

    window_seconds: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="Span the current rate is measured over; a surge that "
        "keeps up for this long is detected by its end.",
    )
    rate_multiplier: float = Field(
        default=4.0,
        gt=1,
        le=1000,
        description="A surge is a cost rate over this many times the baseline.",
    )
    rate_floor: float = Field(
        default=50.0,
        gt=0,
        description="Cost per second below which no rate is a surge, however low "
        "the baseline; keeps quiet routes from tripping on a few requests.",
    )
    latency_multiplier: float = Field(
        default=4.0,
        gt=1,
        le=1000,
        description="A surge is also an upstream latency this many times the baseline latency.",
    )
    latency_floor_seconds: float = Field(
        default=1.0, gt=0, description="Upstream latency below which no latency is a surge."
    )
    error_ratio: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="A surge is also this share of upstream errors (5xx, "
        "timeouts, refused connections), when it is twice the baseline share or more.",
    )
    min_samples: int = Field(
        default=20,
        ge=1,
        description="Upstream responses a window needs before latency and errors count.",
    )


class Release(StrictModel):
    """The end of a surge and the relaxing of limits afterwards (hysteresis)."""

    quiet_seconds: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description="A surge ends once no signal has tripped for this long.",
    )
    relax_seconds: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="After a surge, per-source limits rise back to normal "
        "over this span instead of at once.",
    )


class Shedding(StrictModel):
    order: list[ShedClass] = Field(
        default_factory=lambda: list(DEFAULT_ORDER),
        min_length=1,
        description="What to shed, first step first: requests without an authenticated "
        "consumer, sources not seen before the surge, and clients over their fair share.",
    )
    escalate_seconds: float = Field(
        default=2.0,
        gt=0,
        le=600,
        description="While the admitted cost rate stays over the surge "
        "threshold this long, the next step of 'order' starts.",
    )
    fair_share_floor: float = Field(
        default=1.0, gt=0, description="Cost per second every client may send during a surge."
    )
    retry_after_seconds: int = Field(
        default=5, ge=1, le=3600, description="Retry-After of a shed request's 503."
    )

    @field_validator("order")
    @classmethod
    def _unique(cls, value: list[ShedClass]) -> list[ShedClass]:
        if len(set(value)) != len(value):
            raise ValueError(f"shedding order {value} names a class twice")
        return value


class DdosPolicy(StrictModel):
    bucket_seconds: float = Field(
        default=0.5,
        ge=MIN_BUCKET_SECONDS,
        le=MAX_BUCKET_SECONDS,
        description="Length of one counting bucket; baselines and detection move in its steps.",
    )
    baseline_seconds: float = Field(
        default=60.0, gt=0, le=86400, description="Time constant of the baseline's moving average."
    )
    warmup_seconds: float = Field(
        default=10.0,
        ge=0,
        le=3600,
        description="Baseline history needed before surges are detected.",
    )
    detection: Detection = Detection()
    release: Release = Release()
    shedding: Shedding = Shedding()
    source_rate: float | None = Field(
        default=None,
        gt=0,
        description="Cost per second one client may send outside surges; unset is "
        "no limit. During a surge the fair share tightens it.",
    )
    cost: float = Field(
        default=1.0,
        ge=0.01,
        le=MAX_COST,
        description="What one request of this route counts as, so "
        "that a search or an export weighs more than a read.",
    )
    known_source_seconds: float = Field(
        default=86400.0, gt=0, description="How long a source seen outside a surge stays known."
    )
    store: Literal["memory", "redis"] = Field(
        default="memory",
        description="memory: each worker tracks its own traffic; redis: nodes share "
        "traffic totals, the surge state and known sources.",
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0", description="Redis used when store is redis."
    )
    redis_timeout_seconds: float = Field(
        default=0.25,
        gt=0,
        le=10,
        description="Seconds allowed for one Redis exchange of bucket totals.",
    )
    key_prefix: str = Field(
        default="stockade:ddos", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9:_.-]+$"
    )

    @field_validator("redis_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"redis_url {value!r} must start with redis://, rediss:// or unix://")
        return value

    @model_validator(mode="after")
    def _window_fits(self) -> DdosPolicy:
        if self.detection.window_seconds < 2 * self.bucket_seconds:
            raise ValueError(
                f"detection.window_seconds {self.detection.window_seconds:g} must span at least "
                f"two buckets of bucket_seconds {self.bucket_seconds:g}"
            )
        return self
