"""RouteTracker with a settable clock: baseline, detection, shedding order, release."""

from __future__ import annotations

import pytest

from stockade.ddos.baseline import Baseline
from stockade.ddos.buckets import BucketTotals
from stockade.ddos.shedding import Client
from stockade.ddos.tracker import RouteTracker
from tests.ddos.support import Clock, anonymous, consumer, drive, mixed, tracker


def attacker(index: int) -> Client:
    return anonymous(f"127.0.0.{2 + index % 50}")


def legit(index: int) -> Client:
    return consumer("alice")


def warm(route: RouteTracker, clock: Clock, seconds: float = 3.0, per_second: float = 10) -> None:
    drive(route, clock, seconds, per_second, legit)
    assert route.baseline.history_seconds >= route.policy.warmup_seconds
    assert not route.surge.active


def detection_time(route: RouteTracker, clock: Clock, pick: object, per_second: float) -> float:
    """Drive in slices of 0.05 s until the surge starts; return the seconds it took."""
    started = clock.now
    for _ in range(200):
        drive(route, clock, 0.05, per_second, pick)  # type: ignore[arg-type]
        if route.surge.active:
            return clock.now - started
    raise AssertionError("no surge detected in 10 s")


def test_baseline_follows_rate() -> None:
    baseline = Baseline(bucket_seconds=1.0, time_constant=5.0)
    for _ in range(50):
        baseline.update(BucketTotals(cost=10, admitted=10, requests=10))
    assert baseline.rate == pytest.approx(10.0)
    baseline.idle(5)
    assert baseline.rate == pytest.approx(10.0 * 0.3679, rel=0.01)


def test_baseline_latency_and_errors() -> None:
    baseline = Baseline(bucket_seconds=1.0, time_constant=1.0)
    baseline.update(BucketTotals(cost=1, responses=4, errors=1, latency_sum=0.4))
    assert baseline.latency == pytest.approx(0.1)
    assert baseline.error_ratio == pytest.approx(0.25)
    baseline.update(BucketTotals(cost=1))
    assert baseline.latency == pytest.approx(0.1)


def test_surge_detected_within_window() -> None:
    clock = Clock()
    route = tracker(clock)
    warm(route, clock)
    delay = detection_time(route, clock, mixed(legit, attacker, 20), per_second=200)
    assert delay <= route.policy.detection.window_seconds
    assert route.signals is not None
    assert route.signals.rate_tripped
    kinds = [event.kind for event in route.take_events()]
    assert kinds == ["ddos-surge-detected"]


def test_no_detection_during_warmup() -> None:
    clock = Clock()
    route = tracker(clock, warmup_seconds=5)
    drive(route, clock, 1.0, 10, legit)
    drive(route, clock, 2.0, 300, attacker)
    assert not route.surge.active


def test_rate_below_floor_is_no_surge() -> None:
    clock = Clock()
    route = tracker(clock, detection={"rate_floor": 100})
    warm(route, clock, per_second=2)
    drive(route, clock, 2.0, 60, mixed(legit, attacker, 10))
    assert not route.surge.active


def test_unauthenticated_shed_consumers_served() -> None:
    clock = Clock()
    route = tracker(clock)
    warm(route, clock)
    detection_time(route, clock, mixed(legit, attacker, 20), per_second=200)
    during = drive(route, clock, 2.0, 200, mixed(legit, attacker, 20))
    legit_only = drive(route, clock, 0.5, 10, legit)
    assert set(during.shed) == {"unauthenticated"}
    assert during.shed["unauthenticated"] == during.total - during.total // 20
    assert legit_only.served == legit_only.total
    assert route.surge.step == 1


def test_unknown_sources_shed_on_public_route() -> None:
    clock = Clock()
    route = tracker(clock, authenticating=False)
    regular = anonymous("127.0.0.1")
    drive(route, clock, 3.0, 10, lambda index: regular)
    detection_time(route, clock, mixed(lambda index: regular, attacker, 20), per_second=200)
    during = drive(route, clock, 1.0, 200, mixed(lambda index: regular, attacker, 20))
    assert set(during.shed) == {"unknown"}
    assert during.shed["unknown"] == 190
    assert during.served == 10


def test_escalates_to_fair_share() -> None:
    clock = Clock()
    route = tracker(clock)
    warm(route, clock)
    heavy = consumer("heavy")
    light = consumer("light")
    pick = mixed(lambda index: light, lambda index: heavy, 40)
    detection_time(route, clock, pick, per_second=200)
    drive(route, clock, 3.0, 200, pick)
    assert route.surge.step == 3
    assert route.surge.sheds("over_fair_share")
    assert route.fair_share is not None
    during = drive(route, clock, 2.0, 200, pick)
    light_served = drive(route, clock, 0.2, 5, lambda index: light)
    assert during.shed.get("over_fair_share", 0) > during.total // 2
    assert light_served.served == light_served.total
    kinds = [event.kind for event in route.take_events()]
    assert kinds == ["ddos-surge-detected", "ddos-surge-escalated", "ddos-surge-escalated"]


def test_surge_ends_after_quiet_and_limits_relax() -> None:
    clock = Clock()
    route = tracker(clock)
    warm(route, clock)
    heavy = consumer("heavy")
    pick = mixed(legit, lambda index: heavy, 40)
    detection_time(route, clock, pick, per_second=200)
    drive(route, clock, 3.0, 200, pick)
    assert route.surge.sheds("over_fair_share")
    baseline_during = route.baseline.rate

    # The window still holds the attack for a bucket or two, then quiet_seconds must pass.
    drive(route, clock, 1.5, 10, legit)
    assert route.surge.active
    drive(route, clock, 1.5, 10, legit)
    assert not route.surge.active
    assert route.baseline.rate == pytest.approx(baseline_during, rel=0.2)

    first = route.source_limit(clock.now)
    assert first is not None
    drive(route, clock, 2.0, 10, legit)
    middle = route.source_limit(clock.now)
    assert middle is not None
    assert middle > first
    drive(route, clock, 2.5, 10, legit)
    assert route.source_limit(clock.now) is None
    kinds = [event.kind for event in route.take_events()]
    assert kinds[-1] == "ddos-surge-ended"


def test_surge_of_anonymous_ends_and_they_are_served_again() -> None:
    clock = Clock()
    route = tracker(clock)
    warm(route, clock)
    detection_time(route, clock, mixed(legit, attacker, 20), per_second=200)
    drive(route, clock, 1.0, 200, mixed(legit, attacker, 20))
    drive(route, clock, 3.0, 10, legit)
    after = drive(route, clock, 0.5, 10, attacker)
    assert not route.surge.active
    assert after.served == after.total


def test_latency_signal_trips() -> None:
    clock = Clock()
    route = tracker(clock, detection={"min_samples": 5, "latency_floor_seconds": 0.5})
    drive(route, clock, 3.0, 10, legit, latency=0.02)
    assert route.baseline.latency == pytest.approx(0.02)
    drive(route, clock, 1.5, 10, legit, latency=2.0)
    assert route.surge.active
    assert route.signals is not None
    assert route.signals.latency_tripped
    assert not route.signals.rate_tripped


def test_error_signal_trips() -> None:
    clock = Clock()
    route = tracker(clock, detection={"min_samples": 5, "error_ratio": 0.5})
    drive(route, clock, 3.0, 10, legit, latency=0.02)
    drive(route, clock, 1.5, 10, legit, latency=0.02, error=True)
    assert route.surge.active
    assert route.signals is not None
    assert route.signals.errors_tripped


def test_cost_weights_count_in_rate() -> None:
    clock = Clock()
    plain = tracker(clock)
    warm(plain, clock, per_second=4)
    drive(plain, clock, 1.0, 12, mixed(legit, attacker, 2))
    assert not plain.surge.active

    clock = Clock()
    weighted = tracker(clock)
    warm(weighted, clock, per_second=4)
    drive(weighted, clock, 1.0, 12, mixed(legit, attacker, 2), cost=10)
    assert weighted.surge.active


def test_source_rate_counts_cost() -> None:
    clock = Clock()
    route = tracker(clock, source_rate=10)
    tally = drive(route, clock, 4.0, 5, legit, cost=5)
    # 25 cost per second against 10 allowed: 8 requests, plus a first burst the
    # decaying sum lets through before it has filled (about 10 cost over tau = 1 s).
    assert 8 <= tally.served <= 12
    assert set(tally.shed) == {"source_limit"}


def test_known_sources_only_learned_outside_surge() -> None:
    clock = Clock()
    route = tracker(clock)
    warm(route, clock)
    detection_time(route, clock, mixed(legit, attacker, 20), per_second=200)
    cutoff = route.known_cutoff(clock.now)
    assert route.known.knows("127.0.0.1", clock.now, cutoff)
    assert len(route.known) > 1  # some attack addresses arrived before the detection
    for index in range(50):
        assert not route.known.knows(f"127.0.0.{2 + index}", clock.now, cutoff)
