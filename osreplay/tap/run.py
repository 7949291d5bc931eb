"""``osreplay record``: resolve the bus, open the file (or the first of a rotated series),
record until told to stop.

:func:`run` is the whole command without its options and its words: the console it is
given (:class:`RecordConsole`) hears facts and decides what a person reads.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from osreplay.bus.transport import check_connection, resolve
from osreplay.errors import OsreplayError, UsageError
from osreplay.model.output import output_path
from osreplay.model.repair import prepare_append
from osreplay.model.writer import RecordingWriter
from osreplay.runtime import exit_now, run_unless_stopped, silence_stdout, stop_signals
from osreplay.tap.flight import check_options
from osreplay.tap.options import FileStarted, RecordEvents, RecordOptions, RecordSummary
from osreplay.tap.recorder import Recorder
from osreplay.tap.rotate import RotateLimits, RotationPlan, earlier_deliveries, plan_rotation
from osreplay.tap.rotating import RotatingWriter
from osreplay.tap.sink import OutputWriter, RecordStats


@dataclass(frozen=True)
class Rotation:
    """A rotated recording: the file it starts with, the pattern of the next ones, when
    it moves on, and the last file of the earlier run it goes on after (``--append``)."""

    first: str
    pattern: str
    limits: RotateLimits
    after: str | None


@dataclass(frozen=True)
class Listening:
    """The recorder is bound: where, on what, with which pool and leftovers."""

    url: str
    exchanges: list[str]
    topics: list[str]
    pool: str
    output: str
    resumed: list[str]
    purged: list[str]
    rotation: Rotation | None = None
    #: With durable tap queues: the exchanges a broker restart drops with the bindings.
    transient_exchanges: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NotListening:
    """Stopped before listening: ``why`` is ``timeout`` (--duration) or ``stopped`` (a
    signal); ``left_queues`` are tap queues that may stay on the broker."""

    url: str
    why: str
    waited: float | None
    pool: str
    left_queues: list[str]


class RecordConsole(RecordEvents, Protocol):
    """Everything the record command tells a person, as facts."""

    def bus_notes(self, notes: Sequence[str]) -> None: ...

    def ready(self, listening: Listening) -> None: ...

    def file_started(self, started: FileStarted) -> None: ...

    def progress(self, stats: RecordStats) -> None: ...

    def clear_progress(self) -> None: ...

    def stopping(self) -> None: ...

    def not_listening(self, left: NotListening) -> None: ...

    def summary(self, summary: RecordSummary) -> None: ...


def run(options: RecordOptions, console: RecordConsole) -> RecordSummary:
    """Record as ``options`` say; the summary carries a write error instead of raising it."""
    check_options(options)  # --since/--until without --from-tap
    plan = plan_rotation(options.output, options.rotate, append=options.append)
    if options.append and options.output == "-":
        raise UsageError("--append needs -o FILE (standard output cannot be appended to)")
    # Before the broker is asked anything: a folder or a path that cannot be written is an
    # error now (a device, FIFO or socket is written in place, a link's target is written).
    output = output_path(options.output) if plan is None else None
    settings = resolve(url=options.url, config_files=options.config_files, topics=options.topics)
    console.bus_notes(settings.notes)
    if not options.exchanges and settings.control_exchanges:
        console.bus_notes(
            [
                f"Exchange {exchange} from {path} [DEFAULT] control_exchange"
                for exchange, path in settings.control_exchanges
            ]
        )
    # Before the output is opened: an unreachable broker must not empty an existing file.
    check_connection(settings, timeout=options.connect_timeout)
    writer: OutputWriter
    if plan is None:
        seen = prepare_append(options.output) if options.append else []
        writer = RecordingWriter(
            output or options.output, append=options.append, fsync=options.fsync
        )
    else:
        seen = earlier_deliveries(plan) if options.append else []
        writer = RotatingWriter(plan, fsync=options.fsync, on_start=console.file_started)
    try:
        recorder = Recorder(settings, writer=writer, options=options, seen=seen, events=console)
        summary = _record(recorder, console, _rotation(plan, writer))
    except BaseException:
        _abandon(writer)
        raise
    closing = _close(writer)
    if isinstance(writer, RotatingWriter):
        summary.output, summary.files = writer.path, writer.files
        summary.rotate = writer.plan.limits
    # The (last) file could not be closed, a .gz its trailer not written: its lines are
    # there, acked; the summary is printed and the error follows it.
    summary.error = summary.error or closing
    console.summary(summary)
    if summary.stopped_by == "output closed":
        silence_stdout()
    return summary


def _close(writer: OutputWriter) -> OsreplayError | None:
    try:
        writer.close()
    except OsreplayError as exc:
        return exc
    return None


def _abandon(writer: OutputWriter) -> None:
    """The run could not start: close, and leave no empty file a rerun would be refused for."""
    if isinstance(writer, RotatingWriter):
        writer.discard()
    else:
        writer.close()


def _rotation(plan: RotationPlan | None, writer: OutputWriter) -> Rotation | None:
    if plan is None:
        return None
    after = plan.earlier[-1] if plan.earlier else None
    return Rotation(first=writer.name, pattern=writer.path, limits=plan.limits, after=after)


def _record(recorder: Recorder, console: RecordConsole, rotation: Rotation | None) -> RecordSummary:
    duration = recorder.options.duration
    stop = threading.Event()
    with stop_signals(stop, on_stop=console.stopping) as signals:
        # Connecting can hang (oslo retries some failures forever): Ctrl-C, SIGTERM and,
        # with --duration, the connect timeout past it still end the run. --duration counts
        # from when the tap listens: a start slowed by a loaded broker is not a failure.
        # The connection was checked a moment ago.
        started = run_unless_stopped(
            lambda: recorder.start(check_first=False), stop, timeout=_start_limit(recorder.options)
        )
        signals.listening.set()
        if started != "done":
            _abandon(recorder.writer)
            console.not_listening(_not_listening(recorder, started))
            exit_now(OsreplayError.exit_code if started == "timeout" else signals.exit_code)
        console.ready(_listening(recorder, rotation))
        recorder.run_until(stop, duration=duration, tick=console.progress)
        console.clear_progress()
        return recorder.stop()


def _listening(recorder: Recorder, rotation: Rotation | None) -> Listening:
    plan = recorder.plan
    return Listening(
        url=recorder.settings.masked_url,
        exchanges=recorder.exchanges,
        topics=recorder.topics,
        pool=recorder.pool,
        output=recorder.options.output,
        resumed=list(plan.resumed) if plan else [],
        purged=list(plan.purged) if plan else [],
        rotation=rotation,
        transient_exchanges=recorder.transient_exchanges if recorder.durable else [],
    )


def _start_limit(options: RecordOptions) -> float | None:
    """How long the listeners may take to start: with --duration, it plus --connect-timeout."""
    return None if options.duration is None else options.duration + options.connect_timeout


def _not_listening(recorder: Recorder, why: str) -> NotListening:
    left = recorder.queues if recorder.plan is not None and not recorder.keep_queue else []
    return NotListening(
        url=recorder.settings.masked_url,
        why=why,
        waited=_start_limit(recorder.options),
        pool=recorder.pool,
        left_queues=left,
    )


__all__ = ["Listening", "NotListening", "RecordConsole", "Rotation", "run"]
