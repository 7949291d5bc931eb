"""``osreplay stats``: what is in a recording, at a glance, in one streaming pass.

Memory does not grow with the number of records: counters are per distinct event type,
publisher, priority, exchange, CADF action and payload version; the rate is kept in a
histogram that coarsens (seconds, minutes, hours, days) past :data:`MAX_BUCKETS` buckets;
the busiest second is exact as long as records are less than :data:`MAX_SECONDS` seconds
out of order.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from osreplay.model.files import expand_inputs
from osreplay.model.notification import CADF_EVENT_TYPEURI, Notification
from osreplay.scenario.records import Unreadable, read, sent_at

MAX_BUCKETS = 20_000
MAX_SECONDS = 100_000
RATE_BUCKETS = 60
_RESOLUTIONS = (1, 60, 3600, 86400)
_NICE_WIDTHS = (
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    10800,
    21600,
    43200,
) + tuple(86400 * days for days in (1, 2, 7, 14, 28, 91, 182, 364))


@dataclass(frozen=True, slots=True)
class StatsOptions:
    """What to read: recordings (``-`` for stdin, ``.gz``)."""

    files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rate:
    """Records per bucket of ``width`` seconds from ``start``; the busiest second."""

    width: int
    start: datetime | None
    counts: tuple[int, ...]
    busiest_second: datetime | None
    busiest_records: int


@dataclass(frozen=True, slots=True)
class Stats:
    """Everything ``osreplay stats`` reports; the counters are sorted, largest first."""

    files: tuple[str, ...]
    records: int
    unreadable: int
    untimed: int
    first: datetime | None
    last: datetime | None
    by_event_type: dict[str, int]
    by_publisher: dict[str, int]
    by_priority: dict[str, int]
    by_exchange: dict[str, int]
    rate: Rate
    cadf: dict[str, dict[str, int]]
    payload_versions: dict[str, int]

    @property
    def span_seconds(self) -> float | None:
        if self.first is None or self.last is None:
            return None
        return (self.last - self.first).total_seconds()

    @property
    def average_per_second(self) -> float | None:
        """Timed records per second over the whole clock seconds they fall in.

        Not ``records / span``: a recording shorter than a second (or a few records
        straddling second boundaries) would average more than its busiest second. Over
        the seconds from the first record's to the last's, both counted whole, the
        average is never above the busiest second.
        """
        if self.first is None or self.last is None:
            return None
        seconds = math.floor(self.last.timestamp()) - math.floor(self.first.timestamp()) + 1
        return (self.records - self.untimed) / seconds


class StatsConsole(Protocol):
    """What ``run`` tells as it goes: each unreadable line (the CLI prints it on stderr)."""

    def unreadable(self, line: Unreadable) -> None: ...


@dataclass(slots=True)
class _Histogram:
    """Counts per bucket of ``resolution`` seconds, coarsened to stay under MAX_BUCKETS."""

    resolution: int = 1
    buckets: dict[int, int] = field(default_factory=dict)

    def add(self, epoch: float) -> None:
        key = math.floor(epoch / self.resolution)
        self.buckets[key] = self.buckets.get(key, 0) + 1
        if len(self.buckets) > MAX_BUCKETS:
            self._coarsen()

    def _coarsen(self) -> None:
        while len(self.buckets) > MAX_BUCKETS and self.resolution != _RESOLUTIONS[-1]:
            coarser = _RESOLUTIONS[_RESOLUTIONS.index(self.resolution) + 1]
            merged: dict[int, int] = {}
            factor = coarser // self.resolution
            for key, count in self.buckets.items():
                merged[key // factor] = merged.get(key // factor, 0) + count
            self.buckets, self.resolution = merged, coarser

    def rebin(self, first: float, last: float) -> tuple[int, float, tuple[int, ...]]:
        """About RATE_BUCKETS buckets of a round width over [first, last]."""
        wanted = max((last - first) / RATE_BUCKETS, 1.0)
        width = next(
            (w for w in _NICE_WIDTHS if w >= wanted and w % self.resolution == 0),
            _NICE_WIDTHS[-1],
        )
        start = math.floor(first / width) * width
        counts = [0] * (math.floor(last / width) - math.floor(first / width) + 1)
        for key, count in self.buckets.items():
            index = math.floor(key * self.resolution / width) - math.floor(first / width)
            counts[min(max(index, 0), len(counts) - 1)] += count
        return width, float(start), tuple(counts)


@dataclass(slots=True)
class _Seconds:
    """Records per whole second, the oldest seconds dropped past MAX_SECONDS."""

    counts: dict[int, int] = field(default_factory=dict)
    best: tuple[int, int] = (0, 0)  # (records, second) of seconds already dropped

    def add(self, second: int) -> None:
        self.counts[second] = self.counts.get(second, 0) + 1
        if len(self.counts) > MAX_SECONDS:
            ordered = sorted(self.counts)
            for key in ordered[: len(ordered) // 2]:
                self.best = max(self.best, (self.counts.pop(key), -key))

    def busiest(self) -> tuple[int, int] | None:
        """(second, records) of the busiest second, the earliest on a tie."""
        candidates = [(count, -second) for second, count in self.counts.items()]
        if self.best[0]:
            candidates.append(self.best)
        if not candidates:
            return None
        count, negative = max(candidates)
        return -negative, count


@dataclass(slots=True)
class _Tally:
    records: int = 0
    unreadable: int = 0
    untimed: int = 0
    first: float | None = None
    last: float | None = None
    event_types: Counter[str] = field(default_factory=Counter)
    publishers: Counter[str] = field(default_factory=Counter)
    priorities: Counter[str] = field(default_factory=Counter)
    exchanges: Counter[str] = field(default_factory=Counter)
    cadf: dict[str, Counter[str]] = field(default_factory=dict)
    versions: Counter[str] = field(default_factory=Counter)
    histogram: _Histogram = field(default_factory=_Histogram)
    seconds: _Seconds = field(default_factory=_Seconds)

    def add(self, note: Notification) -> None:
        self.records += 1
        self.event_types[note.event_type] += 1
        # oslo sends publisher_id null when none is set: counted under "null"
        self.publishers[note.publisher_id if note.publisher_id is not None else "null"] += 1
        self.priorities[note.priority] += 1
        self.exchanges[note.exchange if isinstance(note.exchange, str) else "-"] += 1
        moment = sent_at(note)
        if moment is None:
            self.untimed += 1
        else:
            self._add_time(moment.timestamp())
        payload = note.payload
        if payload.__class__ is dict:
            self._add_payload(payload)

    def _add_time(self, epoch: float) -> None:
        if self.first is None or epoch < self.first:
            self.first = epoch
        if self.last is None or epoch > self.last:
            self.last = epoch
        self.histogram.add(epoch)
        self.seconds.add(math.floor(epoch))

    def _add_payload(self, payload: dict[str, Any]) -> None:
        if payload.get("typeURI") == CADF_EVENT_TYPEURI:
            action, outcome = payload.get("action"), payload.get("outcome")
            counter = self.cadf.setdefault(str(action), Counter())
            counter[str(outcome)] += 1
            return
        for prefix in ("nova_object", "ironic_object"):
            name = payload.get(prefix + ".name")
            if name is not None:
                self.versions[f"{name} {payload.get(prefix + '.version')}"] += 1
                return

    def result(self, files: tuple[str, ...]) -> Stats:
        rate = Rate(1, None, (), None, 0)
        if self.first is not None and self.last is not None:
            width, start, counts = self.histogram.rebin(self.first, self.last)
            busiest = self.seconds.busiest()
            rate = Rate(
                width,
                _moment(start),
                counts,
                _moment(busiest[0]) if busiest else None,
                busiest[1] if busiest else 0,
            )
        return Stats(
            files=files,
            records=self.records,
            unreadable=self.unreadable,
            untimed=self.untimed,
            first=_moment(self.first),
            last=_moment(self.last),
            by_event_type=_sorted(self.event_types),
            by_publisher=_sorted(self.publishers),
            by_priority=_sorted(self.priorities),
            by_exchange=_sorted(self.exchanges),
            rate=rate,
            cadf={action: _sorted(outcomes) for action, outcomes in sorted(self.cadf.items())},
            payload_versions=_sorted(self.versions),
        )


def _sorted(counter: Counter[str]) -> dict[str, int]:
    """Largest count first, then by name: the order a person reads."""
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def _moment(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc)


def run(options: StatsOptions, console: StatsConsole) -> Stats:
    """Read every file once and return the counts; raises InputError for an unreadable file."""
    tally = _Tally()

    def on_unreadable(line: Unreadable) -> None:
        tally.unreadable += 1
        console.unreadable(line)

    files = expand_inputs(options.files)
    for entry in read(files, on_unreadable):
        tally.add(entry.note)
    return tally.result(files)
