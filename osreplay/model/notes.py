"""A recording read as notifications: each line a :class:`NoteLine`.

The one conversion from an NDJSON line (:class:`osreplay.model.ndjson.Line`) to the
record model, for every command that reads recordings as notifications (replay, stats,
trace, diff, timeline): a line is a notification, or it is unreadable and says why
(:func:`osreplay.model.notification.unreadable_reason` is the rule behind
:meth:`Notification.from_dict`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from osreplay.model.ndjson import DEFAULT_MAX_LINE_BYTES, read_lines
from osreplay.model.notification import Notification, RecordError


@dataclass(frozen=True, slots=True)
class NoteLine:
    """One line of a recording: its notification, or (``note`` None) why it has none."""

    path: str
    lineno: int
    note: Notification | None
    error: str | None = None


def read_notes(
    path: str, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, *, first: int = 1
) -> Iterator[NoteLine]:
    """Every non-blank line of ``path`` from line ``first`` on, as a :class:`NoteLine`."""
    for line in read_lines(path, max_line_bytes):
        if line.lineno < first:
            continue
        if line.obj is None:
            yield NoteLine(line.path, line.lineno, None, line.error or "unreadable")
            continue
        try:
            note = Notification.from_dict(line.obj)
        except RecordError as exc:
            yield NoteLine(line.path, line.lineno, None, str(exc))
            continue
        yield NoteLine(line.path, line.lineno, note)
