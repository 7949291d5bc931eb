"""``osreplay timeline``: the facts a picture of a recording is drawn from.

Two views of one pass over the recordings.

**The strip**: one row per event type (or publisher), rows in natural order (``host-2``
before ``host-10``). Every timed record is kept as a few numbers (its time, line, file,
priority, whether it failed: about 20 bytes each), so that the page can bucket the
records again at every zoom level and any record can be reached at any record count;
the whole record is kept for the page's detail view only for the first ``max_marks``
records and for up to ``max_marks`` failures after them.

**The waterfall**: one lane per group as ``osreplay trace`` groups them (``by``: request,
global request, resource or osprofiler trace; :class:`osreplay.scenario.trace.Grouper`),
each lane its spans from start to end, nested spans one level deeper, failed records and
failed spans marked. At most ``max_lanes`` lanes are kept (the first ones, and up to as
many lanes with a failure after them); the others are counted.

A record *fails* when its priority is ERROR or CRITICAL or its payload is a CADF event
whose outcome is ``failure``. Records without a time (no ``timestamp``, no
``recorded_at``) cannot be placed and are only counted.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass, field
from typing import Any, Protocol

from osreplay.errors import UsageError
from osreplay.model.files import expand_inputs
from osreplay.model.notification import PRIORITIES, Notification
from osreplay.scenario.profile import ProfileSpan
from osreplay.scenario.records import FAILING_PRIORITIES, Unreadable, failed, read, sent_at
from osreplay.scenario.trace import BY, BY_REQUEST, ERROR, OPEN, Grouper
from osreplay.scenario.trace import Group as TraceGroup

__all__ = ["FAILING_PRIORITIES", "failed"]

ROWS_BY = ("event_type", "publisher")
# Spans in one lane past which nesting is not worked out (each is then one level deep).
_NESTING_LIMIT = 200


@dataclass(frozen=True, slots=True)
class TimelineOptions:
    """What to read, what a row and a lane are, and how much is kept whole."""

    files: tuple[str, ...]
    rows: str = "event_type"
    max_marks: int = 500
    by: str = BY_REQUEST
    max_lanes: int = 500


@dataclass(frozen=True, slots=True)
class Mark:
    """One record kept whole for the detail view: when, where, and the record."""

    epoch: float
    row: int
    priority: str
    failed: bool
    where: str
    record: dict[str, Any]


@dataclass(slots=True)
class Row:
    """The timed records of one row, in time order (file order on ties)."""

    name: str
    epochs: array[float] = field(default_factory=lambda: array("d"))
    files: array[int] = field(default_factory=lambda: array("I"))  # index in Timeline.paths
    lines: array[int] = field(default_factory=lambda: array("Q"))
    flags: array[int] = field(default_factory=lambda: array("B"))  # priority index * 2 + failed

    @property
    def records(self) -> int:
        return len(self.epochs)


@dataclass(frozen=True, slots=True)
class Bar:
    """One span of a lane: ``depth`` 0 is the whole group, deeper ones nest in it."""

    start: float  # epoch seconds
    end: float
    depth: int
    name: str
    id: str
    error: bool = False
    open: bool = False  # a start without its end: drawn to the end of the lane


@dataclass(frozen=True, slots=True)
class Lane:
    """One group of the waterfall: its bars and its failed records."""

    key: str
    start: float
    end: float
    records: int
    failures: int
    publishers: tuple[str, ...]
    event_types: tuple[str, ...]
    bars: tuple[Bar, ...]
    failed_records: tuple[tuple[float, str, str], ...]  # (epoch, FILE:LINE, event type)


@dataclass(slots=True)
class Timeline:
    """Everything the page shows."""

    files: tuple[str, ...]
    rows_by: str
    by: str = BY_REQUEST
    rows: list[Row] = field(default_factory=list)
    records: int = 0
    failures: int = 0
    untimed: int = 0
    unreadable: int = 0
    first: float | None = None
    last: float | None = None
    paths: list[str] = field(default_factory=list)  # the files records were read from
    marks: list[Mark] = field(default_factory=list)
    lanes: list[Lane] = field(default_factory=list)
    groups: int = 0  # lanes before max_lanes
    ungrouped: int = 0  # records without a key for ``by``


class TimelineConsole(Protocol):
    """Where ``run`` reports unreadable lines (skipped)."""

    def unreadable(self, line: Unreadable) -> None: ...


_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """``compute-2`` before ``compute-10``: runs of digits compare as numbers."""
    return tuple(
        (1, int(part)) if part.isdigit() else (0, part.casefold())
        for part in _DIGITS.split(text)
        if part
    )


def lane_of(group: TraceGroup) -> Lane:
    """A closed ``trace`` group as a lane of bars."""
    times = [step.at.timestamp() for step in group.steps if step.at is not None]
    start, end = (min(times), max(times)) if times else (0.0, 0.0)
    failed_steps = [step for step in group.steps if step.failed]
    bars = [Bar(start, end, 0, group.key, group.key, error=bool(failed_steps))]
    if group.tree:
        spans: list[ProfileSpan] = list(group.tree)
        starts = [s.start or s.end for top in spans for s in top.walk()]
        ends = [s.end or s.start for top in spans for s in top.walk()]
        start = min([start, *(t.timestamp() for t in starts if t is not None)])
        end = max([end, *(t.timestamp() for t in ends if t is not None)])
        bars[0] = Bar(start, end, 0, group.key, group.key, error=bars[0].error)
        for top in spans:
            _profile_bars(top, 1, bars)
    elif group.children:
        for child in group.children:
            child_times = [step.at.timestamp() for step in child.steps if step.at is not None]
            if not child_times:
                continue
            c_start, c_end = min(child_times), max(child_times)
            publisher = next((step.publisher for step in child.steps if step.publisher), None)
            name = f"{publisher}: {child.key}" if publisher else child.key
            child_failed = any(step.failed for step in child.steps)
            bars.append(Bar(c_start, c_end, 1, name, child.key, error=child_failed))
            bars.extend(_event_bars(child, 2, c_end))
    else:
        bars.extend(_event_bars(group, 1, end))
    publishers = tuple(dict.fromkeys(step.publisher for step in group.steps if step.publisher))
    event_types = tuple(dict.fromkeys(step.event_type for step in group.steps))
    return Lane(
        group.key,
        start,
        end,
        len(group.steps),
        len(failed_steps),
        publishers,
        event_types,
        tuple(bars),
        tuple(
            (step.at.timestamp(), f"{step.path}:{step.lineno}", step.event_type)
            for step in failed_steps
            if step.at is not None
        ),
    )


def _profile_bars(span: ProfileSpan, depth: int, out: list[Bar]) -> None:
    start, end = span.start or span.end, span.end or span.start
    assert start is not None and end is not None  # a span has a start or an end
    name = span.name + (f" ({span.service})" if span.service else "")
    opened = span.start is None or span.end is None
    out.append(
        Bar(
            start.timestamp(), end.timestamp(), depth, name, span.trace_id, bool(span.error), opened
        )
    )
    for child in span.children:
        _profile_bars(child, depth + 1, out)


def _event_bars(group: TraceGroup, depth: int, lane_end: float) -> list[Bar]:
    """``X.start`` … ``X.end`` spans; a span inside another is one level deeper."""
    found: list[tuple[float, float, str, str, bool, bool]] = []
    for span in group.spans:
        if span.start.at is None:
            continue
        start = span.start.at.timestamp()
        end = span.end.at.timestamp() if span.end is not None and span.end.at else lane_end
        where = f"{span.start.path}:{span.start.lineno}"
        found.append((start, max(end, start), span.event, where, span.outcome == ERROR,
                      span.outcome == OPEN))  # fmt: skip
    found.sort(key=lambda item: (item[0], -item[1]))
    bars = []
    for index, (start, end, event, where, error, opened) in enumerate(found):
        level = depth
        if len(found) <= _NESTING_LIMIT:
            level += sum(
                1
                for other, (o_start, o_end, *_) in enumerate(found)
                if other != index
                and o_start <= start
                and end <= o_end
                and (o_start, -o_end, other) < (start, -end, index)
            )
        bars.append(Bar(start, end, level, event, f"{event}@{where}", error, opened))
    return bars


class _Collector:
    def __init__(self, options: TimelineOptions, result: Timeline) -> None:
        self.options, self.result = options, result
        self.row_index: dict[str, int] = {}
        self.file_index: dict[str, int] = {}
        self.kept_failures = 0
        self.placed = 0
        self.failing_lanes = 0
        self.grouper = Grouper(options.by, self._lane, max_groups=10_000)
        self.seq = 0

    def _lane(self, group: TraceGroup) -> None:
        result = self.result
        result.groups += 1
        if not group.steps:
            return
        has_failure = any(step.failed for step in group.steps) or any(
            bar_error for bar_error in _group_errors(group)
        )
        limit = self.options.max_lanes
        if len(result.lanes) - self.failing_lanes < limit or (
            has_failure and self.failing_lanes < limit
        ):
            if len(result.lanes) - self.failing_lanes >= limit:
                self.failing_lanes += 1
            result.lanes.append(lane_of(group))

    def add(self, path: str, lineno: int, note: Notification) -> None:
        result = self.result
        result.records += 1
        if not self.grouper.add(self.seq, path, lineno, note):
            result.ungrouped += 1
        self.seq += 1
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
            result.rows.append(Row(key))
        file = self.file_index.get(path)
        if file is None:
            file = self.file_index[path] = len(result.paths)
            result.paths.append(path)
        target = result.rows[row]
        target.epochs.append(epoch)
        target.files.append(file)
        target.lines.append(lineno)
        target.flags.append(PRIORITIES.index(note.priority) * 2 + is_failure)
        result.first = epoch if result.first is None else min(result.first, epoch)
        result.last = epoch if result.last is None else max(result.last, epoch)
        self.placed += 1
        if self.placed <= self.options.max_marks or (
            is_failure and self.kept_failures < self.options.max_marks
        ):
            self.kept_failures += is_failure and self.placed > self.options.max_marks
            mark = Mark(epoch, row, note.priority, is_failure, f"{path}:{lineno}", note.to_dict())
            self.result.marks.append(mark)

    def finish(self) -> Timeline:
        result = self.result
        self.grouper.finish()
        # Rows in natural order; marks follow their row to its new place.
        order = sorted(range(len(result.rows)), key=lambda r: natural_key(result.rows[r].name))
        place = {old: new for new, old in enumerate(order)}
        result.rows = [_sorted_row(result.rows[old]) for old in order]
        result.marks = [
            Mark(m.epoch, place[m.row], m.priority, m.failed, m.where, m.record)
            for m in result.marks
        ]
        result.lanes.sort(key=lambda lane: (lane.start, natural_key(lane.key)))
        return result


def _group_errors(group: TraceGroup) -> list[bool]:
    if group.tree:
        return [bool(span.error) for top in group.tree for span in top.walk()]
    return [span.outcome == ERROR for span in group.spans]


def _sorted_row(row: Row) -> Row:
    order = sorted(range(row.records), key=lambda i: row.epochs[i])  # stable: file order
    return Row(
        row.name,
        array("d", (row.epochs[i] for i in order)),
        array("I", (row.files[i] for i in order)),
        array("Q", (row.lines[i] for i in order)),
        array("B", (row.flags[i] for i in order)),
    )


def run(options: TimelineOptions, console: TimelineConsole) -> Timeline:
    """Read the recordings and return what to draw; raises InputError, UsageError."""
    if options.rows not in ROWS_BY:
        raise UsageError(f"--rows must be one of {', '.join(ROWS_BY)}, not {options.rows!r}")
    if options.by not in BY:
        raise UsageError(f"--by must be one of {', '.join(BY)}, not {options.by!r}")
    result = Timeline(expand_inputs(options.files), options.rows, options.by)

    def on_unreadable(line: Unreadable) -> None:
        result.unreadable += 1
        console.unreadable(line)

    collector = _Collector(options, result)
    for entry in read(result.files, on_unreadable):
        collector.add(entry.path, entry.lineno, entry.note)
    return collector.finish()
