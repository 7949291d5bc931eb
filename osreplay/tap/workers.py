"""``record --workers N``: N recorder processes on one pool, past one core.

One recorder is one core (oslo's consumer is most of its work), so a tap queue busier
than a core cannot be drained by one process. Here the pool is planned once, then N
processes (forked, so they start without importing anything again) each run a
:class:`~osreplay.tap.recorder.Recorder` on that same pool: the broker hands each message
of a tap queue to one of them (competing consumers), and each writes its own file, the
``{n}`` of ``-o`` (``dir/part-{n}.ndjson``). Every guarantee of one recorder holds in
each worker: a message is acked after its line is written, requeued (for any worker to
take) when it is not. ``--count`` is the total: the workers reserve lines from one shared
:class:`SharedBudget` before each write. The tap queues outlive every worker and are
deleted by this process at the end (unless ``--keep-queue``).

Each part is in the order its worker wrote it; read the set back in time order with
``--merge`` (``replay``, ``trace``) or as several files (``stats``, ``validate``).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, cast

from osreplay.bus.transport import check_connection, quorum_queues, resolve
from osreplay.errors import OsreplayError, UsageError
from osreplay.model.output import output_path
from osreplay.model.writer import RecordingWriter
from osreplay.runtime import stop_signals
from osreplay.tap.options import (
    QUEUE_TYPES,
    CleanupFailed,
    RecordedFile,
    RecordOptions,
    RecordSummary,
)
from osreplay.tap.pool import TapQueues
from osreplay.tap.recorder import Recorder, default_exchanges
from osreplay.tap.run import Listening, RecordConsole


class SharedBudget:
    """The ``--count`` of all workers, in shared memory (see :class:`~osreplay.tap.sink.Budget`)."""

    def __init__(self, count: int | None, context: Any) -> None:
        self.count = count
        self._lock = context.Lock()
        self._reserved = context.Value("q", 0, lock=False)
        self._written = context.Value("q", 0, lock=False)

    def reserve(self, wanted: int) -> int:
        with self._lock:
            room = wanted
            if self.count is not None:
                room = max(0, min(wanted, self.count - self._reserved.value))
            self._reserved.value += room
            return room

    def release(self, unused: int) -> None:
        with self._lock:
            self._reserved.value -= unused

    def wrote(self, lines: int) -> None:
        with self._lock:
            self._written.value += lines

    @property
    def written(self) -> int:
        return int(self._written.value)

    @property
    def reached(self) -> bool:
        return self.count is not None and self.written >= self.count


@dataclass
class WorkerResult:
    """What one worker did (sent back to the parent)."""

    n: int
    path: str
    written: int = 0
    filtered: int = 0
    duplicates: int = 0
    requeued: int = 0
    unencodable: int = 0
    not_notifications: int = 0
    event_types: dict[str, int] = field(default_factory=dict)
    exchanges: dict[str, int] = field(default_factory=dict)
    error: str | None = None


def part_paths(output: str, workers: int) -> list[str]:
    """``dir/part-{n}.ndjson`` -> one path per worker (``{n}`` from 1, any format spec)."""
    if output == "-" or "{n" not in output:
        raise UsageError(
            f"--workers {workers} writes one file per worker: give -o a pattern with {{n}}, "
            "e.g. -o 'dir/part-{n}.ndjson'"
        )
    try:
        paths = [output.format(n=n) for n in range(1, workers + 1)]
    except (KeyError, IndexError, ValueError) as exc:
        raise UsageError(f"-o {output}: only {{n}} may be in braces ({exc})") from None
    for path in paths:
        folder = os.path.dirname(path) or "."
        if not os.path.isdir(folder):
            raise UsageError(f"-o {output}: no folder {folder}")
        output_path(path)  # the output-path rule, before any worker starts
    return paths


def check_options(options: RecordOptions) -> list[str]:
    """The paths of the parts; refuse what the workers cannot do."""
    refused = {
        "rotate": "--rotate",
        "append": "--append",
        "from_tap": "--from-tap",
    }
    for name, flag in refused.items():
        if getattr(options, name):
            raise UsageError(f"{flag} is not available with --workers")
    return part_paths(options.output, options.processes)


def run(options: RecordOptions, console: RecordConsole) -> RecordSummary:
    """Record with ``options.processes`` workers on one pool."""
    paths = check_options(options)
    if options.queue_type is not None and options.queue_type not in QUEUE_TYPES:
        raise UsageError(f"--queue-type {options.queue_type}: choose {' or '.join(QUEUE_TYPES)}")
    settings = resolve(url=options.url, config_files=options.config_files, topics=options.topics)
    console.bus_notes(settings.notes)
    if settings.is_memory:
        raise UsageError(
            f"--workers needs a broker the processes share; {settings.masked_url} lives in "
            "one process"
        )
    check_connection(settings, timeout=options.connect_timeout)
    exchanges = list(dict.fromkeys(options.exchanges or default_exchanges(settings)))
    topics = list(dict.fromkeys(options.topics or settings.topics))
    queue_type = options.queue_type or ("quorum" if quorum_queues(settings) else "classic")
    durable = options.durable or queue_type == "quorum"
    tap_queues = TapQueues(
        settings,
        connect_timeout=options.connect_timeout,
        on_cleanup_failed=lambda left, reason: console.cleanup_failed(CleanupFailed(left, reason)),
    )
    # Held by this process for its workers: the pool's lock, until the end.
    plan = tap_queues.prepare(exchanges, topics, pool=options.pool, append=False)
    try:
        return _run_workers(
            options, console, settings, paths, exchanges, topics, durable, plan, tap_queues
        )
    finally:
        tap_queues.release()


def _run_workers(
    options: RecordOptions,
    console: RecordConsole,
    settings: Any,
    paths: list[str],
    exchanges: list[str],
    topics: list[str],
    durable: bool,
    plan: Any,
    tap_queues: TapQueues,
) -> RecordSummary:
    context = multiprocessing.get_context("fork")  # no re-import: a worker starts at once
    budget = SharedBudget(options.count, context)
    stop = context.Event()
    results: Any = context.Queue()
    ready = [context.Event() for _ in paths]
    one = replace(
        options, exchanges=exchanges, pool=plan.pool, keep_queue=True, count=None, processes=1
    )
    procs = [
        context.Process(
            target=_work,
            args=(n, replace(one, output=path), budget, stop, ready[n - 1], results, console),
            name=f"osreplay-record-{n}",
        )
        for n, path in enumerate(paths, start=1)
    ]
    transient = [n for n, s in plan.exchanges.items() if not s.flags.durable] if durable else []
    began = time.monotonic()
    for proc in procs:
        proc.start()
    listening = Listening(
        url=settings.masked_url,
        exchanges=exchanges,
        topics=topics,
        pool=plan.pool,
        output=options.output,
        resumed=list(plan.resumed),
        purged=list(plan.purged),
        transient_exchanges=transient,
    )
    stopped_by = _supervise(options, console, procs, ready, stop, budget, listening)
    gathered = _gather(results, procs, paths)
    error = next((r.error for r in gathered if r.error), None)
    kept: list[str] = []
    deleted: list[str] = []
    if options.keep_queue or error is not None:
        kept = list(plan.queues.values())
    else:
        deleted = tap_queues.delete()
    summary = _summarise(gathered, stopped_by, time.monotonic() - began, options, plan.pool)
    summary.kept_queues, summary.deleted_queues, summary.durable = kept, deleted, durable
    summary.bindings_survive = durable and not transient
    summary.error = OsreplayError(error) if error is not None else None
    console.summary(summary)
    return summary


def _supervise(
    options: RecordOptions,
    console: RecordConsole,
    procs: list[Any],
    ready: list[Any],
    stop: Any,
    budget: SharedBudget,
    listening: Listening,
) -> str:
    signalled = threading.Event()
    with stop_signals(signalled, on_stop=console.stopping) as signals:
        while not all(event.is_set() for event in ready):
            if signalled.is_set() or not all(proc.is_alive() for proc in procs):
                stop.set()
                for proc in procs:
                    proc.join()
                return "signal" if signalled.is_set() else "error"
            time.sleep(0.05)
        console.ready(listening)
        signals.listening.set()
        deadline = None if options.duration is None else time.monotonic() + options.duration
        stopped_by = "signal"
        while any(proc.is_alive() for proc in procs):
            if signalled.is_set():
                stopped_by = "signal"
            elif budget.reached:
                stopped_by = "count"
            elif deadline is not None and time.monotonic() >= deadline:
                stopped_by = "duration"
            elif not all(proc.is_alive() for proc in procs):
                stopped_by = "error"
            else:
                time.sleep(0.05)
                continue
            stop.set()
            for proc in procs:
                proc.join()
        return stopped_by


def _gather(results: Any, procs: list[Any], paths: list[str]) -> list[WorkerResult]:
    found: dict[int, WorkerResult] = {}
    for _ in procs:
        try:
            result = results.get(timeout=5)
        except queue.Empty:
            break
        found[result.n] = result
    for n, (proc, path) in enumerate(zip(procs, paths, strict=True), start=1):
        if n not in found:
            found[n] = WorkerResult(n, path, error=f"worker {n} ended (exit code {proc.exitcode})")
    return [found[n] for n in sorted(found)]


def _summarise(
    gathered: list[WorkerResult],
    stopped_by: str,
    elapsed: float,
    options: RecordOptions,
    pool: str,
) -> RecordSummary:
    event_types: Counter[str] = Counter()
    exchanges: Counter[str] = Counter()
    for result in gathered:
        event_types.update(result.event_types)
        exchanges.update(result.exchanges)
    return RecordSummary(
        written=sum(r.written for r in gathered),
        filtered=sum(r.filtered for r in gathered),
        duplicates=sum(r.duplicates for r in gathered),
        requeued=sum(r.requeued for r in gathered),
        unencodable=sum(r.unencodable for r in gathered),
        not_notifications=sum(r.not_notifications for r in gathered),
        elapsed=elapsed,
        output=options.output,
        pool=pool,
        stopped_by=stopped_by,
        top_event_types=event_types.most_common(5),
        exchanges=dict(exchanges),
        deleted_queues=[],
        kept_queues=[],
        files=[RecordedFile(r.path, r.written, _size(r.path)) for r in gathered],
    )


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _work(
    n: int,
    options: RecordOptions,
    budget: SharedBudget,
    stop: Any,
    ready: Any,
    results: Any,
    console: RecordConsole,
) -> None:
    """One worker (a forked process): record on the shared pool until told to stop."""
    # Ctrl-C reaches the whole process group: the parent decides, and sets ``stop``.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    result = WorkerResult(n, options.output)
    try:
        settings = resolve(
            url=options.url, config_files=options.config_files, topics=options.topics
        )
        writer = RecordingWriter(options.output, fsync=options.fsync)
        recorder = Recorder(
            settings,
            writer=writer,
            options=options,
            events=console,
            budget=budget,
            shared_pool=True,
        )
        recorder.start(check_first=False)
        ready.set()
        recorder.run_until(cast(threading.Event, stop))
        summary = recorder.stop()
        writer.close()
        result = WorkerResult(
            n,
            options.output,
            written=summary.written,
            filtered=summary.filtered,
            duplicates=summary.duplicates,
            requeued=summary.requeued,
            unencodable=summary.unencodable,
            not_notifications=summary.not_notifications,
            event_types=dict(recorder.stats.event_types),
            exchanges=summary.exchanges,
            error=str(summary.error) if summary.error is not None else None,
        )
    except OsreplayError as exc:
        result.error = str(exc)
    finally:
        results.put(result)
        if result.error:
            stop.set()  # the others stop too: the run failed


__all__ = ["SharedBudget", "WorkerResult", "check_options", "part_paths", "run"]
