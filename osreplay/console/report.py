"""Reporters: turn validation verdicts into text or JSON on a stream.

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

Every text line goes through :func:`escape_control` (control characters, lone
surrogates): data from a recording cannot forge lines or colour a terminal, and printing
never fails. :func:`json_line` is the same for JSON text.
"""

from __future__ import annotations

import json
import os
import re
import stat
import time
from collections.abc import Callable
from typing import Any, TextIO

from osreplay.validate.validator import Problem, Summary, Verdict

# Shown where a record has no usable event_type (a bare CADF event, a broken record).
NO_EVENT_TYPE = "-"
# Carriage return, then erase to the end of the line: redraws a terminal status line.
_CLEAR_LINE = "\r\033[K"

# What must never reach a terminal or a log raw: C0 and C1 controls (ESC, CR, LF, …), DEL,
# the Unicode line and paragraph separators, and lone surrogates (not encodable as UTF-8).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_CONTROL_BUT_LF = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# The same in JSON text, where json.dumps already escapes C0 controls.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_control(text: str, *, multiline: bool = False) -> str:
    """``text`` with control characters and lone surrogates shown as ``\\x1b``, ``\\ud800``.

    For every line a person reads (reports, progress, messages on stderr): data from a
    recording can neither forge a line nor colour the terminal, and printing never fails.
    ``multiline`` keeps line feeds, for a message written as several lines on purpose
    (the data inside it must then be escaped already, as the core does with ``repr``).
    """
    pattern = _CONTROL_BUT_LF if multiline else _CONTROL
    return pattern.sub(_escape_char, text) if pattern.search(text) else text


def json_line(value: Any) -> str:
    """``value`` as one line of JSON (non-ASCII kept) that is safe to print, whatever it holds."""
    text = json.dumps(value, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def records(count: int) -> str:
    """``record`` or ``records``, to follow ``count``."""
    return "record" if count == 1 else "records"


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


# --- live output of the long-running commands (stderr, terminals only) ----------------
#
# A live line (record's counter, replay's progress bar) is redrawn in place with a carriage
# return, so anything else written to that terminal meanwhile lands on it. It is drawn only
# where nothing else can write to the terminal while it runs:
#
# - ``record`` draws its counter only when the records go to a file: not to the terminal
#   (they would land on the counter) and not into a pipe, whose reader (``jq``, ``osreplay
#   replay``) may print to the same terminal;
# - ``replay`` draws its progress bar only when it reads files (or a file redirected to
#   standard input), not a pipe, whose writer (``osreplay record``) may print to the same
#   terminal. In the ``record | replay`` mirror neither draws: both print whole lines only.


def _kind(stream: Any) -> str:
    """``tty``, ``pipe`` (FIFO or socket), ``file`` (regular file or /dev/null) or ``other``."""
    try:
        fd = stream.fileno()
        if os.isatty(fd):
            return "tty"
        mode = os.fstat(fd).st_mode
    except (AttributeError, OSError, ValueError):  # not a real file (tests, closed)
        return "other"
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        return "pipe"
    if stat.S_ISREG(mode) or stat.S_ISCHR(mode):
        return "file"
    return "other"


def stderr_is_terminal(stderr: Any) -> bool:
    return _kind(stderr) == "tty"


def record_draws_counter(*, stderr: Any, stdout: Any, output: str) -> bool:
    """True when record's live counter can be drawn on ``stderr`` (see above)."""
    if not stderr_is_terminal(stderr):
        return False
    return output != "-" or _kind(stdout) == "file"


def replay_draws_progress(*, stderr: Any, stdin: Any, streaming: bool) -> bool:
    """True when replay's progress bar can be drawn on ``stderr`` (see above)."""
    if not stderr_is_terminal(stderr):
        return False
    return not streaming or _kind(stdin) == "file"


def reads_a_terminal(stdin: Any) -> bool:
    """True when standard input is a terminal (a person would type the records)."""
    return _kind(stdin) == "tty"


class ValidateProgress:
    """``validating FILE: N records, R/s`` on a terminal, redrawn at most 5 times a second.

    ``tick`` is cheap enough to call for every record: it looks at the clock only every
    1,024 calls.
    """

    def __init__(self, stream: TextIO, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.clock = clock
        self.started = clock()
        self.drawn = self.started
        self.count = 0
        self.shown = False

    def tick(self, path: str) -> None:
        self.count += 1
        if self.count & 1023:
            return
        now = self.clock()
        if now - self.drawn >= 0.2:
            self.drawn = now
            elapsed = now - self.started
            rate = self.count / elapsed if elapsed > 0 else 0.0
            self.stream.write(
                f"{_CLEAR_LINE}validating {escape_control(path)}: {self.count} records, "
                f"{rate:,.0f}/s"
            )
            self.stream.flush()
            self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write(_CLEAR_LINE)
            self.stream.flush()


REPORTERS: dict[str, type[TextReporter] | type[JsonReporter]] = {
    "text": TextReporter,
    "json": JsonReporter,
}

__all__ = [
    "REPORTERS",
    "JsonReporter",
    "TextReporter",
    "ValidateProgress",
    "escape_control",
    "format_problem",
    "format_summary",
    "json_line",
    "reads_a_terminal",
    "records",
    "record_draws_counter",
    "replay_draws_progress",
    "stderr_is_terminal",
]
