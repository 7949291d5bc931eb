"""``osreplay record --from-tap NAME``: a window of what a stream tap kept, as a recording.

Where the read starts and stops
    Over AMQP 0-9-1, RabbitMQ 3.10 gives a stream message no time of its own, only its
    offset; a read can start at a point in time, but the broker then starts at the first
    whole *chunk* stored at or after it, to the second. So the broker's time only chooses
    the offsets to read, with :data:`SLACK` seconds to spare on each side: from the first
    chunk stored at ``since - SLACK`` to the last offset before the first chunk stored at
    ``until + SLACK`` (or the stream's end as it was when the read began: ``--until now``
    stops once it has caught up). The window itself is decided by each notification's own
    ``timestamp`` (the publisher's clock, to the microsecond): a record is written when
    ``since <= timestamp < until``. A message without a readable timestamp is written when
    its offset is in the range read.

``recorded_at``
    A live recorder writes when it received the message, milliseconds after its
    ``timestamp``. A stream read hours later knows no per-message time but that
    ``timestamp`` (the chunk times are per chunk, to the second, and cost a probe each), so
    ``recorded_at`` is the notification's ``timestamp`` in ISO 8601 UTC; for a message
    without one, the moment it was read.

Everything else is ``record``'s: each message becomes the line oslo's listener and
:mod:`osreplay.tap.lines` would make (same decoding, redaction and filters), one writer
group-commits them, and a delivery seen already (``message_id``, exchange, topic; a
publisher's retry leaves two copies in a stream) is written once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from osreplay.bus.codec import undecodable_reason
from osreplay.bus.stream_reader import (
    DEFAULT_PREFETCH,
    StreamMessage,
    StreamReader,
    first_message,
    last_chunk,
)
from osreplay.bus.streams import StreamAdmin, broker_errors, queue_name
from osreplay.bus.transport import resolve
from osreplay.errors import ConnectError, OsreplayError, UsageError
from osreplay.model.notification import parse_timestamp, utcnow_iso
from osreplay.model.output import output_path
from osreplay.model.repair import prepare_append
from osreplay.model.writer import RecordingWriter
from osreplay.runtime import stop_signals
from osreplay.secrets.rules import Redactor
from osreplay.tap.lines import BatchCounts, LineBuilder, decode, topic_of
from osreplay.tap.options import DEFAULT_EXCHANGES, RecordEvents, RecordOptions
from osreplay.tap.sink import DedupWindow, LineSink, MessageLine, RecordStats, WriteFailed
from osreplay.tap.window import Window, parse_window

LOG = logging.getLogger(__name__)

#: Seconds read beyond the window on each side (by the broker's chunk times): a message
#: stored up to this long after its own timestamp (a publisher's retry, a clock behind the
#: broker's) is still found.
SLACK = 10.0
#: How long to wait for the first message of a range that may be empty.
PROBE_WAIT = 2.0
_OPTIONS_NOT_FOR_TAPS = {
    "pool": "--pool",
    "keep_queue": "--keep-queue",
    "durable": "--durable",
    "queue_type": "--queue-type",
    "rotate": "--rotate",
    "duration": "--duration",
}


@dataclass(frozen=True)
class Reading:
    """What is about to be read: the tap, the window and the offsets chosen for it."""

    tap: str
    url: str
    window: Window
    start: int | None
    end: int | None
    output: str


@dataclass
class FlightSummary:
    """What a read of a tap wrote, for the caller to render."""

    tap: str
    window: Window
    output: str
    written: int = 0
    duplicates: int = 0
    outside: int = 0
    untimed: int = 0
    filtered: int = 0
    unencodable: int = 0
    not_notifications: int = 0
    #: Bodies that are not oslo messages, by reason.
    undecodable: Counter[str] = field(default_factory=Counter)
    read: int = 0
    first_offset: int | None = None
    last_offset: int | None = None
    first_time: datetime | None = None
    last_time: datetime | None = None
    elapsed: float = 0.0
    stopped_by: str = "caught up"
    reconnects: int = 0
    error: OsreplayError | None = None
    exchanges: dict[str, int] = field(default_factory=dict)


class FlightConsole(RecordEvents, Protocol):
    """Everything ``record --from-tap`` tells a person, as facts."""

    def bus_notes(self, notes: Sequence[str]) -> None: ...

    def reading(self, reading: Reading) -> None: ...

    def reconnecting(self, reason: str) -> None: ...

    def stopping(self) -> None: ...

    def flight_summary(self, summary: FlightSummary) -> None: ...


def check_options(options: RecordOptions) -> None:
    """Refuse what a read of a tap cannot do, and the window options without a tap."""
    if options.from_tap is None:
        window_options = {"since": "--since", "until": "--until", "until_idle": "--until-idle"}
        for name, flag in window_options.items():
            if getattr(options, name) is not None:
                raise UsageError(f"{flag} reads a stream tap: add --from-tap NAME")
        return
    if options.processes > 1:
        raise UsageError("--workers is for live recording; --from-tap reads a stream tap")
    for name, flag in _OPTIONS_NOT_FOR_TAPS.items():
        if getattr(options, name):
            raise UsageError(f"{flag} is for live recording; --from-tap reads a stream tap")
    if options.exchanges and tuple(options.exchanges) != DEFAULT_EXCHANGES:
        raise UsageError("--exchange is for live recording; the tap's exchanges are recorded")
    if options.topics:
        raise UsageError("--topic is for live recording; the tap's topics are recorded")
    if options.append and options.output == "-":
        raise UsageError("--append needs -o FILE (standard output cannot be appended to)")


def run(options: RecordOptions, console: FlightConsole) -> FlightSummary:
    """Read the window of ``options`` from the tap into the output."""
    check_options(options)
    # Before the broker is asked anything: the output-path rule (osreplay.model.output).
    output = output_path(options.output)
    tap = options.from_tap or ""
    window = parse_window(options.since, options.until)
    settings = resolve(url=options.url, config_files=options.config_files)
    console.bus_notes(settings.notes)
    queue = queue_name(tap)
    timeout = options.connect_timeout
    with (
        broker_errors(settings, f"read tap {tap}"),
        StreamAdmin(settings, connect_timeout=timeout) as admin,
    ):
        counts = admin.counts(queue)
    if counts is None:
        raise UsageError(
            f"no tap {tap} on {settings.masked_url} (osreplay tap list shows the taps; "
            f"osreplay tap create {tap} makes one)"
        )
    with broker_errors(settings, f"read tap {tap}"):
        start, end = _plan(settings, queue, window, messages=counts.messages, timeout=timeout)
    seen = prepare_append(options.output) if options.append else []
    writer = RecordingWriter(output, append=options.append, fsync=options.fsync)
    summary = FlightSummary(tap=tap, window=window, output=writer.name)
    console.reading(Reading(tap, settings.masked_url, window, start, end, options.output))
    stats = RecordStats()
    sink = LineSink(writer, stats, limit=options.count, seen=DedupWindow(initial=seen))
    began = time.monotonic()
    try:
        if start is not None:
            try:
                with broker_errors(settings, f"read tap {tap}"):
                    _read(options, console, settings, queue, window, (start, end), sink, summary)
            except ConnectError as exc:  # what was read is on file: say so in the summary
                summary.error, summary.stopped_by = exc, "error"
    finally:
        sink.close()
        summary.error = summary.error or sink.error
        try:
            writer.close()
        except OsreplayError as exc:
            summary.error = summary.error or exc
    summary.written, summary.duplicates = stats.written, stats.duplicates
    summary.exchanges = dict(stats.exchanges)
    summary.elapsed = time.monotonic() - began
    if sink.limit_reached:
        summary.stopped_by = "count"
    console.flight_summary(summary)
    return summary


def _plan(
    settings: Any, queue: str, window: Window, *, messages: int, timeout: float
) -> tuple[int | None, int | None]:
    """The first and last offsets to read (None, None: nothing; end None: follow live)."""
    # The broker's count lags: a stream it calls empty may have just been written to.
    wait = timeout if messages else PROBE_WAIT
    tail = last_chunk(settings, queue, wait=wait, connect_timeout=timeout)
    now = datetime.now(timezone.utc)
    live = window.until + timedelta(seconds=SLACK) > now and not window.until_now
    end: int | None = tail[-1].offset if tail else None
    if not live and end is None:
        return None, None
    if not live and not window.until_now:
        after = first_message(
            settings,
            queue,
            at=window.until + timedelta(seconds=SLACK),
            wait=PROBE_WAIT,
            connect_timeout=timeout,
        )
        if after is not None and end is not None:
            end = min(end, after.offset - 1)
    if live:
        end = None
    at: Any = "first" if window.since is None else window.since - timedelta(seconds=SLACK)
    first = first_message(
        settings, queue, at=at, wait=wait if at == "first" else PROBE_WAIT, connect_timeout=timeout
    )
    if first is None:
        return (None, None) if not live else (_next_offset(tail), None)
    if end is not None and first.offset > end:
        return None, None
    return first.offset, end


def _next_offset(tail: list[StreamMessage]) -> int:
    return tail[-1].offset + 1 if tail else 0


class _Events:
    """Passes the line builder's facts to the console."""

    def __init__(self, console: FlightConsole) -> None:
        self.console = console

    def skipped(self, skipped: Any) -> None:
        self.console.skipped(skipped)

    def connection_lost(self, lost: Any) -> None:
        self.console.connection_lost(lost)

    def reconnected(self, back: Any, *, durable: bool) -> None:
        self.console.reconnected(back, durable=durable)

    def cleanup_failed(self, failure: Any) -> None:
        self.console.cleanup_failed(failure)


def _read(
    options: RecordOptions,
    console: FlightConsole,
    settings: Any,
    queue: str,
    window: Window,
    offsets: tuple[int, int | None],
    sink: LineSink,
    summary: FlightSummary,
) -> None:
    start, end = offsets
    builder = LineBuilder(
        options.filters,
        Redactor(enabled=options.redact, extra_keys=options.redact_keys),
        _Events(console),
    )
    stop = threading.Event()
    reader = StreamReader(
        settings,
        queue,
        start=start,
        prefetch=options.prefetch or DEFAULT_PREFETCH,
        connect_timeout=options.connect_timeout,
        on_reconnect=console.reconnecting,
    )
    waiting = _Waiting(options, settings, queue, window, start, end)
    with stop_signals(stop, on_stop=console.stopping) as signals, reader:
        signals.listening.set()
        while not stop.is_set():
            batch = reader.poll(0.5, max_messages=options.batch_size)
            summary.reconnects = reader.reconnects
            if not batch:
                if waiting.over(reader.last_offset, summary):
                    return
                continue
            waiting.got()
            done = waiting.end is not None and batch[-1].offset >= waiting.end
            if done:
                batch = [m for m in batch if waiting.end is not None and m.offset <= waiting.end]
            entries = _entries(batch, builder, window, summary)
            try:
                if entries:
                    sink.submit(entries)
            except WriteFailed:
                summary.stopped_by = "error"
                return
            if done or sink.limit_reached:
                return
        summary.stopped_by = "signal"


class _Waiting:
    """When a read that got nothing is over: caught up, idle, or stalled."""

    def __init__(
        self,
        options: RecordOptions,
        settings: Any,
        queue: str,
        window: Window,
        start: int,
        end: int | None,
    ) -> None:
        self.options = options
        self.settings = settings
        self.queue = queue
        self.start = start
        self.end = end
        self.live_until = window.until + timedelta(seconds=SLACK)
        self.since = time.monotonic()
        self.stalled_after = max(options.connect_timeout, 10.0)

    def got(self) -> None:
        self.since = time.monotonic()

    def over(self, last_offset: int | None, summary: FlightSummary) -> bool:
        if self.end is None and datetime.now(timezone.utc) >= self.live_until:
            # A window that ended while it was followed: read up to the stream's end now.
            tail = last_chunk(self.settings, self.queue, wait=PROBE_WAIT, connect_timeout=2.0)
            self.end = tail[-1].offset if tail else self.start - 1
        read_up_to = self.start - 1 if last_offset is None else last_offset
        if self.end is not None and read_up_to >= self.end:
            return True
        quiet = time.monotonic() - self.since
        if self.options.until_idle is not None and quiet >= self.options.until_idle:
            summary.stopped_by = "idle"
            return True
        if self.end is not None and quiet >= self.stalled_after:
            summary.error = ConnectError(
                f"tap {summary.tap}: the broker stopped delivering after offset {read_up_to}, "
                f"before {self.end}; what was read is written"
            )
            summary.stopped_by = "error"
            return True
        return False


def _entries(
    batch: list[StreamMessage], builder: LineBuilder, window: Window, summary: FlightSummary
) -> list[MessageLine]:
    counts = BatchCounts()
    entries: list[MessageLine] = []
    for message in batch:
        summary.read += 1
        if summary.first_offset is None:
            summary.first_offset = message.offset
        summary.last_offset = message.offset
        note, priority = decode(message)
        if undecodable_reason(note) is not None:  # named and counted by the builder
            builder.entry(note, message.exchange, "", priority, utcnow_iso(), counts)
            continue
        moment = parse_timestamp(note["metadata"].get("timestamp"))
        if moment is None:
            summary.untimed += 1
            recorded_at = utcnow_iso()
        elif not window.holds(moment):
            summary.outside += 1
            continue
        else:
            recorded_at = moment.isoformat(timespec="microseconds")
        entry = builder.entry(
            note, message.exchange, topic_of(message.routing_key), priority, recorded_at, counts
        )
        if entry is None:
            continue
        entries.append(entry)
        if moment is not None:
            if summary.first_time is None or moment < summary.first_time:
                summary.first_time = moment
            if summary.last_time is None or moment > summary.last_time:
                summary.last_time = moment
    summary.filtered += counts.filtered
    summary.unencodable += counts.unencodable
    summary.not_notifications += counts.not_notifications
    summary.undecodable.update(counts.undecodable)
    return entries


__all__ = [
    "SLACK",
    "FlightConsole",
    "FlightSummary",
    "Reading",
    "check_options",
    "run",
]
