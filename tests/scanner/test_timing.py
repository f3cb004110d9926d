"""Time-based confirmation logic, driven by recorded elapsed times (no real delays)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from stockade.scanner.client import Reply, SentRequest
from stockade.scanner.timing import confirm_delay

DELAY = 0.5
BASE = 0.01


def _reply(elapsed: float) -> Reply:
    return Reply(SentRequest("GET", "http://127.0.0.1/", [], b""), 200, httpx.Headers(), b"",
                 elapsed)


def _target(elapsed_for: Callable[[float, int], float]) -> Callable[[float], Awaitable[Reply]]:
    """A fake send whose elapsed time depends on the requested delay and the call number."""
    calls: list[float] = []

    async def send(seconds: float) -> Reply:
        calls.append(seconds)
        return _reply(elapsed_for(seconds, len(calls)))

    return send


async def test_delay_that_follows_request_confirmed() -> None:
    replies = await confirm_delay(_target(lambda seconds, _: BASE + seconds), BASE, DELAY)
    assert replies is not None
    assert [round(reply.elapsed, 2) for reply in replies] == [0.51, 0.01, 1.01, 0.51]


async def test_no_delay_rejected() -> None:
    assert await confirm_delay(_target(lambda _, __: BASE), BASE, DELAY) is None


async def test_constant_slowness_rejected() -> None:
    """A target that is always slow fails the zero-delay control."""
    assert await confirm_delay(_target(lambda _, __: 2.0), BASE, DELAY) is None


async def test_capped_delay_rejected() -> None:
    """A delay that does not grow with the request (a fixed stall) fails the 2d step."""
    assert await confirm_delay(_target(lambda seconds, _: BASE + min(seconds, DELAY)),
                               BASE, DELAY) is None


async def test_one_stall_forgiven() -> None:
    """A stalled control in the first sequence is retried once."""
    def elapsed(seconds: float, call: int) -> float:
        return 1.5 if call == 2 else BASE + seconds

    assert await confirm_delay(_target(elapsed), BASE, DELAY) is not None
