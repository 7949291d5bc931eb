"""``osreplay replay``: from the options to a :class:`~osreplay.replay.replayer.ReplaySummary`.

:func:`run` checks the options, builds the source (files checked whole, or standard input
as it arrives), the schedule, the rewriter and the sender (oslo.messaging, or nothing and
a virtual clock for ``--dry-run``), and replays. SIGTERM stops it as Ctrl-C does
(:mod:`osreplay.runtime`). It tells the console facts as they happen (skipped lines,
each record planned or sent) and returns the summary; a ``KeyboardInterrupt`` raised
before the first record (while checking files or connecting) propagates: nothing was sent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from osreplay.bus.blocked import BlockChange, BlockedWatcher
from osreplay.bus.exchanges import ExchangeFlags, ExchangeState, probe_all, services_flags
from osreplay.bus.queues import QueueAdmin
from osreplay.bus.transport import BusSettings, check_connection, oslo_reason, resolve
from osreplay.errors import ConnectError, OsreplayError, UsageError
from osreplay.model.files import expand_inputs
from osreplay.model.filters import Filters
from osreplay.model.ndjson import DEFAULT_MAX_LINE_BYTES
from osreplay.model.notes import NoteLine
from osreplay.replay.pacing import Pacer, Schedule, VirtualClock, make_schedule
from osreplay.replay.pool import BATCH, Pool
from osreplay.replay.replayer import (
    Observer,
    Replayer,
    ReplaySummary,
    Source,
    UnreadQueue,
    planned_duration,
)
from osreplay.replay.rewrite import Rewriter, clock_now
from osreplay.replay.sender import (
    STOPPED_CLOSE_TIMEOUT,
    NullSender,
    OsloSender,
    Sender,
    not_topic,
    refusal,
)
from osreplay.replay.sources import FileSource, Selection, StreamSource, parse_start_at
from osreplay.replay.workers import PooledReplayer
from osreplay.runtime import gc_frozen, terminate_like_interrupt

LOG = logging.getLogger(__name__)

#: A paced plan longer than this (seconds) is worth a warning without --max-gap or --rate.
LONG_PLAN = 3600


@dataclass(frozen=True)
class ReplayOptions:
    """What ``osreplay replay`` was asked to do (the command's options)."""

    files: tuple[str, ...] = ()
    url: str | None = None
    config_files: tuple[str, ...] = ()
    exchange: str | None = None
    topic: str | None = None
    driver: str = "messagingv2"
    speed: float | None = None
    rate: float | None = None
    max_gap: float | None = None
    filters: Filters = Filters()
    limit: int | None = None
    start_at: str | None = None
    loop: int = 1
    retry: int = 3
    skip_invalid: bool = False
    dry_run: bool = False
    fresh_ids: bool = False
    retime: bool = False
    sets: tuple[str, ...] = ()
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    workers: int = 1
    merge: bool = False  # files record by record in timestamp order, not one after another

    @property
    def streaming(self) -> bool:
        """Standard input is read (no FILE, or ``-``)."""
        return not self.files or self.files == ("-",)

    def schedule(self) -> Schedule:
        """A fresh schedule for these options (UsageError when they contradict)."""
        return make_schedule(rate=self.rate, speed=self.speed, max_gap=self.max_gap)


class ReplayConsole(Protocol):
    """The presentation layer (osreplay.console.replay), told what happens as it does."""

    def bus_notes(self, notes: Sequence[str]) -> None: ...

    def reading_stdin(self) -> None: ...

    def long_plan(self, seconds: float) -> None: ...

    def skipped(self, entry: NoteLine) -> None: ...

    def skipped_more(self, count: int) -> None:
        """``count`` more unreadable lines skipped, beyond those told one by one."""

    def dry_run(self, *, rewriting: bool) -> Observer: ...

    def progress(self, total: int | None, *, planned: float | None) -> Observer | None: ...

    def close_progress(self) -> None: ...

    def exchange_differs(self, state: ExchangeState, wanted: ExchangeFlags) -> None: ...

    def blocked(self, change: BlockChange) -> None: ...


def run(options: ReplayOptions, console: ReplayConsole) -> ReplaySummary:
    """Replay what ``options`` select; the summary says what the broker confirmed."""
    schedule = options.schedule()
    _check_inputs(options)
    files = () if options.streaming else expand_inputs(options.files)
    selection = Selection(
        options.filters,
        limit=options.limit,
        start_at=parse_start_at(options.start_at, files),
    )
    rewriter = Rewriter.from_options(
        fresh_ids=options.fresh_ids, retime=options.retime, sets=options.sets
    )
    settings = resolve(url=options.url, config_files=options.config_files)
    console.bus_notes(settings.notes)
    if options.streaming:
        console.reading_stdin()
    # SIGTERM (timeout, systemd) stops like Ctrl-C: the summary and the resume point.
    with terminate_like_interrupt():
        if options.streaming:
            stream = StreamSource("-", selection, max_line_bytes=options.max_line_bytes)
            return _replay(options, console, stream, schedule, settings, rewriter, None)
        source = _checked_files(options, files, selection, schedule)
        # The records a checked file keeps stay live for the whole run and hold no cycles:
        # frozen, the cyclic garbage collector never scans them.
        with gc_frozen():
            planned = planned_duration(source, options.schedule())
            if planned is not None and planned > LONG_PLAN:
                if options.rate is None and options.max_gap is None:
                    console.long_plan(planned)
            planned = planned if schedule.paced else None
            return _replay(options, console, source, schedule, settings, rewriter, planned)


def _check_inputs(options: ReplayOptions) -> None:
    if not options.streaming and "-" in options.files:
        raise UsageError("- (standard input) cannot be combined with files")
    if options.streaming and options.merge:
        raise UsageError("--merge needs FILE arguments: standard input is one stream")
    if options.streaming and options.loop != 1:
        raise UsageError("--loop needs FILE arguments: standard input can be read only once")
    if options.dry_run and options.loop == 0:
        raise UsageError("--dry-run cannot plan an endless --loop 0: give a number of passes")


def _checked_files(
    options: ReplayOptions, files: Sequence[str], selection: Selection, schedule: Schedule
) -> FileSource:
    source = FileSource(
        files,
        selection,
        skip_invalid=options.skip_invalid,
        needs_timestamps=schedule.needs_timestamps,
        loop=options.loop,
        max_line_bytes=options.max_line_bytes,
        merge=options.merge,
    )
    source.check()  # refuses unreadable lines before anything is sent
    return source


def _replay(
    options: ReplayOptions,
    console: ReplayConsole,
    source: Source,
    schedule: Schedule,
    settings: BusSettings,
    rewriter: Rewriter,
    planned: float | None,
) -> ReplaySummary:
    """Connect (unless --dry-run), replay ``source`` and return the summary."""
    for entry in source.skipped:
        console.skipped(entry)
    if source.skipped_total > len(source.skipped):
        console.skipped_more(source.skipped_total - len(source.skipped))
    sender: Sender
    observer: Observer | None
    exchanges: dict[str, ExchangeState] = {}
    if options.dry_run:
        clock = VirtualClock()
        pacer = Pacer(clock=clock.clock, sleep=clock.sleep)
        sender = NullSender()
        if rewriter.active:
            rewriter.now = clock_now(clock.clock)  # --retime plans with the virtual clock
        observer = console.dry_run(rewriting=rewriter.active)
    else:
        check_connection(settings)
        exchanges = _exchanges(options, console, source, settings)
        pacer = Pacer()
        sender = OsloSender(
            settings,
            driver=options.driver,
            retry=options.retry,
            exchanges=exchanges,
            on_exchange=console.exchange_differs,
        )
        observer = console.progress(source.total, planned=planned)
    kwargs = _replayer_options(options, console, settings, pacer, observer, rewriter)
    pool: Pool | None = None
    # Said while it lasts: a memory or disk alarm blocks every publish, silently otherwise.
    watcher = None if options.dry_run else BlockedWatcher(console.blocked).attach()
    summary: ReplaySummary | None = None
    try:
        replayer = Replayer(sender, schedule, **kwargs)
        if options.workers > 1 and not options.dry_run:  # --dry-run plans as one worker
            pool = _pool(options, exchanges, console)
            replayer = PooledReplayer(pool, options.workers, schedule, **kwargs)
        summary = replayer.run(source)
    finally:
        stopped = summary is None or (
            summary.stop is not None and summary.stop.kind == "interrupted"
        )
        if pool is not None:
            pool.close()
        if stopped and isinstance(sender, OsloSender):
            sender.close_timeout = STOPPED_CLOSE_TIMEOUT  # stopped: back within seconds
        sender.close()
        if watcher is not None:
            watcher.detach()
        console.close_progress()
    if summary.seen:
        summary.unmatched_sets = rewriter.unmatched()
    # Only after a complete run: after a broker failure asking it would only wait for it
    # again, and Ctrl-C must return at once.
    if not options.dry_run and not settings.is_memory and summary.stop is None:
        summary.unread = unread_queues(settings, summary.routes)
    return summary


def unread_queues(settings: BusSettings, routes: set[str]) -> list[UnreadQueue]:
    """The ``<topic>.<priority>`` queues replay published to that hold messages with no
    consumer: oslo's Notifier declares them so nothing is lost before a consumer exists,
    and "confirmed by the broker" does not mean anyone read them."""
    if not routes:
        return []
    unread = []
    admin = QueueAdmin.for_settings(settings, connect_timeout=5.0)
    try:
        for name in sorted(routes):
            state = admin.inspect(name)
            if state is not None and state.messages and not state.consumers:
                unread.append(UnreadQueue(name, state.messages))
    except Exception as exc:  # noqa: BLE001 - the replay is done; only the report is lost
        LOG.info("could not inspect the queues replay published to: %s", exc)
    finally:
        admin.close()
    return unread


def _exchanges(
    options: ReplayOptions, console: ReplayConsole, source: Source, settings: BusSettings
) -> dict[str, ExchangeState]:
    """The exchange rule, before anything is sent: each exchange the records go to, as the
    broker has it (a missing one declared as the configuration says). One of another type
    is refused; one whose flags differ from the configuration is replayed into as it is.
    A stream's exchanges are unknown ahead: the sender looks at each before its first record.
    """
    if options.exchange:
        names = [options.exchange]
    elif isinstance(source, FileSource):
        default = settings.conf.control_exchange
        names = sorted({name or default for name in source.exchanges})
    else:
        return {}
    try:
        states = probe_all(settings, names)
    except OsreplayError:
        raise
    except Exception as exc:
        refused = refusal(exc)
        if refused:
            raise UsageError(refused) from None
        raise ConnectError(
            f"cannot look at the exchanges on {settings.masked_url}: {oslo_reason(exc)}"
        ) from None
    wanted = services_flags(settings)
    for state in states.values():
        if state.kind is not None:
            raise UsageError(not_topic(state))
        if state.flags != wanted:
            console.exchange_differs(state, wanted)
    return states


def _pool(
    options: ReplayOptions, exchanges: dict[str, ExchangeState], console: ReplayConsole
) -> Pool:
    """Start ``--workers`` processes, each with its own connection."""
    pool = Pool(
        options.workers,
        url=options.url,
        config_files=options.config_files,
        driver=options.driver,
        retry=options.retry,
        exchanges=exchanges,
        batch=1 if options.streaming else BATCH,
        on_blocked=console.blocked,  # a line read is sent, not held back
    )
    try:
        pool.start()
    except BaseException:
        pool.close()  # the caller never sees this pool
        raise
    return pool


def _replayer_options(
    options: ReplayOptions,
    console: ReplayConsole,
    settings: BusSettings,
    pacer: Pacer,
    observer: Observer | None,
    rewriter: Rewriter,
) -> dict[str, Any]:
    return dict(
        pacer=pacer,
        exchange=options.exchange,
        topic=options.topic,
        default_exchange=settings.conf.control_exchange,
        default_topic=settings.topics[0],
        skip_invalid=options.skip_invalid,
        observer=observer,
        on_skip=console.skipped,
        rewrite=rewriter if rewriter.active else None,
    )


__all__ = ["ReplayConsole", "ReplayOptions", "run"]
