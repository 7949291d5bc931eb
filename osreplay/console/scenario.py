"""How ``stats`` speaks, and what ``trace``, ``diff`` and ``timeline`` share: tables, JSON.

Reports go to the ``out`` stream (stdout), diagnostics to ``err`` (stderr). Each command
has a console class the core calls while it runs (unreadable lines, groups as they close)
and a ``finish`` that prints the result; ``text`` and ``json`` are the two formats.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from osreplay.console.text import json_line, text_lines
from osreplay.scenario.records import Unreadable, iso
from osreplay.scenario.stats import Stats

FORMATS = ("text", "json")
_SPARK = " ▁▂▃▄▅▆▇█"
_TOP = 20  # rows per stats table in text; JSON has them all


def dump_json(value: Any) -> str:
    """One JSON document, printable whatever the records hold (lone surrogates escaped)."""
    return json_line(value)


def seconds_text(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f} s" if value < 60 else human_duration(value)


def human_duration(seconds: float) -> str:
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (sec, "s")]
    return " ".join(f"{n} {unit}" for n, unit in parts if n) or "0 s"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """Aligned columns: text left, numbers right; two spaces between columns."""
    cells = [list(map(str, headers))] + [[cell(value) for value in row] for row in rows]
    numeric = [all(is_number(row[i]) for row in cells[1:]) for i in range(len(headers))]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        parts = [
            row[i].rjust(widths[i]) if numeric[i] else row[i].ljust(widths[i])
            for i in range(len(headers))
        ]
        lines.append("  ".join(parts).rstrip())
    return lines


def cell(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def is_number(text: str) -> bool:
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
            self.err.write(text_lines([f"{line.path}:{line.lineno}: {line.reason} (skipped)"]))

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
            self.out.write(dump_json(stats_document(stats)) + "\n")
        else:
            self.out.write(text_lines(stats_lines(stats)))


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
        f"span   {seconds_text(stats.span_seconds)}",
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
    return _rate_text(records / seconds)


def _rate_text(rate: float) -> str:
    return f"{rate:,.0f}/s" if rate >= 100 else f"{rate:.3g}/s"


def _rate_lines(stats: Stats) -> list[str]:
    rate = stats.rate
    if rate.start is None or not rate.counts:
        return []
    peak = max(rate.counts)
    spark = "".join(_SPARK[-1 if n == peak else (n * 8 + peak - 1) // peak] for n in rate.counts)
    per_second = stats.average_per_second
    average = f", average {_rate_text(per_second)}" if per_second is not None else ""
    return [
        f"rate   {len(rate.counts)} buckets of {human_duration(rate.width)} "
        f"from {iso(rate.start)}, "
        f"busiest {peak:,} records ({_per_second(peak, rate.width)}){average}",
        f"       |{spark}|",
        f"busiest second {iso(rate.busiest_second)}: {rate.busiest_records:,} records",
    ]


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")
