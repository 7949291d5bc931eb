"""Pacing arithmetic with an injected clock: nothing here really sleeps."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from osreplay.replay.pacing import (
    MissingTimestamp,
    Pacer,
    RateSchedule,
    RecordedSchedule,
    epoch_us,
    make_schedule,
)

T0 = datetime(2024, 3, 5, 10, 0, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class FakeClock:
    """A monotonic clock that only moves when slept on (plus an optional oversleep)."""

    def __init__(self, oversleep=lambda: 0.0) -> None:
        self.now = 1000.0
        self.oversleep = oversleep
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(seconds)
        self.now += seconds + self.oversleep()


def offsets(schedule, times):
    return [schedule.offset(None if t is None else at(t)) for t in times]


def test_recorded_timing_keeps_the_gaps():
    assert offsets(RecordedSchedule(), [0, 0.5, 2, 2, 7.25]) == [0, 0.5, 2, 2, 7.25]


def test_the_first_record_is_due_at_once_whatever_its_date():
    assert offsets(RecordedSchedule(), [3600 * 24 * 365, 3600 * 24 * 365 + 1]) == [0, 1]


@pytest.mark.parametrize(
    ("speed", "expected"),
    [(2, [0, 0.25, 1, 3]), (0.5, [0, 1, 4, 12]), (10, [0, 0.05, 0.2, 0.6])],
)
def test_speed_divides_the_recorded_gaps(speed, expected):
    assert offsets(RecordedSchedule(speed=speed), [0, 0.5, 2, 6]) == pytest.approx(expected)


def test_max_gap_caps_each_wait_not_the_whole_replay():
    # An overnight idle (8 h) becomes 5 s; the short gaps around it stay.
    times = [0, 1, 1 + 8 * 3600, 2 + 8 * 3600]
    assert offsets(RecordedSchedule(max_gap=5), times) == [0, 1, 6, 7]


def test_max_gap_is_in_replayed_seconds_under_a_speed_factor():
    # At --speed 2 a 100 s recorded gap is a 50 s wait, capped to 5 s of replay time.
    times = [0, 4, 104, 106]
    assert offsets(RecordedSchedule(speed=2, max_gap=5), times) == [0, 2, 7, 8]


def test_out_of_order_timestamps_go_out_at_once_and_never_move_the_timeline_back():
    # 12 arrives before 5: 5 is due at once, and 13 is one second after 12, not 8 after 5.
    assert offsets(RecordedSchedule(), [10, 12, 5, 13]) == [0, 2, 2, 3]


def test_recorded_timing_needs_a_timestamp():
    schedule = RecordedSchedule()
    with pytest.raises(MissingTimestamp):
        schedule.offset(None)


def test_a_new_pass_continues_without_a_gap():
    schedule = RecordedSchedule()
    first = offsets(schedule, [0, 1, 3])
    schedule.new_pass()
    assert first + offsets(schedule, [0, 1, 3]) == [0, 1, 3, 3, 4, 6]


def test_recorded_offsets_are_exact_over_a_long_recording():
    schedule = RecordedSchedule(max_gap=0.5)
    last = 0.0
    for i in range(100_000):
        last = schedule.offset(T0 + timedelta(microseconds=1234 * i))
    assert last == 1234 * 99_999 / 1_000_000  # integer microseconds: no rounding drift


def test_steady_rate():
    schedule = RateSchedule(200)
    assert offsets(schedule, [None] * 4) == [0, 0.005, 0.01, 0.015]
    assert schedule.paced and not schedule.needs_timestamps


def test_rate_zero_is_unpaced():
    schedule = RateSchedule(0)
    assert not schedule.paced
    assert offsets(schedule, [None] * 3) == [0, 0, 0]


def test_rate_ignores_timestamps_even_out_of_order():
    assert offsets(RateSchedule(2), [5, None, 1]) == [0, 0.5, 1.0]


def test_make_schedule_refuses_contradictions():
    with pytest.raises(ValueError):
        make_schedule(rate=1, speed=2)
    with pytest.raises(ValueError):
        make_schedule(rate=1, max_gap=2)
    assert isinstance(make_schedule(), RecordedSchedule)
    assert isinstance(make_schedule(rate=0), RateSchedule)


def test_epoch_us_is_exact():
    assert epoch_us(datetime(1970, 1, 1, 0, 0, 1, 7, tzinfo=timezone.utc)) == 1_000_007


def test_pacer_sleeps_until_the_target_and_reports_lateness():
    fake = FakeClock()
    pacer = Pacer(clock=fake.clock, sleep=fake.sleep)
    pacer.start()
    assert pacer.wait_until(0) == 0
    assert pacer.wait_until(1.5) == 0
    assert fake.sleeps == [1.5]
    fake.now += 2  # a send that took 2 s
    assert pacer.wait_until(2.0) == pytest.approx(1.5)  # late, so no sleep at all
    assert fake.sleeps == [1.5]


def test_pacer_repeats_a_sleep_that_wakes_early():
    fake = FakeClock()
    slept: list[float] = []

    def early_sleep(seconds: float) -> None:  # wakes after half the time asked, at best 1 ms
        slept.append(seconds)
        fake.now += max(seconds / 2, min(seconds, 0.001))

    pacer = Pacer(clock=fake.clock, sleep=early_sleep)
    pacer.start()
    assert pacer.wait_until(1.0) == pytest.approx(0.0, abs=1e-9)
    assert fake.now == pytest.approx(1001.0) and len(slept) > 1


def test_no_drift_over_100000_sends():
    # Every send takes a random time and every sleep wakes up to 3 ms late; the last of
    # 100,000 records at 1,000/s is still due at 99.999 s, not seconds later.
    rng = random.Random(4)
    fake = FakeClock(oversleep=lambda: rng.uniform(0, 0.003))
    pacer = Pacer(clock=fake.clock, sleep=fake.sleep)
    schedule = RateSchedule(1000)
    pacer.start()
    worst = 0.0
    for _ in range(100_000):
        lateness = pacer.wait_until(schedule.offset(None))
        worst = max(worst, lateness)
        fake.now += rng.uniform(0, 0.0008)  # the send itself
    assert pacer.elapsed() == pytest.approx(99.999, abs=0.005)
    assert worst <= 0.003 + 0.0008 + 1e-9


def test_no_drift_over_100000_recorded_gaps():
    rng = random.Random(5)
    fake = FakeClock(oversleep=lambda: rng.uniform(0, 0.002))
    pacer = Pacer(clock=fake.clock, sleep=fake.sleep)
    schedule = RecordedSchedule(speed=4)
    pacer.start()
    when = T0
    for _ in range(100_000):
        when += timedelta(microseconds=rng.randint(0, 8000))
        pacer.wait_until(schedule.offset(when))
    expected = (when - T0).total_seconds() / 4
    assert pacer.elapsed() == pytest.approx(expected, abs=0.0021)
