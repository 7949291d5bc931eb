"""When each record goes out: schedule arithmetic and a pacer with an injectable clock.

A *schedule* gives every record a target offset, in seconds, from one fixed start
instant. The pacer sleeps until ``start + offset`` and reports how late it really was.
Because every target is measured from the same start (never ``previous + gap``), the
time a send takes, or a sleep that wakes late, never accumulates: record 100,000 is
due exactly when it should be.

Schedules:

- :class:`RecordedSchedule`: the recording's own timing (``timestamp``, else
  ``recorded_at``), divided by ``speed``, each wait capped at ``max_gap``. A timestamp
  earlier than one already seen (out of order) goes out at once and never moves the
  timeline back. Offsets are computed in whole microseconds of recorded time, so capping
  and long recordings add no rounding error.
- :class:`RateSchedule`: a steady ``rate`` messages per second (record *i* at ``i/rate``);
  ``rate == 0`` means unpaced, as fast as possible.

Nothing here touches the bus, the files or the real clock unless asked to: tests pass a
fake ``clock``/``sleep`` pair and never sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Protocol

from osreplay.errors import ConflictingOptions

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = 1_000_000


class MissingTimestamp(ValueError):
    """A record without a usable ``timestamp`` or ``recorded_at`` under recorded timing."""


class Schedule(Protocol):
    """Gives each record, in replay order, its target offset from the start instant."""

    #: False when nothing is waited for (``--rate 0``): no sleep, no lateness.
    paced: bool
    #: True when records need a timestamp (recorded timing).
    needs_timestamps: bool

    def offset(self, when: datetime | None) -> float:
        """The target offset in seconds of the next record, sent at ``when`` originally."""

    def new_pass(self) -> None:
        """The selection starts again (``--loop``): continue the timeline without a gap."""


def epoch_us(when: datetime) -> int:
    """An aware datetime as whole microseconds since the epoch (exact, no float)."""
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * _US + delta.microseconds


class RateSchedule:
    """A steady ``rate`` records per second; ``0`` means as fast as possible."""

    needs_timestamps = False

    def __init__(self, rate: float) -> None:
        if rate < 0:
            raise ValueError("rate must be >= 0")
        self.rate = rate
        self.paced = rate > 0
        self._index = 0

    def offset(self, when: datetime | None = None) -> float:
        if not self.paced:
            return 0.0
        index = self._index
        self._index = index + 1
        # i / rate, never a running sum: no drift however many records.
        return index / self.rate

    def new_pass(self) -> None:
        """The steady pace simply continues across passes."""


class RecordedSchedule:
    """The recording's own gaps, divided by ``speed``, each wait capped at ``max_gap``."""

    paced = True
    needs_timestamps = True

    def __init__(self, *, speed: float = 1.0, max_gap: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        if max_gap is not None and max_gap < 0:
            raise ValueError("max_gap must be >= 0")
        self.speed = speed
        self.max_gap = max_gap
        # The cap expressed in recorded microseconds: a replayed wait of max_gap seconds
        # is max_gap * speed seconds of the recording.
        self._cap_us = None if max_gap is None else round(max_gap * speed * _US)
        self._elapsed_us = 0  # recorded time covered so far, gaps capped
        self._latest_us: int | None = None  # the latest timestamp seen in this pass

    def offset(self, when: datetime | None) -> float:
        if when is None:
            raise MissingTimestamp("no timestamp or recorded_at")
        now_us = epoch_us(when)
        latest = self._latest_us
        if latest is None:
            self._latest_us = now_us
        elif now_us > latest:
            gap = now_us - latest
            if self._cap_us is not None and gap > self._cap_us:
                gap = self._cap_us
            self._elapsed_us += gap
            self._latest_us = now_us
        # else: out of order (or equal): due at once, the timeline does not move back.
        return self._elapsed_us / self.speed / _US

    def new_pass(self) -> None:
        self._latest_us = None


def make_schedule(
    *, rate: float | None = None, speed: float | None = None, max_gap: float | None = None
) -> Schedule:
    """The schedule for the replay options; ``rate`` excludes ``speed`` and ``max_gap``."""
    if rate is not None and speed is not None:
        raise ConflictingOptions("--rate and --speed exclude each other: pick one")
    if rate is not None:
        if max_gap is not None:
            raise ConflictingOptions("--max-gap caps recorded gaps; it has no effect with --rate")
        return RateSchedule(rate)
    return RecordedSchedule(speed=1.0 if speed is None else speed, max_gap=max_gap)


class Pacer:
    """Waits until ``start + offset`` on an injectable clock; returns the lateness.

    ``clock`` is monotonic seconds (``time.perf_counter`` by default); ``sleep`` sleeps
    for seconds. A sleep that wakes early is simply repeated.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.start_at: float | None = None

    def start(self) -> float:
        """Fix the start instant (the first record's target) and return it."""
        self.start_at = self.clock()
        return self.start_at

    def wait_until(self, offset: float) -> float:
        """Sleep until ``start + offset``; return how late we are then (>= 0), in seconds."""
        if self.start_at is None:
            self.start()
        target = self.start_at + offset  # type: ignore[operator]
        now = self.clock()
        while now < target:
            self.sleep(target - now)
            now = self.clock()
        return now - target

    def elapsed(self) -> float:
        """Seconds since the start instant (0 before it)."""
        return 0.0 if self.start_at is None else self.clock() - self.start_at


class VirtualClock:
    """A clock that only moves when slept on: ``--dry-run`` plans without waiting."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


__all__ = [
    "MissingTimestamp",
    "VirtualClock",
    "Pacer",
    "RateSchedule",
    "RecordedSchedule",
    "Schedule",
    "epoch_us",
    "make_schedule",
]
