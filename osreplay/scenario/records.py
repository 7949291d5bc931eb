"""Reading recordings as notifications, for the scenario commands.

:func:`read` streams ``(path, lineno, Notification)`` over several files (``-`` is
standard input, ``.gz`` is decompressed, a ``.json`` file is one record) and hands every
line that is not a notification to ``on_unreadable`` instead of stopping. The files are
read one after another, or with ``merge`` record by record in timestamp order
(:mod:`osreplay.model.merge`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from osreplay.model.merge import merge_in_time
from osreplay.model.notes import read_notes
from osreplay.model.notification import CADF_EVENT_TYPEURI, Notification, parse_timestamp

FAILING_PRIORITIES = frozenset(("ERROR", "CRITICAL"))


@dataclass(slots=True)
class Unreadable:
    """A line that is not a notification, and why."""

    path: str
    lineno: int
    reason: str


@dataclass(slots=True)
class LocatedNote:
    """One notification and where it was read."""

    path: str
    lineno: int
    note: Notification


OnUnreadable = Callable[[Unreadable], None]


def read(
    paths: Sequence[str], on_unreadable: OnUnreadable, *, merge: bool = False
) -> Iterator[LocatedNote]:
    """Every notification of ``paths``, in file order or (``merge``) in timestamp order;
    unreadable lines go to the callback, at their place in that order."""
    if merge:
        lines = merge_in_time([_read_file(path) for path in paths], _moment)
    else:
        lines = (line for path in paths for line in _read_file(path))
    for line in lines:
        if isinstance(line, Unreadable):
            on_unreadable(line)
        else:
            yield line


def _read_file(path: str) -> Iterator[LocatedNote | Unreadable]:
    for line in read_notes(path):
        if line.note is None:
            yield Unreadable(line.path, line.lineno, line.error or "unreadable")
        else:
            yield LocatedNote(line.path, line.lineno, line.note)


def _moment(line: LocatedNote | Unreadable) -> datetime | None:
    return sent_at(line.note) if isinstance(line, LocatedNote) else None


def sent_at(note: Notification) -> datetime | None:
    """When a record was sent: ``timestamp``, else ``recorded_at`` (aware UTC)."""
    return parse_timestamp(note.timestamp) or parse_timestamp(note.recorded_at)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 UTC with microseconds, ``Z`` for UTC; None stays None."""
    if moment is None:
        return None
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def failed(note: Notification) -> bool:
    """ERROR or CRITICAL, or a CADF event whose outcome is failure."""
    if note.priority in FAILING_PRIORITIES:
        return True
    payload = note.payload
    return (
        payload.__class__ is dict
        and payload.get("typeURI") == CADF_EVENT_TYPEURI
        and payload.get("outcome") == "failure"
    )
