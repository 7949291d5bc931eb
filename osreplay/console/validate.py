"""What ``osreplay validate`` prints: reporters, progress and the closing lines.

A reporter is built with the output stream, gets every :class:`~osreplay.validate.validator.Verdict`
in order, then the :class:`~osreplay.validate.validator.Summary`::

    reporter = REPORTERS["text"](sys.stdout, quiet=False)
    for verdict in verdicts:
        reporter.verdict(verdict)
    reporter.finish(summary)

``text`` writes one line per problem and a summary line::

    bad.ndjson:3: not valid JSON: Expecting value ('{oops')
    bad.ndjson:9: identity.authenticate: $.payload.outcome: "lost" is not one of …
    12 records: 4 valid, 6 invalid, 0 without payload schema, 2 unreadable

``quiet`` prints only the summary line (the exit code still tells valid from invalid).

``json`` writes one JSON document, problems streamed as they come (memory stays flat)::

    {"problems": [
      {"file": "a.ndjson", "line": 3, "status": "invalid", "event_type": "identity.authenticate",
       "json_path": "$.payload.outcome", "message": "..."}
    ],
    "summary": {"records": 12, "valid": 4, "invalid": 6, "no_schema": 0, "unreadable": 2}}

It ignores ``quiet``: the document is always complete. When a file becomes unreadable
half-way, ``finish(summary, error=MESSAGE)`` still closes it, with an ``"error"`` key.

:class:`ValidateConsole` is what :func:`osreplay.validate.run.run` talks to: it hands it
facts (verdicts, the summary, the error that cut a run short) and this module words them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TextIO

from osreplay.bus.url import mask_secrets
from osreplay.console.text import CLEAR_LINE, escape_control, json_line, records
from osreplay.errors import OsreplayError
from osreplay.validate.validator import Problem, Summary, Verdict

# Shown where a record has no usable event_type (a bare CADF event, a broken record).
NO_EVENT_TYPE = "-"


def format_problem(problem: Problem) -> str:
    """``FILE:LINE: EVENT_TYPE: JSON_PATH: MESSAGE``, or ``FILE:LINE: MESSAGE`` if unreadable."""
    if problem.json_path is None:
        return escape_control(f"{problem.path}:{problem.lineno}: {problem.message}")
    event_type = problem.event_type if problem.event_type is not None else NO_EVENT_TYPE
    return escape_control(
        f"{problem.path}:{problem.lineno}: {event_type}: {problem.json_path}: {problem.message}"
    )


def format_summary(summary: Summary) -> str:
    return (
        f"{summary.records} {records(summary.records)}: {summary.valid} valid, "
        f"{summary.invalid} invalid, "
        f"{summary.no_schema} without payload schema, {summary.unreadable} unreadable"
    )


class TextReporter:
    """One line per problem (left out when quiet), then the summary line."""

    def __init__(self, stream: TextIO, *, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet

    def verdict(self, verdict: Verdict) -> None:
        if self.quiet:
            return
        for problem in verdict.problems:
            self.stream.write(format_problem(problem) + "\n")

    def finish(self, summary: Summary, *, error: str | None = None) -> None:
        """The summary line; none when the run was cut short by ``error`` (told on stderr)."""
        if error is None:
            self.stream.write(format_summary(summary) + "\n")
        self.stream.flush()


class JsonReporter:
    """One JSON document: ``{"problems": [...], "summary": {...}}``."""

    def __init__(self, stream: TextIO, *, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        self._count = 0

    def verdict(self, verdict: Verdict) -> None:
        for problem in verdict.problems:
            item = {
                "file": problem.path,
                "line": problem.lineno,
                "status": verdict.status,
                "event_type": problem.event_type,
                "json_path": problem.json_path,
                "message": problem.message,
            }
            self.stream.write('{"problems": [\n  ' if not self._count else ",\n  ")
            self.stream.write(json_line(item))
            self._count += 1

    def finish(self, summary: Summary, *, error: str | None = None) -> None:
        """Close the document; ``error`` (a run cut short) is added as ``"error"``."""
        head = "\n],\n" if self._count else '{"problems": [],\n'
        tail = f',\n"error": {json_line(error)}' if error is not None else ""
        self.stream.write(head + '"summary": ' + json.dumps(summary.as_dict()) + tail + "}\n")
        self.stream.flush()


class ValidateProgress:
    """``validating FILE: N records, R/s`` on a terminal, redrawn at most 5 times a second.

    The run calls :meth:`update` every 1,024 lines (osreplay.validate.scan).
    """

    def __init__(self, stream: TextIO, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.clock = clock
        self.started = clock()
        self.drawn = self.started
        self.shown = False

    def update(self, path: str, records: int) -> None:
        """``records`` read so far, ``path`` being read."""
        now = self.clock()
        if now - self.drawn >= 0.2:
            self.drawn = now
            elapsed = now - self.started
            rate = records / elapsed if elapsed > 0 else 0.0
            self.stream.write(
                f"{CLEAR_LINE}validating {escape_control(path)}: {records} records, {rate:,.0f}/s"
            )
            self.stream.flush()
            self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write(CLEAR_LINE)
            self.stream.flush()


REPORTERS: dict[str, type[TextReporter] | type[JsonReporter]] = {
    "text": TextReporter,
    "json": JsonReporter,
}

__all__ = [
    "NO_EVENT_TYPE",
    "REPORTERS",
    "JsonReporter",
    "TextReporter",
    "ValidateConsole",
    "ValidateProgress",
    "format_problem",
    "format_summary",
]


class ValidateConsole:
    """The command line's console for :func:`osreplay.validate.run.run`.

    Reports on ``stdout`` in ``fmt`` (``text`` or ``json``); progress on ``stderr`` only
    where it cannot mix with the report: stderr a terminal, stdout not (or nothing printed
    before the summary).
    """

    def __init__(self, *, fmt: str, quiet: bool, stdout: TextIO, stderr: TextIO) -> None:
        self.stderr = stderr
        self.reporter = REPORTERS[fmt](stdout, quiet=quiet)
        show_progress = stderr.isatty() and (quiet or not stdout.isatty())
        self._progress = ValidateProgress(stderr) if show_progress else None
        self.verdict = self.reporter.verdict  # type: ignore[method-assign]

    def verdict(self, verdict: Verdict) -> None:
        self.reporter.verdict(verdict)

    def progress(self, path: str, records: int) -> None:
        if self._progress is not None:
            self._progress.update(path, records)

    def finish(self, summary: Summary, *, error: OsreplayError | None = None) -> None:
        if self._progress is not None:
            self._progress.close()
        message = None if error is None else escape_control(mask_secrets(str(error)))
        self.reporter.finish(summary, error=message)

    def interrupted(self, summary: Summary) -> None:
        # Not exit status 1: that would read as "invalid records found".
        self.stderr.write(
            f"Interrupted after {summary.records} {records(summary.records)}: "
            "the summary covers only those\n"
        )
        self.stderr.flush()
