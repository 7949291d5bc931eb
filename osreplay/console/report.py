"""Live output and notices of record and replay (stderr, terminals only), redact's lines.

The validate reporters are in :mod:`osreplay.console.validate`; the shared text helpers
(:func:`escape_control`, :func:`json_line`, :func:`records`) in :mod:`osreplay.console.text`,
re-exported here.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from typing import Any, TextIO

from osreplay.bus.transport import mask_secrets
from osreplay.console.text import CLEAR_LINE as _CLEAR_LINE
from osreplay.console.text import escape_control, json_line, records

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


def format_duration(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    if hours:
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{rest // 60}:{rest % 60:02d}"


def long_plan_warning(seconds: float) -> str:
    """Said before a paced replay planned over more than an hour without ``--max-gap``."""
    hours = seconds / 3600
    span = f"{hours:,.1f} hours" if hours < 48 else f"{hours / 24:,.0f} days"
    return (
        f"Warning: this replay is planned over {span} (the recorded gaps; several files go "
        "back to back, each on its own gaps): --max-gap SECONDS caps each wait, --speed X "
        "or --rate N changes the pace"
    )


class ReplayProgress:
    """A one-line progress bar: count, rate, ETA; redrawn at most 5 times a second.

    Called by the replayer once per record sent (its ``observer``). With ``planned`` (the
    paced replay's planned duration) the ETA is what the plan has left after the record
    just sent, not a guess from the rate so far: a paced replay idles between records.
    """

    def __init__(
        self,
        total: int | None,
        stream: TextIO,
        *,
        planned: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.clock = clock
        self.total = total
        self.planned = planned
        self.offset = 0.0
        self.count = 0
        self.started = clock()
        self.drawn = 0.0

    def __call__(self, entry: Any, exchange: str, topic: str, offset: float, late: float) -> None:
        self.count += 1
        self.offset = offset
        now = self.clock()
        if now - self.drawn >= 0.2:
            self.drawn = now
            self.draw(now)

    def draw(self, now: float) -> None:
        elapsed = now - self.started
        rate = self.count / elapsed if elapsed > 0 else 0.0
        if self.total:
            width = 30
            done = int(width * min(self.count / self.total, 1))
            if self.planned is not None:
                eta = max(self.planned - self.offset, 0.0)
            else:
                eta = (self.total - self.count) / rate if rate > 0 else 0
            text = (
                f"[{'#' * done}{'.' * (width - done)}] {self.count}/{self.total} "
                f"{rate:.1f} msg/s ETA {format_duration(eta)}"
            )
        else:
            text = f"{self.count} {records(self.count)} {rate:.1f} msg/s"
        self.stream.write(_CLEAR_LINE + text)
        self.stream.flush()

    def clear(self) -> None:
        """Erase the bar before another line is written to the terminal (redrawn later)."""
        self.stream.write(_CLEAR_LINE)
        self.stream.flush()
        self.drawn = 0.0

    def close(self) -> None:
        self.stream.write(_CLEAR_LINE)
        self.stream.flush()


class RecordConsole:
    """The recorder's notices (one line each, passwords masked) and its live counter."""

    def __init__(self, stream: TextIO, *, progress_line: Callable[[Any], str]) -> None:
        self.stream = stream
        self._progress_line = progress_line
        self._progress_shown = False

    def event(self, kind: str, message: str) -> None:
        self.clear_progress()
        # Some notices are two lines on purpose (a reconnect and what may be missing).
        self.stream.write(escape_control(mask_secrets(message), multiline=True) + "\n")
        self.stream.flush()

    def progress(self, stats: Any) -> None:
        self.stream.write(_CLEAR_LINE + self._progress_line(stats))
        self.stream.flush()
        self._progress_shown = True

    def clear_progress(self) -> None:
        if self._progress_shown:
            self.stream.write(_CLEAR_LINE)
            self.stream.flush()
            self._progress_shown = False


__all__ = [
    "RecordConsole",
    "ReplayProgress",
    "escape_control",
    "format_duration",
    "long_plan_warning",
    "json_line",
    "reads_a_terminal",
    "records",
    "record_draws_counter",
    "replay_draws_progress",
    "stderr_is_terminal",
]


# --- osreplay redact -------------------------------------------------------------------


def redact_lines(summary: Any) -> list[str]:
    """What ``osreplay redact`` says on stderr: dropped lines, then one summary line."""
    lines = [
        f"Dropped line {dropped.lineno} of {summary.source}: {dropped.reason} "
        "(unreadable, so it could not be scrubbed)"
        for dropped in summary.dropped
    ]
    text = (
        f"Redacted {summary.records} records from {summary.source} into {summary.output}: "
        f"{summary.masked} with secrets masked"
    )
    if summary.pseudonyms:
        text += f", {summary.pseudonyms} distinct values pseudonymised"
    unlisted = summary.dropped_total - len(summary.dropped)
    if unlisted:
        lines.append(f"Dropped {unlisted} more unreadable lines of {summary.source}")
    if summary.dropped_total:
        noun = "line" if summary.dropped_total == 1 else "lines"
        text += f", {summary.dropped_total} unreadable {noun} dropped"
    lines.append(text)
    return lines


__all__ += ["redact_lines"]
