from __future__ import annotations

from stockade.ratelimit.gcra import MICROSECONDS, WindowSpec, decide

SECOND = MICROSECONDS


def run(times: list[float], windows: list[WindowSpec]) -> list[bool]:
    tats: list[float | None] = [None] * len(windows)
    results = []
    for at in times:
        decision, new = decide(at * SECOND, tats, windows)
        results.append(decision.allowed)
        tats = list(new)
    return results


def test_burst_then_one_per_interval() -> None:
    window = WindowSpec("w", requests=5, period_seconds=10, burst=5)
    assert run([0] * 7, [window]) == [True] * 5 + [False] * 2
    assert run([0] * 5 + [1.9, 2.0, 2.1], [window]) == [True] * 5 + [False, True, False]


def test_any_span_admits_at_most_burst_plus_rate() -> None:
    window = WindowSpec("w", requests=10, period_seconds=1, burst=10)
    times = [step / 1000 for step in range(3000)]  # one request per millisecond for 3 s
    admitted = [at for at, ok in zip(times, run(times, [window]), strict=True) if ok]
    for start in admitted:
        in_span = [at for at in admitted if start <= at < start + 1]
        assert len(in_span) <= 10 + 10


def test_smoothing_burst_one() -> None:
    window = WindowSpec("w", requests=2, period_seconds=1, burst=1)
    assert run([0, 0.1, 0.5, 0.6, 1.0], [window]) == [True, False, True, False, True]


def test_rejected_request_changes_nothing() -> None:
    hourly = WindowSpec("h", requests=100, period_seconds=3600, burst=100)
    per_second = WindowSpec("s", requests=2, period_seconds=1, burst=2)
    tats: list[float | None] = [None, None]
    for _ in range(2):
        _, new = decide(0, tats, [hourly, per_second])
        tats = list(new)
    rejected, unchanged = decide(0, tats, [hourly, per_second])
    assert not rejected.allowed
    assert unchanged == tats
    assert rejected.windows[0].remaining == 98
    assert rejected.windows[1].remaining == 0
    assert 0.49 < rejected.retry_after_seconds <= 0.5


def test_remaining_and_reset() -> None:
    window = WindowSpec("w", requests=4, period_seconds=8, burst=4)
    decision, _ = decide(0, [None], [window])
    assert decision.windows[0].remaining == 3
    assert decision.windows[0].reset_seconds == 2
