"""The RateLimit and RateLimit-Policy response fields of the IETF httpapi draft.

The fields follow draft-ietf-httpapi-ratelimit-headers-10: one list member
per quota policy, named by a string, with ``q`` (quota) and ``w`` (window in
seconds) in RateLimit-Policy, and ``r`` (remaining) and ``t`` (seconds until
the quota is whole again) in RateLimit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from stockade.ratelimit.gcra import Decision, WindowSpec

RATELIMIT = b"RateLimit"
RATELIMIT_POLICY = b"RateLimit-Policy"
RETRY_AFTER = b"Retry-After"


def policy_field(windows: Sequence[WindowSpec]) -> tuple[bytes, bytes]:
    items = [
        f'"{window.name}";q={window.requests};w={math.ceil(window.period_seconds)}'
        for window in windows
    ]
    return RATELIMIT_POLICY, ", ".join(items).encode("ascii")


def state_field(windows: Sequence[WindowSpec], decision: Decision) -> tuple[bytes, bytes]:
    items = [
        f'"{window.name}";r={state.remaining};t={math.ceil(state.reset_seconds)}'
        for window, state in zip(windows, decision.windows, strict=True)
    ]
    return RATELIMIT, ", ".join(items).encode("ascii")


def retry_after(decision: Decision) -> tuple[bytes, bytes]:
    """Whole seconds, rounded up so that a client retrying then is admitted."""
    return RETRY_AFTER, str(max(1, math.ceil(decision.retry_after_seconds))).encode("ascii")
