"""What ``osreplay redact`` says on stderr: each line dropped, then one summary line."""

from __future__ import annotations

from typing import TextIO

from osreplay.console.text import records, text_lines
from osreplay.secrets.scrub import Dropped, RedactSummary


def dropped_line(dropped: Dropped) -> str:
    return (
        f"Dropped line {dropped.lineno} of {dropped.path}: {dropped.reason} "
        "(unreadable, so it could not be scrubbed)"
    )


def summary_lines(summary: RedactSummary) -> list[str]:
    """The count of dropped lines not listed one by one (if any), then the summary line."""
    lines = []
    text = (
        f"Redacted {summary.records} {records(summary.records)} from {summary.source} "
        f"into {summary.output}: "
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


class RedactConsole:
    """Lists the lines dropped as they are met, and the summary at the end (``err``)."""

    def __init__(self, err: TextIO) -> None:
        self.err = err

    def dropped(self, dropped: Dropped) -> None:
        self.err.write(text_lines([dropped_line(dropped)]))
        self.err.flush()

    def finish(self, summary: RedactSummary) -> None:
        self.err.write(text_lines(summary_lines(summary)))
        self.err.flush()


__all__ = ["RedactConsole", "dropped_line", "summary_lines"]
