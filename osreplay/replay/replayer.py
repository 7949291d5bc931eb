"""The replayer: republish recorded notifications, paced, and know what the broker confirmed.

Data flows one way: a *source* reads the recording and selects records
(:class:`FileSource` checks whole files before anything is sent; :class:`StreamSource`
reads standard input as it arrives), the :class:`Replayer` asks its *schedule*
(:mod:`osreplay.replay.pacing`) when each record is due, waits for it, and hands the record to
a *sender*. The result is a :class:`ReplaySummary`; nothing here prints.

Senders are swappable (like httpx's ``MockTransport``): :class:`OsloSender` publishes
through an oslo.messaging ``Notifier``; tests use a fake. A sender either returns, meaning
the broker confirmed the message, or raises :class:`PublishError`.

Why a driver of our own: oslo's ``Notifier`` logs and swallows every publish error, so a
caller cannot tell a sent notification from a dropped one. :class:`ConfirmingDriver`
(registered as ``osreplay-messagingv2`` and ``osreplay-messaging`` on the
``oslo.messaging.notify.drivers`` entry point) does what oslo's messaging drivers do but
records, per thread, whether the transport's send returned or raised. The rabbit driver
publishes with publisher confirms (``confirm_publish``), so a send that returns was
confirmed by the broker. With a finite ``retry`` a lost broker makes the send raise after
the retries instead of blocking forever.

The replayer stops at the first record that is not confirmed: every record before it was,
so resuming at its line (``--start-at``) loses nothing (that one record may reach the
broker twice: at least once, never zero times).
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import oslo_messaging
from oslo_context.context import RequestContext
from oslo_messaging.notify.messaging import MessagingDriver

from osreplay.bus.transport import get_transport, mask_secrets
from osreplay.errors import ConfigError, OsreplayError, UsageError
from osreplay.model.filters import Filters
from osreplay.model.ndjson import DEFAULT_MAX_LINE_BYTES, read_lines
from osreplay.model.notification import Notification, RecordError
from osreplay.replay.pacing import MissingTimestamp, Pacer, RateSchedule, Schedule
from osreplay.runtime import Terminated
from osreplay.secrets.rules import Redactor

LOG = logging.getLogger(__name__)

DRIVER_ENTRY_POINT_GROUP = "oslo.messaging.notify.drivers"
#: ``--driver`` value -> osreplay's confirming driver registered for it.
DRIVERS = {"messagingv2": "osreplay-messagingv2", "messaging": "osreplay-messaging"}
#: Record priority -> Notifier method.
METHODS = {
    "AUDIT": "audit",
    "DEBUG": "debug",
    "INFO": "info",
    "WARN": "warn",
    "ERROR": "error",
    "CRITICAL": "critical",
    "SAMPLE": "sample",
}
#: Records a pre-checked file keeps in memory so the replay does not read it twice.
CACHE_RECORDS = 100_000
_LISTED_LINES = 20
_REDACTOR = Redactor()
# Added by oslo's listener when it unpacks a message, never sent by a service.
_LISTENER_CONTEXT_KEYS = ("client_timeout", "msg_id", "reply_q")


class PublishError(Exception):
    """A record the broker did not confirm; the message says why (passwords masked)."""


class RecordingRefused(OsreplayError):
    """A recording with unreadable lines, refused before anything was sent."""

    exit_code = 1


# --- input ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the input: a record to replay, or why the line is unreadable."""

    source: str
    lineno: int
    note: Notification | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class StartAt:
    """Where to begin: line ``lineno`` of input number ``index`` (inputs before it skipped)."""

    lineno: int
    index: int = 0


def parse_start_at(text: str | None, inputs: Sequence[str]) -> StartAt | None:
    """``--start-at``: ``LINE`` (of the first input) or ``FILE:LINE`` (of that input)."""
    if text is None:
        return None
    name, _, number = text.rpartition(":")
    if not number.isdigit() or int(number) < 1:
        raise UsageError(f"--start-at {text}: give a line number (LINE or FILE:LINE), from 1")
    if not name:
        return StartAt(int(number))
    names = list(inputs) or ["-"]
    if name not in names:
        raise UsageError(f"--start-at {text}: {name} is not one of the files to replay")
    return StartAt(int(number), names.index(name))


def resume_option(stop: Stop, inputs: Sequence[str], *, limit: int | None, loop: int) -> str:
    """The options that resume a stopped replay exactly where it stopped."""
    where = str(stop.lineno) if len(inputs) <= 1 else f"{stop.source}:{stop.lineno}"
    option = f"--start-at {where}"
    if limit is not None:
        option += f" --limit {limit - stop.position + 1}"
    if loop != 1:
        option += " --loop 1"
        left = loop - stop.pass_no
        if loop == 0:
            option += f" (pass {stop.pass_no}; then the original options for more passes)"
        elif left:
            option += (
                f" (pass {stop.pass_no} of {loop}; then --loop {left} without --start-at "
                f"for the {'pass' if left == 1 else 'passes'} left)"
            )
        else:
            option += f" (pass {stop.pass_no} of {loop}, the last)"
    return option


@dataclass(frozen=True)
class Selection:
    """Which records are replayed: filters, first line and limit (per pass)."""

    filters: Filters = Filters()
    limit: int | None = None
    start_at: StartAt | None = None

    def matches(self, note: Notification) -> bool:
        return self.filters.match(note.event_type, note.publisher_id, note.priority)


def _entries(
    paths: Sequence[str],
    selection: Selection,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> Iterator[Entry]:
    """Every line from the start line on, as entries: selected records and unreadable lines.

    Stops after ``selection.limit`` selected records. Unreadable lines are yielded (they
    cannot be matched against the filters) and do not count toward the limit.
    """
    start = selection.start_at
    limit = selection.limit
    matches = selection.matches
    filtered = selection.filters.active
    selected = 0
    for index, path in enumerate(paths):
        if start is not None and index < start.index:
            continue
        first = start.lineno if start is not None and index == start.index else 1
        for line in read_lines(path, max_line_bytes):
            if line.lineno < first:
                continue
            if line.error is not None:
                yield Entry(line.path, line.lineno, None, line.error)
                continue
            try:
                note = Notification.from_dict(line.obj)  # type: ignore[arg-type]
            except RecordError as exc:
                yield Entry(line.path, line.lineno, None, str(exc))
                continue
            if filtered and not matches(note):
                continue
            selected += 1
            yield Entry(line.path, line.lineno, note)
            if limit is not None and selected >= limit:
                return


class FileSource:
    """Recording files, checked whole before the first record is sent.

    :meth:`check` reads every selected line once: unreadable lines are refused (or, with
    ``skip_invalid``, listed in :attr:`skipped`), records without a timestamp are refused
    when the schedule needs one, and :attr:`total` becomes the number of records per pass.
    Up to :data:`CACHE_RECORDS` records are kept so the replay does not read the files again.
    """

    def __init__(
        self,
        paths: Sequence[str],
        selection: Selection = Selection(),
        *,
        skip_invalid: bool = False,
        needs_timestamps: bool = False,
        loop: int = 1,
        cache_records: int = CACHE_RECORDS,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        self.paths = list(paths)
        self.max_line_bytes = max_line_bytes
        self.selection = selection
        self.skip_invalid = skip_invalid
        self.needs_timestamps = needs_timestamps
        self.loop = loop
        self.cache_records = cache_records
        self.per_pass: int | None = None
        self.skipped: list[Entry] = []
        self._cache: list[Entry] | None = None

    @property
    def total(self) -> int | None:
        """Records selected over all passes (None while unknown or with an endless loop)."""
        if self.per_pass is None or self.loop == 0:
            return None
        return self.per_pass * self.loop

    def check(self) -> None:
        # The records kept here hold no reference cycles; while they pile up, the cyclic
        # garbage collector would only scan them again and again (a third of the time).
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._check()
        finally:
            if collecting:
                gc.enable()

    def _check(self) -> None:
        invalid: list[Entry] = []
        untimed: list[Entry] = []
        cache: list[Entry] | None = []
        count = 0
        for entry in _entries(self.paths, self.selection, self.max_line_bytes):
            if entry.note is None:
                invalid.append(entry)
                continue
            if self.needs_timestamps and entry.note.sent_at is None:
                untimed.append(entry)
                continue
            count += 1
            if cache is not None:
                if len(cache) < self.cache_records:
                    cache.append(entry)
                else:
                    cache = None
        if invalid and not self.skip_invalid:
            raise RecordingRefused(_refusal(invalid))
        if untimed:
            first = untimed[0]
            more = f" (and {len(untimed) - 1} more)" if len(untimed) > 1 else ""
            raise UsageError(
                f"line {first.lineno} of {first.source}{more} has no timestamp or "
                "recorded_at to pace it by: replay at a steady pace with --rate N "
                "(--rate 0 for as fast as possible)"
            )
        self.skipped = invalid
        self.per_pass = count
        self._cache = cache

    def passes(self) -> Iterator[Iterable[Entry]]:
        if self.per_pass is None:
            self.check()
        if not self.per_pass:
            return  # nothing selected: not even an endless --loop 0 has anything to repeat
        done = 0
        while self.loop == 0 or done < self.loop:
            done += 1
            yield self._cache if self._cache is not None else self._reread()

    def _reread(self) -> Iterator[Entry]:
        known = {(entry.source, entry.lineno) for entry in self.skipped}
        for entry in _entries(self.paths, self.selection, self.max_line_bytes):
            if entry.note is None and (entry.source, entry.lineno) in known:
                continue  # reported by check()
            yield entry


class StreamSource:
    """Standard input (or any one path), replayed as its lines arrive: nothing is known ahead."""

    total: int | None = None

    def __init__(
        self,
        path: str = "-",
        selection: Selection = Selection(),
        *,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        self.path = path
        self.selection = selection
        self.max_line_bytes = max_line_bytes
        self.skipped: list[Entry] = []

    def passes(self) -> Iterator[Iterable[Entry]]:
        yield _entries([self.path], self.selection, self.max_line_bytes)


def _refusal(invalid: list[Entry]) -> str:
    by_source: dict[str, list[Entry]] = {}
    for entry in invalid:
        by_source.setdefault(entry.source, []).append(entry)
    noun = "line" if len(invalid) == 1 else "lines"
    names = ", ".join(by_source)
    lines = [
        f"{names}: {len(invalid)} unreadable {noun}, nothing sent "
        "(--skip-invalid replays the readable ones):"
    ]
    several = len(by_source) > 1
    for entry in invalid[:_LISTED_LINES]:
        where = f"{entry.source}:{entry.lineno}" if several else f"line {entry.lineno}"
        lines.append(f"  {where}: {entry.error}")
    if len(invalid) > _LISTED_LINES:
        rest = ", ".join(
            f"{entry.source}:{entry.lineno}" if several else str(entry.lineno)
            for entry in invalid[_LISTED_LINES:]
        )
        lines.append(f"  and lines {rest}")
    return "\n".join(lines)


# --- context ---------------------------------------------------------------------------


class ReplayContext(RequestContext):
    """A recorded context, rebuilt as a RequestContext so the Notifier keeps it.

    The Notifier drops a plain dict and sends ``ctxt.redacted_copy().to_dict()`` of an
    object. ``to_dict`` returns the recorded keys as they were (minus the keys oslo's
    listener adds), so request ids, user, project and any service-specific key reach the
    consumer unchanged; redacted values stay redacted, a secret left in the recording is
    masked as ``osreplay record`` would (:mod:`osreplay.secrets.rules`), and no token or request
    id is invented (RequestContext makes a request id up when one is missing; it is never
    sent).
    """

    _recorded: dict[str, Any]

    @classmethod
    def from_recorded(cls, ctxt: dict[str, Any]) -> ReplayContext:
        values = _sanitise_context(ctxt)
        context = cls.from_dict(values, overwrite=False)
        context._recorded = values
        return context

    def to_dict(self) -> dict[str, Any]:
        return dict(self._recorded)

    def redacted_copy(self, **kwargs: Any) -> ReplayContext:
        return self  # sanitised when built, and never modified


def _sanitise_context(ctxt: dict[str, Any]) -> dict[str, Any]:
    values = _REDACTOR.ctxt(ctxt)  # a live secret in a --no-redact recording goes out as ***
    if any(key in values and values[key] is None for key in _LISTENER_CONTEXT_KEYS):
        values = {
            k: v for k, v in values.items() if not (k in _LISTENER_CONTEXT_KEYS and v is None)
        }
    return values


def replay_context(ctxt: dict[str, Any] | None) -> ReplayContext | dict[str, Any]:
    """The context to pass to the Notifier for a recorded ``ctxt``; ``{}`` when there is none."""
    if not ctxt:
        return {}
    return ReplayContext.from_recorded(ctxt)


# --- senders ---------------------------------------------------------------------------


class Sender(Protocol):
    """Publishes one record; returns once the broker confirmed it, else raises PublishError."""

    def send(self, note: Notification, exchange: str, topic: str) -> None: ...

    def close(self) -> None: ...


class NullSender:
    """Sends nothing (``--dry-run``)."""

    def send(self, note: Notification, exchange: str, topic: str) -> None:
        pass

    def close(self) -> None:
        pass


class _Outcome(threading.local):
    """What the confirming driver saw for the last notification sent on this thread."""

    def __init__(self) -> None:
        self.confirmed = False
        self.error: BaseException | None = None


OUTCOME = _Outcome()


class ConfirmingDriver(MessagingDriver):
    """oslo's messaging driver (1.0 format) that records each send's outcome in OUTCOME.

    oslo's own driver catches and logs the transport's exception; this one keeps it for
    the replayer, which reads it right after the Notifier call on the same thread.
    """

    def notify(self, ctxt: Any, message: dict[str, Any], priority: str, retry: Any) -> None:
        outcome = OUTCOME
        priority = priority.lower()
        try:
            for topic in self.topics:
                target = oslo_messaging.Target(topic=f"{topic}.{priority}")
                self.transport._send_notification(
                    target, ctxt, message, version=self.version, retry=retry
                )
        except Exception as exc:  # every failure is kept and reported by the replayer
            outcome.error = exc
        else:
            outcome.confirmed = True


class ConfirmingV2Driver(ConfirmingDriver):
    """The same in the 2.0 (enveloped) format services use."""

    def __init__(self, conf: Any, **kwargs: Any) -> None:
        super().__init__(conf, version=2.0, **kwargs)


def _check_driver_registered(name: str) -> None:
    from importlib.metadata import entry_points

    if not entry_points(group=DRIVER_ENTRY_POINT_GROUP, name=name):
        raise ConfigError(
            f"osreplay's notifier driver {name!r} is not registered on the "
            f"{DRIVER_ENTRY_POINT_GROUP} entry point: install osreplay (pip install .)"
        )


class OsloSender:
    """Publishes through oslo.messaging Notifiers: one transport per exchange, one Notifier
    per (exchange, topic), one prepared sub-notifier per publisher, all cached."""

    def __init__(self, settings: Any, *, driver: str = "messagingv2", retry: int = 3) -> None:
        if driver not in DRIVERS:
            raise UsageError(f"unknown driver {driver!r}: choose {' or '.join(DRIVERS)}")
        self.settings = settings
        self.driver = DRIVERS[driver]
        self.retry = retry
        self._transports: dict[str, Any] = {}
        self._notifiers: dict[tuple[str, str], Any] = {}
        self._methods: dict[tuple[str, str, str, str], Callable[..., None]] = {}

    def _method(self, exchange: str, topic: str, publisher: str, priority: str) -> Any:
        notifier = self._notifiers.get((exchange, topic))
        if notifier is None:
            transport = self._transports.get(exchange)
            if transport is None:
                transport = self._transports[exchange] = get_transport(
                    self.settings, exchange=exchange
                )
            notifier = oslo_messaging.Notifier(
                transport, driver=self.driver, topics=[topic], retry=self.retry
            )
            self._notifiers[(exchange, topic)] = notifier
        method = getattr(notifier.prepare(publisher_id=publisher), METHODS[priority])
        self._methods[(exchange, topic, publisher, priority)] = method
        return method

    def send(self, note: Notification, exchange: str, topic: str) -> None:
        key = (exchange, topic, note.publisher_id, note.priority)
        method = self._methods.get(key) or self._method(*key)
        ctxt = replay_context(note.ctxt)
        outcome = OUTCOME
        outcome.confirmed = False
        outcome.error = None
        method(ctxt, note.event_type, note.payload)
        if outcome.error is not None:
            error = outcome.error
            LOG.debug("publish to %s/%s failed", exchange, topic, exc_info=error)
            raise PublishError(mask_secrets(str(error) or type(error).__name__))
        if not outcome.confirmed:
            # Checked only now: scanning the installed packages costs more than a send.
            _check_driver_registered(self.driver)
            raise PublishError("the Notifier did not run osreplay's driver (see the log, -vv)")

    def close(self) -> None:
        for transport in self._transports.values():
            transport.cleanup()
        self._transports.clear()
        self._notifiers.clear()
        self._methods.clear()


# --- the replayer --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stop:
    """Why a replay ended before its selection did, and where.

    ``kind``: ``failed`` (not confirmed), ``invalid`` (unreadable line on a stream),
    ``untimed`` (no timestamp under recorded timing), ``interrupted``. ``position`` is the
    record's 1-based rank among the selected records of its pass ``pass_no``.
    """

    kind: str
    source: str
    lineno: int
    reason: str
    pass_no: int = 1
    position: int = 1


@dataclass
class ReplaySummary:
    """What a replay did; the CLI renders it."""

    total: int | None = None
    seen: int = 0
    sent: int = 0
    failed: int = 0
    elapsed: float = 0.0
    max_lateness: float = 0.0
    passes: int = 0
    skipped: list[Entry] = field(default_factory=list)
    stop: Stop | None = None

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

    def line(self) -> str:
        return (
            f"Replayed {self.sent} of {self.selected} "
            f"{'record' if self.selected == 1 else 'records'} in {self.elapsed:.1f} s "
            f"({self.rate:.1f} msg/s), {self.failed} failed, "
            f"max lateness {self.max_lateness * 1000:.0f} ms"
        )


class Source(Protocol):
    total: int | None
    skipped: list[Entry]

    def passes(self) -> Iterator[Iterable[Entry]]: ...


#: Called after each confirmed record: (entry, exchange, topic, target offset, lateness).
Observer = Callable[[Entry, str, str, float, float], None]
#: Rewrites a record just before it is sent, given the pass number (osreplay.replay.rewrite).
Rewrite = Callable[[Notification, int], Notification]


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
        on_skip: Callable[[Entry], None] | None = None,
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
        summary = ReplaySummary(total=source.total, skipped=list(source.skipped))
        schedule, pacer, send, observer = self.schedule, self.pacer, self.sender.send, self.observer
        paced, timed = schedule.paced, schedule.needs_timestamps
        exchange_override, topic_override = self.exchange, self.topic
        default_exchange, default_topic = self.default_exchange, self.default_topic
        started = False
        began = 0.0
        current_source: str | None = None  # files go back to back, each on its own gaps
        pending: Entry | None = None  # the record being paced or sent, not yet confirmed
        last: Entry | None = None  # the last record confirmed
        pass_no = position = 0
        try:
            for pass_no, entries in enumerate(source.passes(), 1):
                summary.passes = pass_no
                if pass_no > 1:
                    schedule.new_pass()
                position = 0
                for entry in entries:
                    note = entry.note
                    if note is None:
                        if self.skip_invalid:
                            summary.skipped.append(entry)
                            if self.on_skip is not None:
                                self.on_skip(entry)
                            continue
                        summary.stop = Stop(
                            "invalid", entry.source, entry.lineno, entry.error or "",
                            pass_no, position + 1,
                        )  # fmt: skip
                        return summary
                    position += 1
                    summary.seen += 1
                    pending = entry
                    if entry.source != current_source:
                        if current_source is not None:
                            schedule.new_pass()  # the next file starts right after this one
                        current_source = entry.source
                    try:
                        offset = schedule.offset(note.sent_at if timed else None)
                    except MissingTimestamp as exc:
                        summary.stop = Stop(
                            "untimed", entry.source, entry.lineno, str(exc), pass_no, position
                        )
                        return summary
                    first = not started
                    if first:
                        began = pacer.start()
                        started = True
                    lateness = 0.0
                    if paced:
                        lateness = pacer.wait_until(offset)
                        if lateness > summary.max_lateness:
                            summary.max_lateness = lateness
                    exchange = exchange_override or note.exchange or default_exchange
                    topic = topic_override or note.topic or default_topic
                    if self.rewrite is not None:  # --fresh-ids, --retime, --set
                        note = self.rewrite(note, pass_no)
                        entry = replace(entry, note=note)
                    try:
                        send(note, exchange, topic)
                    except PublishError as exc:
                        summary.failed += 1
                        summary.stop = Stop(
                            "failed", entry.source, entry.lineno, str(exc), pass_no, position
                        )
                        return summary
                    summary.sent += 1
                    pending, last = None, entry
                    if first and paced:
                        # The schedule starts once the first record is confirmed: setting
                        # up the connection is not lateness of the records after it.
                        pacer.start()
                    if observer is not None:
                        observer(entry, exchange, topic, offset, lateness)
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (osreplay.runtime)
            summary.stop = _interrupted(pending, last, pass_no, position, exc)
        finally:
            summary.elapsed = pacer.clock() - began if started else 0.0
        return summary


def _interrupted(
    pending: Entry | None,
    last: Entry | None,
    pass_no: int,
    position: int,
    exc: BaseException | None = None,
) -> Stop:
    """Where to resume after Ctrl-C or SIGTERM: the record in flight, else the line after
    the last sent. ``reason`` is ``interrupted`` (Ctrl-C) or ``terminated`` (SIGTERM)."""
    reason = "terminated" if isinstance(exc, Terminated) else "interrupted"
    if pending is not None:
        return Stop("interrupted", pending.source, pending.lineno, reason, pass_no, position)
    if last is not None:
        return Stop("interrupted", last.source, last.lineno + 1, reason, pass_no, position + 1)
    return Stop("interrupted", "", 0, reason, max(pass_no, 1), 1)


def planned_duration(source: FileSource, schedule: Schedule) -> float | None:
    """Seconds a replay of ``source`` is planned to take under ``schedule`` (a fresh one).

    Files go back to back, each paced on its own gaps (as :class:`Replayer` does), passes
    too. ``None`` for an endless ``--loop 0``.
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
        if current is not None and entry.source != current:
            schedule.new_pass()
        current = entry.source
        last = schedule.offset(entry.note.sent_at)
    return last * source.loop


class VirtualClock:
    """A clock that only moves when slept on: ``--dry-run`` plans without waiting."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


__all__ = [
    "DRIVERS",
    "ConfirmingDriver",
    "ConfirmingV2Driver",
    "ReplayContext",
    "Entry",
    "FileSource",
    "NullSender",
    "OsloSender",
    "PublishError",
    "RecordingRefused",
    "ReplaySummary",
    "Replayer",
    "Selection",
    "StartAt",
    "Stop",
    "StreamSource",
    "VirtualClock",
    "planned_duration",
    "replay_context",
]
