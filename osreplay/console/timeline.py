"""How ``osreplay timeline`` speaks: the page it writes and the line that names it."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any, TextIO

from osreplay.console.scenario import (
    Diagnostics,
    plural,
)
from osreplay.console.text import json_line, text_lines
from osreplay.console.timeline_page import PAGE
from osreplay.model.notification import PRIORITIES
from osreplay.model.output import output_path, write_whole
from osreplay.scenario.timeline import Lane, Row, Timeline

# --- timeline --------------------------------------------------------------------------


class TimelineConsole(Diagnostics):
    """Writes the page to ``output`` and one line saying what it holds to ``out``."""

    def __init__(self, out: TextIO, err: TextIO, *, output: str) -> None:
        super().__init__(err)
        self.out, self.output = out, output
        # Before any file is read: a folder or a path that cannot be written is an error now.
        self._target = output_path(output, atomic=True)

    def finish(self, timeline: Timeline) -> None:
        self.close_diagnostics()
        page = timeline_page(timeline)
        if self.output == "-":  # the page on stdout, the summary on stderr
            self.out.write(page)
            self.err.write(text_lines([timeline_line(timeline, "<stdout>")]))
            return
        # The output-path rule: a device, FIFO or socket is written in place, a link's
        # target is written, a regular file is replaced whole (osreplay.model.output).
        write_whole(self._target, page.encode("utf-8"))
        self.out.write(text_lines([timeline_line(timeline, self.output)]))


_LANE_NAMES = {
    "request": "request id",
    "global-request": "global request id",
    "resource": "resource id",
    "trace": "trace id",
}
_INFO_FLAG = PRIORITIES.index("INFO") * 2


def timeline_line(timeline: Timeline, output: str) -> str:
    """``Wrote boot.html: 14 records in 11 rows by event type, 10 lanes by request id``."""
    rows = "publisher" if timeline.rows_by == "publisher" else "event type"
    lanes = plural(len(timeline.lanes), "lane")
    if timeline.groups > len(timeline.lanes):
        lanes = f"{len(timeline.lanes):,} of {timeline.groups:,} lanes (--max-lanes)"
    text = (
        f"Wrote {output}: {plural(timeline.records, 'record')} in "
        f"{plural(len(timeline.rows), 'row')} by {rows}, {lanes} by {_LANE_NAMES[timeline.by]}"
    )
    if timeline.untimed:
        text += f"; {plural(timeline.untimed, 'record')} without a time not drawn"
    return text


def _deltas(values: Iterable[int]) -> list[int]:
    out, previous = [], 0
    for value in values:
        out.append(value - previous)
        previous = value
    return out


def _runs(values: Iterable[int]) -> list[int]:
    """``[count, value, count, value, …]``."""
    out: list[int] = []
    for value in values:
        if out and out[-1] == value:
            out[-2] += 1
        else:
            out.extend((1, value))
    return out


def _row_document(row: Row, origin: float) -> dict[str, Any]:
    # Times in whole milliseconds from the first record, each the difference from the one
    # before (the row is in time order): a few characters per record.
    times = _deltas(round(epoch * 1000 - origin) for epoch in row.epochs)
    flags: list[int] = []
    for index, flag in enumerate(row.flags):
        if flag != _INFO_FLAG:
            flags.extend((index, flag))
    return {
        "name": row.name,
        "n": row.records,
        "t": times,
        "ln": _deltas(row.lines),
        "fi": _runs(row.files),
        "fl": flags,
    }


def _ms(value: float) -> float:
    return round(value * 1000, 3)


def _lane_document(lane: Lane) -> list[Any]:
    start = lane.start
    return [
        lane.key,
        _ms(lane.start),
        _ms(lane.end - start),
        lane.records,
        lane.failures,
        list(lane.publishers),
        list(lane.event_types),
        [
            [
                _ms(bar.start - start),
                _ms(bar.end - start),
                bar.depth,
                bar.name,
                bar.id,
                int(bar.error),
                int(bar.open),
            ]  # fmt: skip
            for bar in lane.bars
        ],
        [[_ms(at - start), where, event] for at, where, event in lane.failed_records],
    ]


def timeline_document(timeline: Timeline) -> dict[str, Any]:
    """The data the page's script draws from (times in milliseconds)."""
    origin = 0.0 if timeline.first is None else round(timeline.first * 1000)
    return {
        "files": list(timeline.files),
        "paths": timeline.paths,
        "rowsBy": timeline.rows_by,
        "by": timeline.by,
        "byName": _LANE_NAMES[timeline.by],
        "records": timeline.records,
        "failures": timeline.failures,
        "untimed": timeline.untimed,
        "unreadable": timeline.unreadable,
        "first": None if timeline.first is None else timeline.first * 1000,
        "last": None if timeline.last is None else timeline.last * 1000,
        "origin": origin,
        "rows": [_row_document(row, origin) for row in timeline.rows],
        "marks": [
            [m.epoch * 1000, m.row, PRIORITIES.index(m.priority), int(m.failed), m.where, m.record]
            for m in timeline.marks
        ],
        "lanes": [_lane_document(lane) for lane in timeline.lanes],
        "groups": timeline.groups,
        "ungrouped": timeline.ungrouped,
    }


def timeline_page(timeline: Timeline) -> str:
    """The whole self-contained HTML page."""
    # json_line escapes lone surrogates and the JS line terminators U+2028/U+2029.
    data = json_line(timeline_document(timeline), compact=True)
    # Inside <script>: no "<" at all (so no "</script>").
    data = data.replace("<", "\\u003c")
    names = ", ".join(display for display in timeline.files)
    title = html.escape(f"osreplay timeline: {names}")
    return PAGE.replace("__TITLE__", title).replace("__DATA__", data)
