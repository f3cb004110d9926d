"""Surge signals: the window's rate, upstream latency and error share against the baseline."""

from __future__ import annotations

from dataclasses import dataclass

from stockade.ddos.baseline import Baseline
from stockade.ddos.buckets import BucketTotals
from stockade.ddos.config import Detection

ERROR_BASELINE_FACTOR = 2.0  # the error share must also be this many times its usual share


@dataclass(frozen=True, slots=True)
class Signals:
    rate: float  # cost per second over the window
    threshold: float  # the rate above which traffic is a surge
    latency: float  # mean upstream seconds over the window
    error_ratio: float
    rate_tripped: bool = False
    latency_tripped: bool = False
    errors_tripped: bool = False

    @property
    def tripped(self) -> bool:
        return self.rate_tripped or self.latency_tripped or self.errors_tripped

    def names(self) -> list[str]:
        flags = {
            "rate": self.rate_tripped,
            "latency": self.latency_tripped,
            "errors": self.errors_tripped,
        }
        return [name for name, value in flags.items() if value]


def rate_threshold(baseline: Baseline, settings: Detection) -> float:
    return max(settings.rate_floor, settings.rate_multiplier * baseline.rate)


def evaluate(
    window: BucketTotals, window_seconds: float, baseline: Baseline, settings: Detection
) -> Signals:
    """Compare one window with the baseline; the caller decides whether the baseline is ready."""
    rate = window.cost / window_seconds
    threshold = rate_threshold(baseline, settings)
    enough = window.responses >= settings.min_samples
    latency = window.mean_latency
    latency_limit = max(
        settings.latency_floor_seconds, settings.latency_multiplier * baseline.latency
    )
    error_limit = max(settings.error_ratio, ERROR_BASELINE_FACTOR * baseline.error_ratio)
    return Signals(
        rate=rate,
        threshold=threshold,
        latency=latency,
        error_ratio=window.error_ratio,
        rate_tripped=rate > threshold,
        latency_tripped=enough and latency > latency_limit,
        errors_tripped=enough and window.error_ratio >= error_limit,
    )
