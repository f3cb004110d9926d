"""Traffic totals per time bucket, and the sliding window of the last closed buckets."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, fields

from stockade.ddos.config import DdosPolicy


@dataclass(slots=True)
class BucketTotals:
    """Traffic totals of one route in one bucket. Costs are request weights, not request counts."""

    cost: float = 0.0  # cost of every request that arrived
    admitted: float = 0.0  # cost of the requests this layer did not shed
    requests: int = 0
    responses: int = 0  # upstream outcomes: responses, failures and timeouts
    errors: int = 0  # upstream 5xx responses, failures and timeouts
    latency_sum: float = 0.0  # seconds, over ``responses``

    def add(self, other: BucketTotals) -> None:
        self.cost += other.cost
        self.admitted += other.admitted
        self.requests += other.requests
        self.responses += other.responses
        self.errors += other.errors
        self.latency_sum += other.latency_sum

    def as_list(self) -> list[float]:
        return [float(getattr(self, item.name)) for item in fields(self)]

    @classmethod
    def from_list(cls, values: list[float]) -> BucketTotals:
        cost, admitted, requests, responses, errors, latency_sum = values
        return cls(cost, admitted, int(requests), int(responses), int(errors), latency_sum)

    @property
    def error_ratio(self) -> float:
        return self.errors / self.responses if self.responses else 0.0

    @property
    def mean_latency(self) -> float:
        return self.latency_sum / self.responses if self.responses else 0.0


BUCKET_FIELDS = tuple(item.name for item in fields(BucketTotals))


def window_buckets(policy: DdosPolicy) -> int:
    """Return how many closed buckets make up the detection window."""
    return max(2, round(policy.detection.window_seconds / policy.bucket_seconds))


class Window:
    """The last ``size`` closed buckets of one route, oldest first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._buckets: deque[BucketTotals] = deque(maxlen=size)

    def push(self, totals: BucketTotals) -> None:
        self._buckets.append(totals)

    def totals(self) -> BucketTotals:
        result = BucketTotals()
        for bucket in self._buckets:
            result.add(bucket)
        return result

    def last(self) -> BucketTotals:
        return self._buckets[-1] if self._buckets else BucketTotals()
