"""The single writer: endpoints hand it complete lines, it group-commits them.

Endpoint threads turn messages into complete NDJSON lines and hand them to one writer
thread (:class:`LineSink`), which writes and flushes (and with ``fsync`` syncs) a group of
batches at once and only then releases the endpoints. Redelivered messages are recognised
by :class:`DedupWindow` and acked without being written twice.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from osreplay.errors import OsreplayError
from osreplay.model.repair import DEDUP_WINDOW, DeliveryKey

LOG = logging.getLogger(__name__)


class LineWriter(Protocol):
    """What the sink writes to (:class:`osreplay.model.writer.RecordingWriter`).

    Optional: ``mark()``/``rollback(mark)`` (cut a failed group back out) and
    ``between_batches() -> float | None``, called by the writer thread after each group
    and again after the seconds it returns, even when no message comes (the
    :class:`osreplay.tap.rotating.RotatingWriter` closes a full or old file there).
    """

    @property
    def name(self) -> str: ...

    def write(self, lines: list[str]) -> None: ...

    def flush(self) -> None: ...


class OutputWriter(LineWriter, Protocol):
    """A recording's output as the recorder holds it: a :class:`LineWriter` with a path
    (``-`` for standard output, a pattern when rotated) that it closes at the end."""

    @property
    def path(self) -> str: ...

    def close(self) -> None: ...


@dataclass
class RecordStats:
    """Running counts, updated by the writer thread and the endpoints."""

    written: int = 0
    filtered: int = 0
    duplicates: int = 0
    requeued: int = 0
    unencodable: int = 0
    not_notifications: int = 0
    #: Bodies oslo could not decode, by reason (counted, named in the summary).
    undecodable: Counter[str] = field(default_factory=Counter)
    event_types: Counter[str] = field(default_factory=Counter)
    exchanges: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)
    #: When the first batch of messages was handed over, and the last one written: the
    #: time the recorder was receiving, not waiting for traffic or a stop.
    first_at: float | None = None
    last_at: float | None = None

    def top_event_types(self, n: int = 3) -> list[tuple[str, int]]:
        return self.event_types.most_common(n)


@dataclass(slots=True)
class MessageLine:
    """One message as a complete NDJSON line, with what the statistics count."""

    message_id: str | None
    line: str
    event_type: str
    exchange: str
    topic: str | None = None

    @property
    def key(self) -> DeliveryKey | None:
        if self.message_id is None:
            return None
        return (self.message_id, self.exchange, self.topic)


class Budget(Protocol):
    """A ``--count`` shared by several writers (``record --workers``): lines are reserved
    before a write, the unused reservation given back after it, and the written counted."""

    def reserve(self, wanted: int) -> int: ...

    def release(self, unused: int) -> None: ...

    def wrote(self, lines: int) -> None: ...

    @property
    def reached(self) -> bool: ...


class _Submission:
    __slots__ = ("entries", "done", "complete", "error")

    def __init__(self, entries: list[MessageLine]) -> None:
        self.entries = entries
        self.done = threading.Event()
        self.complete = False
        self.error: OsreplayError | None = None


class WriterError(OsreplayError):
    """The writer failed in a way no file error explains; the run stops, queues kept."""


class WriteFailed(Exception):
    """The writer could not put a batch on file; its messages must be requeued."""


def printable(value: object) -> str:
    """``value`` as text that any terminal can print (control characters and lone
    surrogates escaped)."""
    text = str(value)
    if text.isprintable() and text.isascii():
        return text
    return json.dumps(text)[1:-1]


def _unexpected(name: str, exc: BaseException) -> str:
    return (
        f"cannot write {name}: unexpected {type(exc).__name__}: "
        f"{printable(exc) or 'no details'}; recording stopped"
    )


class DedupWindow:
    """The most recent deliveries (message_id, exchange, topic), bounded.

    Only the writer thread touches it. A bare message_id (an older caller) stands for
    that id on no particular exchange and topic.
    """

    def __init__(self, size: int = DEDUP_WINDOW, initial: Iterable[DeliveryKey | str] = ()) -> None:
        self.size = size
        self._ids: OrderedDict[object, None] = OrderedDict()
        for key in initial:
            self.add(key)

    def __contains__(self, key: object) -> bool:
        return key in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, key: DeliveryKey | str) -> None:
        self._ids[key] = None
        self._ids.move_to_end(key)
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)


@dataclass
class _Selection:
    """What of a group goes on file: new lines only, cut at the count limit."""

    lines: list[str] = field(default_factory=list)
    accepted: list[MessageLine] = field(default_factory=list)
    duplicates: int = 0


class LineSink:
    """One writer thread: group-commits submitted lines, then releases the submitters.

    ``submit`` blocks until its lines are written and flushed; it returns True when all of
    them are on file (or were duplicates), False when the count limit cut the batch
    short, and raises :class:`WriteFailed` when the file refused them.
    """

    def __init__(
        self,
        writer: LineWriter,
        stats: RecordStats,
        *,
        limit: int | None = None,
        seen: DedupWindow | None = None,
        on_limit: Callable[[], None] | None = None,
        on_error: Callable[[OsreplayError], None] | None = None,
        budget: Budget | None = None,
    ) -> None:
        self._writer = writer
        self._stats = stats
        self._limit = limit
        self._budget = budget
        self._seen = seen if seen is not None else DedupWindow()
        self._on_limit = on_limit
        self._on_error = on_error
        self._pending: list[_Submission] = []
        self._cond = threading.Condition()
        self._closed = False
        self.error: OsreplayError | None = None
        self._thread = threading.Thread(target=self._run, name="osreplay-writer", daemon=True)
        self._thread.start()

    @property
    def limit_reached(self) -> bool:
        if self._budget is not None:
            return self._budget.reached
        return self._limit is not None and self._stats.written >= self._limit

    def submit(self, entries: list[MessageLine]) -> bool:
        submission = _Submission(entries)
        with self._cond:
            if self.error is not None:
                raise WriteFailed(str(self.error))
            if self._closed:
                return False
            self._pending.append(submission)
            self._cond.notify()
        submission.done.wait()
        if submission.error is not None:
            raise WriteFailed(str(submission.error))
        return submission.complete

    def close(self) -> None:
        """Finish what was submitted, then stop the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()

    def _run(self) -> None:
        group: list[_Submission] = []
        try:
            wake = self._between_batches()
            while True:
                with self._cond:
                    if not self._pending and not self._closed:
                        self._cond.wait(wake)
                    group, self._pending = self._pending, []
                    if not group and self._closed:
                        return
                if group:
                    # A file that came due while this group waited is closed before it.
                    self._between_batches()
                    self._commit(group)
                    group = []
                wake = self._between_batches()
        except BaseException as exc:  # noqa: BLE001 - never leave the endpoints waiting
            LOG.debug("writer failed", exc_info=True)
            self._fail(group, WriterError(_unexpected(self._writer.name, exc)))

    def _between_batches(self) -> float | None:
        """Let the writer act between groups (a rotation); how long it may wait, None: for
        ever. Never after a failure: the file that refused a group stays as it is."""
        between = getattr(self._writer, "between_batches", None)
        if between is None or self.error is not None:
            return None
        try:
            wake: float | None = between()
        except OsreplayError as exc:
            self._fail([], exc)
            return None
        return wake

    def _fail(self, group: list[_Submission], error: OsreplayError) -> None:
        """Refuse ``group`` and everything after it; stop the run (queues are kept)."""
        with self._cond:
            if self.error is None:
                self.error = error
            group = group + self._pending
            self._pending = []
        for submission in group:
            submission.error = self.error
            submission.done.set()
        if self._on_error is not None:
            self._on_error(self.error)

    def _commit(self, group: list[_Submission]) -> None:
        if self.error is not None:
            for submission in group:
                submission.error = self.error
                submission.done.set()
            return
        selection = self._select(group)
        if selection.lines and not self._write(group, selection.lines):
            if self._budget is not None:
                self._budget.release(len(selection.lines))
            return
        self._account(selection)
        for submission in group:
            submission.done.set()
        if self.limit_reached and self._on_limit is not None:
            self._on_limit()

    def _select(self, group: list[_Submission]) -> _Selection:
        """Drop the duplicates; stop at the count limit (marking that batch incomplete)."""
        selection = _Selection()
        batch_keys: set[DeliveryKey] = set()
        room = None if self._limit is None else self._limit - self._stats.written
        if self._budget is not None:
            room = self._budget.reserve(sum(len(s.entries) for s in group))
        for submission in group:
            submission.complete = True
            for entry in submission.entries:
                key = entry.key
                if key is not None and (key in self._seen or key in batch_keys):
                    selection.duplicates += 1
                    continue
                if room is not None and len(selection.lines) >= room:
                    submission.complete = False
                    break
                selection.lines.append(entry.line)
                selection.accepted.append(entry)
                if key is not None:
                    batch_keys.add(key)
        if self._budget is not None and room is not None:
            self._budget.release(room - len(selection.lines))
        return selection

    def _write(self, group: list[_Submission], lines: list[str]) -> bool:
        """Write and flush ``lines``; on failure cut them back out and refuse the group."""
        writer = self._writer
        mark = None
        try:
            # Inside the try: a rotating writer may open its next file here.
            mark = writer.mark() if hasattr(writer, "mark") else None
            writer.write(lines)
            writer.flush()
            return True
        except OsreplayError as exc:
            # The group is requeued: none of its lines may stay in the file, or the summary
            # would undercount it and a resume into another file would write them twice.
            if mark is not None and not writer.rollback(mark):  # type: ignore[attr-defined]
                LOG.warning("could not cut %s back after a failed write", writer.name)
            self._fail(group, exc)
        except Exception as exc:  # noqa: BLE001 - any other failure ends the run cleanly
            LOG.debug("writer failed", exc_info=True)
            self._fail(group, WriterError(_unexpected(writer.name, exc)))
        return False

    def _account(self, selection: _Selection) -> None:
        stats = self._stats
        for entry in selection.accepted:
            key = entry.key
            if key is not None:
                self._seen.add(key)
            stats.event_types[entry.event_type] += 1
            stats.exchanges[entry.exchange] += 1
        stats.written += len(selection.lines)
        stats.duplicates += selection.duplicates
        if self._budget is not None:
            self._budget.wrote(len(selection.lines))


__all__ = [
    "Budget",
    "DedupWindow",
    "MessageLine",
    "LineSink",
    "LineWriter",
    "OutputWriter",
    "RecordStats",
    "WriteFailed",
    "WriterError",
    "printable",
]
