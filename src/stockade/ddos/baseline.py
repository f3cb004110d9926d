"""The short-term baseline of a route: moving averages of rate, error share and latency.

Each closed bucket moves the averages by ``alpha = 1 - exp(-bucket / baseline_seconds)``,
an exponentially weighted moving average (EWMA) whose time constant is
``baseline_seconds`` whatever the bucket length. Until there are ``1 / alpha``
buckets, the plain mean of those seen so far is used instead (the weight of
the n-th bucket is at least 1/n), so a short warm-up still gives a fair value.
Buckets closed during a surge are left out, so an attack never becomes the
new normal.
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
    buckets: int = 0
    latency_buckets: int = 0

    @property
    def alpha(self) -> float:
        return 1.0 - math.exp(-self.bucket_seconds / self.time_constant)

    def update(self, bucket: BucketTotals) -> None:
        """Fold one closed bucket into the averages."""
        self.buckets += 1
        weight = max(self.alpha, 1.0 / self.buckets)
        self.rate += weight * (bucket.cost / self.bucket_seconds - self.rate)
        if bucket.responses:
            self.latency_buckets += 1
            weight = max(self.alpha, 1.0 / self.latency_buckets)
            self.latency += weight * (bucket.mean_latency - self.latency)
            self.error_ratio += weight * (bucket.error_ratio - self.error_ratio)
        self.history_seconds += self.bucket_seconds

    def idle(self, buckets: int) -> None:
        """Fold in ``buckets`` empty buckets at once; latency and errors keep their values."""
        if buckets <= 0:
            return
        self.rate *= (1.0 - self.alpha) ** buckets
        self.buckets += buckets
        self.history_seconds += buckets * self.bucket_seconds
