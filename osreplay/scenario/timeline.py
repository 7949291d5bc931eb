"""``osreplay timeline``: the facts a picture of a recording is drawn from.

One pass over the recordings. Every record becomes a few numbers (its time, its row, its
priority, whether it failed: about 12 bytes each); its whole record is kept for the
picture's detail view only for the first ``max_marks`` records and for up to
``max_marks`` failures after them. So memory is a dozen bytes per record plus at most
``2 * max_marks`` records.

With at most ``max_marks`` records every record is a mark of its own. Past that the rows
are drawn as :data:`BUCKETS` time buckets per row (count, failures, worst priority) and
failures kept whole are drawn over them one by one, so they stay visible.

A record *fails* when its priority is ERROR or CRITICAL or its payload is a CADF event
whose outcome is ``failure``. Records without a time (no ``timestamp``, no
``recorded_at``) cannot be placed and are only counted.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from typing import Any, Protocol

from osreplay.errors import UsageError
from osreplay.model.files import expand_inputs
from osreplay.model.notification import CADF_EVENT_TYPEURI, PRIORITIES, Notification
from osreplay.scenario.records import Unreadable, read, sent_at

ROWS_BY = ("event_type", "publisher")
BUCKETS = 1000
FAILING_PRIORITIES = frozenset(("ERROR", "CRITICAL"))


@dataclass(frozen=True, slots=True)
class TimelineOptions:
    """What to read, what a row is, and how many records may be drawn one by one."""

    files: tuple[str, ...]
    rows: str = "event_type"
    max_marks: int = 10_000


@dataclass(frozen=True, slots=True)
class Mark:
    """One record drawn on its own: when, where, and the record as recorded."""

    epoch: float
    row: int
    priority: str
    failed: bool
    where: str
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Cell:
    """One bucket of one row: how many records, how many failed, the worst priority."""

    row: int
    bucket: int
    records: int
    failures: int
    worst: str


@dataclass(slots=True)
class Timeline:
    """Everything the picture shows; ``aggregated`` says whether rows are buckets."""

    files: tuple[str, ...]
    rows_by: str
    rows: list[str] = field(default_factory=list)
    row_counts: list[int] = field(default_factory=list)
    records: int = 0
    failures: int = 0
    untimed: int = 0
    unreadable: int = 0
    first: float | None = None
    last: float | None = None
    aggregated: bool = False
    bucket_seconds: float = 0.0
    marks: list[Mark] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)


class TimelineConsole(Protocol):
    """Where ``run`` reports unreadable lines (skipped)."""

    def unreadable(self, line: Unreadable) -> None: ...


def failed(note: Notification) -> bool:
    """ERROR or CRITICAL, or a CADF event whose outcome is failure."""
    if note.priority in FAILING_PRIORITIES:
        return True
    payload = note.payload
    return (
        payload.__class__ is dict
        and payload.get("typeURI") == CADF_EVENT_TYPEURI
        and payload.get("outcome") == "failure"
    )


class _Collector:
    def __init__(self, options: TimelineOptions, result: Timeline) -> None:
        self.options, self.result = options, result
        self.row_index: dict[str, int] = {}
        self.epochs = array("d")
        self.rows = array("I")
        self.flags = array("B")  # priority index * 2 + failed
        self.kept_failures = 0

    def add(self, path: str, lineno: int, note: Notification) -> None:
        result = self.result
        result.records += 1
        moment = sent_at(note)
        is_failure = failed(note)
        result.failures += is_failure
        if moment is None:
            result.untimed += 1
            return
        epoch = moment.timestamp()
        key = note.event_type if self.options.rows == "event_type" else note.publisher_id
        if key is None:
            key = "null"  # oslo sends publisher_id null when none is set
        row = self.row_index.get(key)
        if row is None:
            row = self.row_index[key] = len(result.rows)
            result.rows.append(key)
            result.row_counts.append(0)
        result.row_counts[row] += 1
        result.first = epoch if result.first is None else min(result.first, epoch)
        result.last = epoch if result.last is None else max(result.last, epoch)
        self.epochs.append(epoch)
        self.rows.append(row)
        self.flags.append(PRIORITIES.index(note.priority) * 2 + is_failure)
        placed = len(self.epochs)
        if placed <= self.options.max_marks or (
            is_failure and self.kept_failures < self.options.max_marks
        ):
            self.kept_failures += is_failure and placed > self.options.max_marks
            mark = Mark(epoch, row, note.priority, is_failure, f"{path}:{lineno}", note.to_dict())
            result.marks.append(mark)

    def finish(self) -> Timeline:
        result = self.result
        if len(self.epochs) <= self.options.max_marks or result.first is None:
            return result
        result.aggregated = True
        first, last = result.first, result.last or result.first
        width = max((last - first) / BUCKETS, 1e-6)
        result.bucket_seconds = width
        cells: dict[tuple[int, int], list[int]] = {}
        for epoch, row, flag in zip(self.epochs, self.rows, self.flags, strict=True):
            bucket = min(math.floor((epoch - first) / width), BUCKETS - 1)
            cell = cells.setdefault((row, bucket), [0, 0, 0])
            cell[0] += 1
            cell[1] += flag & 1
            cell[2] = max(cell[2], _severity(flag >> 1))
        result.cells = [
            Cell(row, bucket, n, fails, _BY_SEVERITY[worst])
            for (row, bucket), (n, fails, worst) in sorted(cells.items())
        ]
        result.marks = [mark for mark in result.marks if mark.failed]
        return result


# Worst first when buckets merge: the priorities ordered by how alarming they are.
_BY_SEVERITY = ("SAMPLE", "DEBUG", "INFO", "AUDIT", "WARN", "ERROR", "CRITICAL")


def _severity(priority_index: int) -> int:
    return _BY_SEVERITY.index(PRIORITIES[priority_index])


def run(options: TimelineOptions, console: TimelineConsole) -> Timeline:
    """Read the recordings and return what to draw; raises InputError, UsageError."""
    if options.rows not in ROWS_BY:
        raise UsageError(f"--rows must be one of {', '.join(ROWS_BY)}, not {options.rows!r}")
    result = Timeline(expand_inputs(options.files), options.rows)

    def on_unreadable(line: Unreadable) -> None:
        result.unreadable += 1
        console.unreadable(line)

    collector = _Collector(options, result)
    for entry in read(result.files, on_unreadable):
        collector.add(entry.path, entry.lineno, entry.note)
    return collector.finish()
