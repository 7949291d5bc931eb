"""How ``stats``, ``trace``, ``diff`` and ``timeline`` speak: text tables and JSON documents.

Reports go to the ``out`` stream (stdout), diagnostics to ``err`` (stderr). Each command
has a console class the core calls while it runs (unreadable lines, groups as they close)
and a ``finish`` that prints the result; ``text`` and ``json`` are the two formats.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TextIO

from osreplay.console.timeline_page import PAGE
from osreplay.errors import InputError
from osreplay.model.notification import PRIORITIES
from osreplay.scenario.diff import ADDED, REMOVED, TYPE, VERSION, Change, DiffSummary, format_path
from osreplay.scenario.records import Unreadable, iso
from osreplay.scenario.stats import Stats
from osreplay.scenario.timeline import Timeline
from osreplay.scenario.trace import BY_REQUEST, OPEN, Group, Span, Step, TraceSummary

FORMATS = ("text", "json")
_SPARK = " ▁▂▃▄▅▆▇█"
_TOP = 20  # rows per stats table in text; JSON has them all


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f} s" if value < 60 else _human(value)


def _human(seconds: float) -> str:
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (sec, "s")]
    return " ".join(f"{n} {unit}" for n, unit in parts if n) or "0 s"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """Aligned columns: text left, numbers right; two spaces between columns."""
    cells = [list(map(str, headers))] + [[_cell(value) for value in row] for row in rows]
    numeric = [all(_is_number(row[i]) for row in cells[1:]) for i in range(len(headers))]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        parts = [
            row[i].rjust(widths[i]) if numeric[i] else row[i].ljust(widths[i])
            for i in range(len(headers))
        ]
        lines.append("  ".join(parts).rstrip())
    return lines


def _cell(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _is_number(text: str) -> bool:
    return text.replace(",", "").replace(".", "").isdigit()


class Diagnostics:
    """Unreadable lines on stderr, ``FILE:LINE: reason (skipped)``, the first MAX_SHOWN."""

    MAX_SHOWN = 20

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.unreadable_lines = 0

    def unreadable(self, line: Unreadable) -> None:
        self.unreadable_lines += 1
        if self.unreadable_lines <= self.MAX_SHOWN:
            self.err.write(f"{line.path}:{line.lineno}: {line.reason} (skipped)\n")

    def close_diagnostics(self) -> None:
        """Say how many unreadable lines there were when not all were shown."""
        if self.unreadable_lines > self.MAX_SHOWN:
            self.err.write(
                f"{self.unreadable_lines:,} unreadable lines skipped in all "
                f"(the first {self.MAX_SHOWN} shown)\n"
            )


# --- stats -----------------------------------------------------------------------------


class StatsConsole(Diagnostics):
    """Prints the finished :class:`~osreplay.scenario.stats.Stats` as text or JSON."""

    def __init__(self, out: TextIO, err: TextIO, *, fmt: str = "text") -> None:
        super().__init__(err)
        self.out, self.fmt = out, fmt

    def finish(self, stats: Stats) -> None:
        self.close_diagnostics()
        if self.fmt == "json":
            self.out.write(_dump(stats_document(stats)) + "\n")
        else:
            self.out.write("\n".join(stats_lines(stats)) + "\n")


def stats_document(stats: Stats) -> dict[str, Any]:
    """The ``--format json`` document; counts are plain integers."""
    rate = stats.rate
    return {
        "files": list(stats.files),
        "records": stats.records,
        "unreadable": stats.unreadable,
        "untimed": stats.untimed,
        "first": iso(stats.first),
        "last": iso(stats.last),
        "span_seconds": stats.span_seconds,
        "by_event_type": stats.by_event_type,
        "by_publisher": stats.by_publisher,
        "by_priority": stats.by_priority,
        "by_exchange": stats.by_exchange,
        "rate": {
            "bucket_seconds": rate.width,
            "start": iso(rate.start),
            "counts": list(rate.counts),
            "busiest_second": iso(rate.busiest_second),
            "busiest_second_records": rate.busiest_records,
        },
        "cadf": stats.cadf,
        "payload_versions": stats.payload_versions,
    }


def stats_lines(stats: Stats) -> list[str]:
    """The text report: a header, then one table per counter."""
    lines = [
        f"{stats.records:,} records, {stats.unreadable:,} unreadable lines"
        + (f", {stats.untimed:,} without timestamp" if stats.untimed else ""),
        f"first  {iso(stats.first) or '-'}",
        f"last   {iso(stats.last) or '-'}",
        f"span   {_seconds(stats.span_seconds)}",
    ]
    lines += _rate_lines(stats)
    for title, counts in (
        ("event type", stats.by_event_type),
        ("publisher", stats.by_publisher),
        ("priority", stats.by_priority),
        ("exchange", stats.by_exchange),
        ("payload version", stats.payload_versions),
    ):
        if counts:
            lines += ["", *_counter_table(title, counts)]
    if stats.cadf:
        rows = [
            (action, outcome, count)
            for action, outcomes in stats.cadf.items()
            for outcome, count in outcomes.items()
        ]
        lines += ["", *table(("CADF action", "outcome", "records"), rows)]
    return lines


def _counter_table(title: str, counts: dict[str, int]) -> list[str]:
    rows: list[tuple[str, int]] = list(counts.items())[:_TOP]
    more = len(counts) - len(rows)
    if more:
        rows.append((f"… {more} more (--format json lists all)", sum(list(counts.values())[_TOP:])))
    return table((title, "records"), rows)


def _per_second(records: int, seconds: float) -> str:
    rate = records / seconds
    return f"{rate:,.0f}/s" if rate >= 100 else f"{rate:.3g}/s"


def _rate_lines(stats: Stats) -> list[str]:
    rate = stats.rate
    if rate.start is None or not rate.counts:
        return []
    peak = max(rate.counts)
    spark = "".join(_SPARK[-1 if n == peak else (n * 8 + peak - 1) // peak] for n in rate.counts)
    span = stats.span_seconds or 0.0
    average = f", average {_per_second(stats.records - stats.untimed, span)}" if span else ""
    return [
        f"rate   {len(rate.counts)} buckets of {_human(rate.width)} from {iso(rate.start)}, "
        f"busiest {peak:,} records ({_per_second(peak, rate.width)}){average}",
        f"       |{spark}|",
        f"busiest second {iso(rate.busiest_second)}: {rate.busiest_records:,} records",
    ]


# --- trace -----------------------------------------------------------------------------

_KEY_NAMES = {BY_REQUEST: "request id", "resource": "resource id"}


class TraceConsole(Diagnostics):
    """Prints each group as the core closes it, then the summary (text) or ``]`` (JSON)."""

    def __init__(self, out: TextIO, err: TextIO, *, fmt: str = "text") -> None:
        super().__init__(err)
        self.out, self.fmt = out, fmt
        self._count = 0

    def group(self, group: Group) -> None:
        if self.fmt == "json":
            self.out.write(("[\n" if self._count == 0 else ",\n") + _dump(group_document(group)))
        else:
            self.out.write("\n".join(group_lines(group)) + "\n\n")
        self._count += 1

    def finish(self, summary: TraceSummary) -> None:
        self.close_diagnostics()
        if self.fmt == "json":
            self.out.write("[]\n" if self._count == 0 else "\n]\n")
        else:
            self.out.write(trace_summary_line(summary) + "\n")

    def missing(self, group_id: str, by: str) -> None:
        self.err.write(f"No record with {_KEY_NAMES[by]} {group_id}: check --id and --by.\n")


def group_document(group: Group) -> dict[str, Any]:
    """One group of the ``--format json`` list."""
    return {
        "key": group.key,
        "complete": group.complete,
        "dropped": group.dropped,
        "records": [_step_document(step) for step in group.steps],
        "spans": [_span_document(span) for span in group.spans],
    }


def _step_document(step: Step) -> dict[str, Any]:
    return {
        "file": step.path,
        "line": step.lineno,
        "event_type": step.event_type,
        "priority": step.priority,
        "at": iso(step.at),
    }


def _span_document(span: Span) -> dict[str, Any]:
    return {
        "event": span.event,
        "start": iso(span.start.at),
        "end": iso(span.end.at) if span.end else None,
        "seconds": None if span.seconds is None else round(span.seconds, 6),
        "outcome": span.outcome,
        "start_record": f"{span.start.path}:{span.start.lineno}",
        "end_record": f"{span.end.path}:{span.end.lineno}" if span.end else None,
    }


def group_lines(group: Group) -> list[str]:
    """A header, one line per record (offset from the first), one line per span."""
    times = [step.at for step in group.steps if step.at is not None]
    first, last = (min(times), max(times)) if times else (None, None)
    header = f"{group.key}: {_plural(len(group.steps), 'record')}"
    if first is not None and last is not None and first == last:
        header += f", at {iso(first)}"
    elif first is not None and last is not None:
        header += f", {iso(first)} to {iso(last)} ({_seconds((last - first).total_seconds())})"
    if group.dropped:
        header += f", {group.dropped} more not kept"
    if not group.complete:
        header += " [closed early: too many open groups]"
    lines = [header]
    offsets = [_offset(step.at, first) for step in group.steps]
    width = max(map(len, offsets), default=0)
    for offset, step in zip(offsets, group.steps, strict=True):
        lines.append(
            f"  {offset:>{width}}  {step.path}:{step.lineno}  {step.priority:<5}  {step.event_type}"
        )
    for span in group.spans:
        if span.outcome == OPEN:
            start = f"{span.start.path}:{span.start.lineno}"
            lines.append(f"  span {span.event}: open (started at {start}, no end)")
        else:
            lines.append(f"  span {span.event}: {_seconds(span.seconds)}, {span.outcome}")
    return lines


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _offset(at: datetime | None, first: datetime | None) -> str:
    if at is None or first is None:
        return "?"
    return f"+{(at - first).total_seconds():.3f} s"


def trace_summary_line(summary: TraceSummary) -> str:
    name = _KEY_NAMES[summary.by]
    text = (
        f"{_plural(summary.groups, 'group')} by {name}, {_plural(summary.records, 'record')} "
        f"({summary.ungrouped:,} without a {name}); "
        f"{_plural(summary.spans, 'span')}, {summary.open_spans:,} open"
    )
    if summary.unreadable:
        text += f"; {summary.unreadable:,} unreadable lines skipped"
    if summary.closed_early:
        text += f"; {summary.closed_early:,} groups closed early (raise --max-groups)"
    return text


# --- diff ------------------------------------------------------------------------------

_VALUE_PREVIEW = 60


class DiffConsole(Diagnostics):
    """Prints the differences as text lines or one JSON document."""

    def __init__(self, out: TextIO, err: TextIO, *, fmt: str = "text") -> None:
        super().__init__(err)
        self.out, self.fmt = out, fmt

    def finish(self, summary: DiffSummary) -> None:
        self.close_diagnostics()
        if self.fmt == "json":
            self.out.write(_dump(diff_document(summary)) + "\n")
        else:
            self.out.write("\n".join(diff_lines(summary)) + "\n")


def diff_document(summary: DiffSummary) -> dict[str, Any]:
    """``{"added": [...], "removed": [...], "count_changed": [...], "changed": [...]}``."""
    return {
        "a": summary.a,
        "b": summary.b,
        "records": {"a": summary.records_a, "b": summary.records_b, "pairs": summary.pairs},
        "added": summary.added,
        "removed": summary.removed,
        "count_changed": [
            {"event_type": c.event_type, "a": c.a, "b": c.b} for c in summary.counts if c.a and c.b
        ],
        "changed": [_change_document(change) for change in summary.changes],
    }


def _change_document(change: Change) -> dict[str, Any]:
    doc = {
        "event_type": change.event_type,
        "path": format_path(change.path),
        "kind": change.kind,
        "a": change.a,
        "b": change.b,
        "records": change.records,
        "first_a": change.where_a,
        "first_b": change.where_b,
    }
    if change.name is not None:
        doc["object"] = change.name
    return doc


def diff_lines(summary: DiffSummary) -> list[str]:
    """One line per event type added, removed or recounted, one per change, a verdict."""
    lines = []
    for count in summary.counts:
        if count.a == 0:
            lines.append(f"+ {count.event_type}: only in B ({_plural(count.b, 'record')})")
        elif count.b == 0:
            lines.append(f"- {count.event_type}: only in A ({_plural(count.a, 'record')})")
        else:
            lines.append(f"~ {count.event_type}: {count.a:,} records in A, {count.b:,} in B")
    for change in summary.changes:
        lines.append(f"{change.event_type}: {format_path(change.path)}: {_change_text(change)}")
    if summary.differs:
        types = len(
            {c.event_type for c in summary.counts} | {c.event_type for c in summary.changes}
        )
        lines.append(
            f"{len(summary.counts) + len(summary.changes)} differences in "
            f"{_plural(types, 'event type')} ({_counted(summary)})"
        )
    else:
        lines.append(f"No difference beyond volatile fields ({_counted(summary)})")
    return lines


def _counted(summary: DiffSummary) -> str:
    return (
        f"{_plural(summary.records_a, 'record')} in A, {summary.records_b:,} in B, "
        f"{_plural(summary.pairs, 'pair')} compared"
    )


def _change_text(change: Change) -> str:
    pairs = f" ({_plural(change.records, 'pair')})"
    if change.kind == ADDED:
        return f"only in B ({_preview(change.b)}){pairs}"
    if change.kind == REMOVED:
        return f"only in A ({_preview(change.a)}){pairs}"
    if change.kind == VERSION:
        name = f"{change.name} " if change.name else ""
        return f"{name}version {change.a} in A, {change.b} in B{pairs}"
    if change.kind == TYPE:
        return f"type changed: {_preview(change.a)} in A, {_preview(change.b)} in B{pairs}"
    return f"{_preview(change.a)} in A, {_preview(change.b)} in B{pairs}"


def _preview(value: Any) -> str:
    text = _dump(value)
    return text if len(text) <= _VALUE_PREVIEW else text[: _VALUE_PREVIEW - 1] + "…"


# --- timeline --------------------------------------------------------------------------


class TimelineConsole(Diagnostics):
    """Writes the page to ``output`` and one line saying what it holds to ``out``."""

    def __init__(self, out: TextIO, err: TextIO, *, output: str) -> None:
        super().__init__(err)
        self.out, self.output = out, output

    def finish(self, timeline: Timeline) -> None:
        self.close_diagnostics()
        page = timeline_page(timeline)
        if self.output == "-":  # the page on stdout, the summary on stderr
            self.out.write(page)
            self.err.write(timeline_line(timeline, "<stdout>") + "\n")
            return
        try:
            with open(self.output, "w", encoding="utf-8") as handle:
                handle.write(page)
        except IsADirectoryError:
            raise InputError(f"cannot write {self.output}: it is a directory") from None
        except FileNotFoundError:
            raise InputError(f"cannot write {self.output}: its directory does not exist") from None
        except OSError as exc:
            reason = exc.strerror.lower() if exc.strerror else str(exc)
            raise InputError(f"cannot write {self.output}: {reason}") from None
        self.out.write(timeline_line(timeline, self.output) + "\n")


def timeline_line(timeline: Timeline, output: str) -> str:
    """``Wrote timeline.html: 14 records in 11 rows (event type), one mark per record``."""
    rows = "publisher" if timeline.rows_by == "publisher" else "event type"
    how = (
        f"aggregated into {len(timeline.cells):,} buckets, "
        f"{_plural(len(timeline.marks), 'failure')} drawn one by one"
        if timeline.aggregated
        else "one mark per record"
    )
    text = (
        f"Wrote {output}: {_plural(timeline.records, 'record')} in "
        f"{_plural(len(timeline.rows), 'row')} by {rows}, {how}"
    )
    if timeline.untimed:
        text += f"; {_plural(timeline.untimed, 'record')} without a time not drawn"
    return text


def timeline_document(timeline: Timeline) -> dict[str, Any]:
    """The data the page's script draws from (times in milliseconds since the epoch)."""
    return {
        "files": list(timeline.files),
        "rowsBy": timeline.rows_by,
        "rows": timeline.rows,
        "rowCounts": timeline.row_counts,
        "records": timeline.records,
        "failures": timeline.failures,
        "untimed": timeline.untimed,
        "unreadable": timeline.unreadable,
        "first": None if timeline.first is None else timeline.first * 1000,
        "last": None if timeline.last is None else timeline.last * 1000,
        "aggregated": timeline.aggregated,
        "bucketMs": timeline.bucket_seconds * 1000,
        "marks": [
            [m.epoch * 1000, m.row, PRIORITIES.index(m.priority), int(m.failed), m.where, m.record]
            for m in timeline.marks
        ],
        "cells": [[c.row, c.bucket, c.records, c.failures, c.worst] for c in timeline.cells],
    }


def timeline_page(timeline: Timeline) -> str:
    """The whole self-contained HTML page."""
    data = json.dumps(timeline_document(timeline), ensure_ascii=False, separators=(",", ":"))
    # Inside <script>: no "<" at all (so no "</script>"), and no JS line terminators.
    data = data.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    names = ", ".join(display for display in timeline.files)
    title = html.escape(f"osreplay timeline: {names}")
    return PAGE.replace("__TITLE__", title).replace("__DATA__", data)
