"""The short-term baseline of a route: moving averages of rate, error share and latency.

Each closed bucket moves the averages by ``alpha = 1 - exp(-bucket / baseline_seconds)``,
an exponentially weighted moving average (EWMA) whose time constant is
``baseline_seconds`` whatever the bucket length. Buckets closed during a
surge are left out, so an attack never becomes the new normal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from stockade.ddos.buckets import BucketTotals


@dataclass(slots=True)
class Baseline:
    bucket_seconds: float
    time_constant: float  # seconds
    rate: float = 0.0  # cost per second
    error_ratio: float = 0.0
    latency: float = 0.0  # seconds
    history_seconds: float = 0.0  # bucket time folded in so far
    _latency_seen: bool = False

    @property
    def alpha(self) -> float:
        return 1.0 - math.exp(-self.bucket_seconds / self.time_constant)

    def update(self, bucket: BucketTotals) -> None:
        """Fold one closed bucket into the averages."""
        alpha = self.alpha
        rate = bucket.cost / self.bucket_seconds
        if self.history_seconds == 0:
            self.rate = rate
        else:
            self.rate += alpha * (rate - self.rate)
        if bucket.responses:
            if not self._latency_seen:
                self.latency = bucket.mean_latency
                self.error_ratio = bucket.error_ratio
                self._latency_seen = True
            else:
                self.latency += alpha * (bucket.mean_latency - self.latency)
                self.error_ratio += alpha * (bucket.error_ratio - self.error_ratio)
        self.history_seconds += self.bucket_seconds

    def idle(self, buckets: int) -> None:
        """Fold in ``buckets`` empty buckets at once; latency and errors keep their values."""
        if buckets <= 0:
            return
        if self.history_seconds > 0:
            self.rate *= (1.0 - self.alpha) ** buckets
        self.history_seconds += buckets * self.bucket_seconds
