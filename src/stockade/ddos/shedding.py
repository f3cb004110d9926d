"""The shedding decision: the classes of the shedding order, then the per-source limit.

Shedding keeps authenticated consumers within their limits served. A
request is shed when the surge's current steps cover its class
(``unauthenticated``: no consumer, on a route that authenticates;
``unknown``: an anonymous client whose address was not seen before the
surge), or when its client is over the per-source limit, which a surge
tightens to the fair share and which relaxes after it.
"""

from __future__ import annotations

from dataclasses import dataclass

from stockade.ddos.surge import SurgeState


@dataclass(frozen=True, slots=True)
class Client:
    key: str  # "c=<consumer id>" for an authenticated consumer, else "ip=<address>"
    source: str  # the client address (an IPv6 client's /64 network)
    authenticated: bool


def shed_reason(
    surge: SurgeState,
    client: Client,
    *,
    known: bool,
    rate: float,
    limit: float | None,
) -> str | None:
    """Return why the request is shed (a shedding class or "source_limit"), or None."""
    if surge.active and not client.authenticated:
        if surge.sheds("unauthenticated"):
            return "unauthenticated"
        if not known and surge.sheds("unknown"):
            return "unknown"
    if limit is not None and rate >= limit:
        return "over_fair_share" if surge.active else "source_limit"
    return None
