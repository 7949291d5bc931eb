"""Reading recordings as notifications, for the scenario commands.

:func:`read` streams ``(path, lineno, Notification)`` over several files (``-`` is
standard input, ``.gz`` is decompressed, a ``.json`` file is one record) and hands every
line that is not a notification to ``on_unreadable`` instead of stopping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from osreplay.model.ndjson import read_lines
from osreplay.model.notification import Notification, RecordError, parse_timestamp


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A line that is not a notification, and why."""

    path: str
    lineno: int
    reason: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One notification and where it was read."""

    path: str
    lineno: int
    note: Notification


OnUnreadable = Callable[[Unreadable], None]


def read(paths: Iterable[str], on_unreadable: OnUnreadable) -> Iterator[Entry]:
    """Every notification of ``paths`` in file order; unreadable lines go to the callback."""
    for path in paths:
        for line in read_lines(path):
            if line.obj is None:
                on_unreadable(Unreadable(line.path, line.lineno, line.error or "unreadable"))
                continue
            try:
                note = Notification.from_dict(line.obj)
            except RecordError as exc:
                on_unreadable(Unreadable(line.path, line.lineno, str(exc)))
                continue
            yield Entry(line.path, line.lineno, note)


def sent_at(note: Notification) -> datetime | None:
    """When a record was sent: ``timestamp``, else ``recorded_at`` (aware UTC)."""
    return parse_timestamp(note.timestamp) or parse_timestamp(note.recorded_at)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 UTC with microseconds, ``Z`` for UTC; None stays None."""
    if moment is None:
        return None
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
