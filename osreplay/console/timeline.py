"""How ``osreplay timeline`` speaks: the page it writes and the line that names it."""

from __future__ import annotations

import html
from typing import Any, TextIO

from osreplay.console.scenario import (
    Diagnostics,
    plural,
)
from osreplay.console.text import json_line, text_lines
from osreplay.console.timeline_page import PAGE
from osreplay.model.notification import PRIORITIES
from osreplay.model.output import output_path, write_whole
from osreplay.scenario.timeline import Timeline

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


def timeline_line(timeline: Timeline, output: str) -> str:
    """``Wrote timeline.html: 14 records in 11 rows (event type), one mark per record``."""
    rows = "publisher" if timeline.rows_by == "publisher" else "event type"
    how = (
        f"aggregated into {len(timeline.cells):,} buckets, "
        f"{plural(len(timeline.marks), 'failure')} drawn one by one"
        if timeline.aggregated
        else "one mark per record"
    )
    text = (
        f"Wrote {output}: {plural(timeline.records, 'record')} in "
        f"{plural(len(timeline.rows), 'row')} by {rows}, {how}"
    )
    if timeline.untimed:
        text += f"; {plural(timeline.untimed, 'record')} without a time not drawn"
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
    # json_line escapes lone surrogates and the JS line terminators U+2028/U+2029.
    data = json_line(timeline_document(timeline), compact=True)
    # Inside <script>: no "<" at all (so no "</script>").
    data = data.replace("<", "\\u003c")
    names = ", ".join(display for display in timeline.files)
    title = html.escape(f"osreplay timeline: {names}")
    return PAGE.replace("__TITLE__", title).replace("__DATA__", data)
