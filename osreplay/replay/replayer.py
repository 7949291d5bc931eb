"""The replayer: republish recorded notifications, paced, and know what the broker confirmed.

Data flows one way: a *source* (:mod:`osreplay.replay.sources`) reads the recording and
selects records, the :class:`Replayer` asks its *schedule* (:mod:`osreplay.replay.pacing`)
when each record is due, waits for it, and hands the record to a *sender*
(:mod:`osreplay.replay.sender`). The result is a :class:`ReplaySummary` of facts; nothing
here prints.

The replayer stops at the first record that is not confirmed: every record before it was,
so resuming at its line (``--start-at``) loses nothing (that one record may reach the
broker twice: at least once, never zero times).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Protocol

from osreplay.model.notes import NoteLine
from osreplay.model.notification import Notification
from osreplay.replay.pacing import MissingTimestamp, Pacer, RateSchedule, Schedule
from osreplay.replay.sender import PublishError, Refused, Sender
from osreplay.replay.sources import FileSource, MergedPass
from osreplay.runtime import Terminated

#: Unreadable lines a summary keeps (the others are counted).
KEPT_SKIPPED = 1000

@dataclass(frozen=True, slots=True)
class Stop:
    """Why a replay ended before its selection did, and where.

    ``kind``: ``failed`` (not confirmed), ``refused`` (the broker refuses the configuration:
    no resuming helps), ``invalid`` (unreadable line on a stream),
    ``untimed`` (no timestamp under recorded timing), ``interrupted``. ``position`` is the
    record's 1-based rank among the selected records of its pass ``pass_no``. For
    ``interrupted`` the ``reason`` is ``interrupted`` (Ctrl-C) or ``terminated`` (SIGTERM).
    """

    kind: str
    source: str
    lineno: int
    reason: str
    pass_no: int = 1
    position: int = 1
    ahead: int = 0  # records after this one already confirmed (--workers): may go twice


@dataclass
class UnreadQueue:
    """A queue replay published to, holding ``messages`` with no consumer after the run."""

    name: str
    messages: int


@dataclass
class ReplaySummary:
    """What a replay did (osreplay.console.replay renders it)."""

    total: int | None = None
    seen: int = 0
    sent: int = 0
    failed: int = 0
    elapsed: float = 0.0
    max_lateness: float = 0.0
    passes: int = 0
    #: The first :data:`KEPT_SKIPPED` unreadable lines skipped (``--skip-invalid``);
    #: ``skipped_total`` counts them all (a stream of bad lines cannot fill memory).
    skipped: list[NoteLine] = field(default_factory=list)
    skipped_total: int = 0
    stop: Stop | None = None
    #: The ``<topic>.<priority>`` queues oslo published to (``notifications.info``).
    routes: set[str] = field(default_factory=set)
    #: Those of them that hold messages and have no consumer, after the run.
    unread: list[UnreadQueue] = field(default_factory=list)
    #: The --set options whose path no record had.
    unmatched_sets: list[str] = field(default_factory=list)

    @property
    def selected(self) -> int:
        """M: the records selected (all passes), or those reached when unknown ahead."""
        return self.total if self.total is not None else self.seen

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def ok(self) -> bool:
        return self.stop is None and self.failed == 0 and self.sent == self.selected


class Source(Protocol):
    """Where the records come from (osreplay.replay.sources)."""

    skipped: list[NoteLine]
    skipped_total: int

    @property
    def total(self) -> int | None: ...

    def passes(self) -> Iterator[Iterable[NoteLine]]: ...


#: Called after each confirmed record: (entry, exchange, topic, target offset, lateness).
Observer = Callable[[NoteLine, str, str, float, float], None]
#: Rewrites a record just before it is sent, given the pass number (osreplay.replay.rewrite).
Rewrite = Callable[[Notification, int], Notification]


@dataclass
class _Progress:
    """Where one run is: what :meth:`Replayer.run` needs to say where it stopped."""

    summary: ReplaySummary
    started: bool = False
    began: float = 0.0
    current_source: str | None = None  # files go back to back, each on its own gaps
    entries: Iterable[NoteLine] = ()  # the pass being replayed
    pending: NoteLine | None = None  # the record being paced or sent, not yet confirmed
    last: NoteLine | None = None  # the last record confirmed
    pass_no: int = 0
    position: int = 0


class Replayer:
    """Sends a source's records through ``sender`` at the times ``schedule`` gives.

    Offsets count from the moment the first record is confirmed (that send includes the
    connection set-up, which is not lateness); ``elapsed`` counts from its start.
    """

    def __init__(
        self,
        sender: Sender,
        schedule: Schedule,
        *,
        pacer: Pacer | None = None,
        exchange: str | None = None,
        topic: str | None = None,
        default_exchange: str = "openstack",
        default_topic: str = "notifications",
        skip_invalid: bool = False,
        observer: Observer | None = None,
        on_skip: Callable[[NoteLine], None] | None = None,
        rewrite: Rewrite | None = None,
    ) -> None:
        self.sender = sender
        self.schedule = schedule
        self.pacer = pacer or Pacer()
        self.exchange = exchange
        self.topic = topic
        self.default_exchange = default_exchange
        self.default_topic = default_topic
        self.skip_invalid = skip_invalid
        self.observer = observer
        self.on_skip = on_skip
        self.rewrite = rewrite

    def run(self, source: Source) -> ReplaySummary:
        summary = ReplaySummary(
            total=source.total,
            skipped=list(source.skipped),
            skipped_total=getattr(source, "skipped_total", len(source.skipped)),
        )
        run = _Progress(summary)
        try:
            for pass_no, entries in enumerate(source.passes(), 1):
                run.pass_no = summary.passes = pass_no
                if pass_no > 1:
                    self.schedule.new_pass()
                run.position, run.entries = 0, entries
                for entry in entries:
                    summary.stop = self._step(entry, run)
                    if summary.stop is not None:
                        return summary
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (osreplay.runtime)
            summary.stop = _interrupted(run, exc)
        finally:
            summary.elapsed = self.pacer.clock() - run.began if run.started else 0.0
        return summary

    def _step(self, entry: NoteLine, run: _Progress) -> Stop | None:
        """Pace and send one entry; the Stop when the replay ends at it."""
        note = entry.note
        if note is None:
            return self._unreadable(entry, run)
        summary, schedule, pacer = run.summary, self.schedule, self.pacer
        run.position += 1
        summary.seen += 1
        run.pending = entry
        if entry.path != run.current_source and not isinstance(run.entries, MergedPass):
            if run.current_source is not None:
                schedule.new_pass()  # the next file starts right after this one
            run.current_source = entry.path
        try:
            offset = schedule.offset(note.sent_at if schedule.needs_timestamps else None)
        except MissingTimestamp as exc:
            return Stop("untimed", entry.path, entry.lineno, str(exc), run.pass_no, run.position)
        first = not run.started
        if first:
            run.began, run.started = pacer.start(), True
        lateness = 0.0
        if schedule.paced:
            lateness = pacer.wait_until(offset)
            summary.max_lateness = max(summary.max_lateness, lateness)
        exchange = self.exchange or note.exchange or self.default_exchange
        topic = self.topic or note.topic or self.default_topic
        if self.rewrite is not None:  # --fresh-ids, --retime, --set
            note = self.rewrite(note, run.pass_no)
            entry = replace(entry, note=note)
        stop = self._send(entry, note, exchange, topic, run)
        if stop is not None:
            return stop
        summary.routes.add(f"{topic}.{note.priority.lower()}")
        run.pending, run.last = None, entry
        if first and schedule.paced:
            # The schedule starts once the first record is confirmed: setting up the
            # connection is not lateness of the records after it.
            pacer.start()
        if self.observer is not None:
            self.observer(entry, exchange, topic, offset, lateness)
        return None

    def _send(
        self, entry: NoteLine, note: Notification, exchange: str, topic: str, run: _Progress
    ) -> Stop | None:
        """Publish one record and count it; the Stop when the broker did not confirm it."""
        try:
            self.sender.send(note, exchange, topic)
        except Refused as exc:  # the configuration: resuming would be refused the same way
            run.summary.failed += 1
            return Stop("refused", entry.path, entry.lineno, str(exc), run.pass_no, run.position)
        except PublishError as exc:
            run.summary.failed += 1
            return Stop("failed", entry.path, entry.lineno, str(exc), run.pass_no, run.position)
        run.summary.sent += 1
        return None

    def _unreadable(self, entry: NoteLine, run: _Progress) -> Stop | None:
        if not self.skip_invalid:
            return Stop(
                "invalid", entry.path, entry.lineno, entry.error or "",
                run.pass_no, run.position + 1,
            )  # fmt: skip
        run.summary.skipped_total += 1
        if len(run.summary.skipped) < KEPT_SKIPPED:
            run.summary.skipped.append(entry)
        if self.on_skip is not None:
            self.on_skip(entry)
        return None


def _interrupted(run: _Progress, exc: BaseException) -> Stop:
    """Where to resume after Ctrl-C or SIGTERM: the record in flight, else the line after
    the last sent."""
    reason = "terminated" if isinstance(exc, Terminated) else "interrupted"
    pending, last, pass_no, position = run.pending, run.last, run.pass_no, run.position
    if pending is not None:
        return Stop("interrupted", pending.path, pending.lineno, reason, pass_no, position)
    if isinstance(run.entries, MergedPass) and last is not None:
        source, lineno = run.entries.resume_after(last)  # the next record may be in any file
        return Stop("interrupted", source, lineno, reason, pass_no, position + 1)
    if last is not None:
        return Stop("interrupted", last.path, last.lineno + 1, reason, pass_no, position + 1)
    return Stop("interrupted", "", 0, reason, max(pass_no, 1), 1)


def planned_duration(source: FileSource, schedule: Schedule) -> float | None:
    """Seconds a replay of ``source`` is planned to take under ``schedule`` (a fresh one).

    Files go back to back, each paced on its own gaps (as :class:`Replayer` does), unless
    merged; passes too. ``None`` for an endless ``--loop 0``.
    """
    if source.per_pass is None:
        source.check()
    if source.loop == 0:
        return None
    if not schedule.paced or not source.per_pass:
        return 0.0
    if isinstance(schedule, RateSchedule):
        return (source.per_pass * source.loop - 1) / schedule.rate
    last = 0.0
    current: str | None = None
    for entry in next(iter(source.passes())):
        if entry.note is None:
            continue  # skipped (--skip-invalid)
        if current is not None and entry.path != current and not source.merge:
            schedule.new_pass()
        current = entry.path
        last = schedule.offset(entry.note.sent_at)
    return last * source.loop


__all__ = [
    "Observer",
    "ReplaySummary",
    "Replayer",
    "Rewrite",
    "Source",
    "Stop",
    "planned_duration",
]
