"""Progress on stderr: what replay and validate draw, and that they draw rarely."""

from __future__ import annotations

import io

from osreplay.console.replay import ReplayProgress
from osreplay.console.validate import ValidateProgress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bar_shows_count_rate_and_eta():
    stderr = io.StringIO()
    progress = ReplayProgress(100, stderr)
    clock = progress.clock = Clock()
    progress.started = clock.now
    for _ in range(25):
        clock.now += 0.04  # 25 records a second
        progress(None, "nova", "notifications", 0.0, 0.0)
    progress.draw(clock.now)
    last = stderr.getvalue().split("\r\033[K")[-1]
    assert last == "[#######.......................] 25/100 25.0 msg/s ETA 0:03"
    progress.close()
    assert stderr.getvalue().endswith("\r\033[K")


def test_a_paced_bar_takes_its_eta_from_the_plan():
    # 4 records planned over 2.8 hours: 3 went out in the first seconds, the last is due
    # at 10,000 s. The rate so far would promise 0:00.
    stderr = io.StringIO()
    clock = Clock()
    progress = ReplayProgress(4, stderr, planned=10_000.0, clock=clock)
    for offset in (0.0, 1.0, 2.0):
        clock.now += 1
        progress(None, "nova", "notifications", offset, 0.0)
    progress.draw(clock.now)
    last = stderr.getvalue().split("\r\033[K")[-1]
    assert last == "[######################........] 3/4 1.0 msg/s ETA 2:46:38"


def test_a_paced_bar_behind_its_plan_takes_its_eta_from_the_measured_pace():
    # --rate 10 over 1,000 records (100 s planned), but the broker takes one a 0.2 s: the
    # 100th record, due at 10 s, went out 10 s late. The plan alone would say 1:30 left;
    # at the pace measured (10 s of plan in 20 s), the 90 s left take 3:00.
    stderr = io.StringIO()
    clock = Clock()
    progress = ReplayProgress(1000, stderr, planned=100.0, clock=clock)
    for i in range(1, 101):
        clock.now += 0.2
        progress(None, "nova", "notifications", i * 0.1, i * 0.1)
    progress.draw(clock.now)
    last = stderr.getvalue().split("\r\033[K")[-1]
    assert last == "[###...........................] 100/1000 5.0 msg/s ETA 3:00"


def test_bar_without_a_total_counts_only():
    stderr = io.StringIO()
    progress = ReplayProgress(None, stderr)
    clock = progress.clock = Clock()
    progress.started = clock.now
    clock.now += 2
    progress.count = 10
    progress.draw(clock.now)
    assert stderr.getvalue() == "\r\033[K10 records 5.0 msg/s"


def test_bar_redraws_at_most_five_times_a_second():
    stderr = io.StringIO()
    progress = ReplayProgress(1000, stderr)
    clock = progress.clock = Clock()
    progress.started = clock.now
    for _ in range(1000):
        clock.now += 0.001
        progress(None, "nova", "notifications", 0.0, 0.0)
    assert stderr.getvalue().count("\r\033[K") == 5  # one second: 1000 records, 5 draws


def test_validate_progress_counts_records_and_clears_its_line():
    stderr = io.StringIO()
    clock = Clock()
    progress = ValidateProgress(stderr, clock=clock)
    for records in range(1024, 4097, 1024):  # the run tells it every 1,024 lines
        clock.now += 0.1024  # 10,000 records a second
        progress.update("day.ndjson", records)
    draws = stderr.getvalue().split("\r\033[K")[1:]
    assert draws == [
        "validating day.ndjson: 2048 records, 10,000/s",
        "validating day.ndjson: 4096 records, 10,000/s",
    ]
    progress.close()
    assert stderr.getvalue().endswith("\r\033[K")


def test_validate_progress_is_silent_on_a_short_run():
    stderr = io.StringIO()
    progress = ValidateProgress(stderr, clock=Clock())
    progress.update("small.ndjson", 100)
    progress.close()
    assert stderr.getvalue() == ""
