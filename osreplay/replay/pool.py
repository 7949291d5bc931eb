"""The worker processes behind ``replay --workers N`` (see :mod:`osreplay.replay.workers`).

One bounded task queue per worker, one result queue for all, read by a thread of the
parent into the :class:`~osreplay.replay.workers.Ledger`. Workers are started with the
``forkserver`` context (forks of a server process that imported oslo.messaging once: no
inherited connections or threads, and none of the parent's state), ignore
SIGINT and SIGTERM (the parent stops them, so that it can count what they confirmed),
and each publishes through its own :class:`~osreplay.replay.sender.OsloSender`.

Stopping never waits on the broker: a worker whose publish the broker blocks (a memory or
disk alarm) is told to give up (:data:`ABANDON`: it reports what was confirmed and leaves)
after :data:`GRACE` seconds, and killed after as many again. A worker never outlives the
replay's main process, whatever ended it (SIGKILL included): it watches the main
process (a pidfd) and asks the kernel to kill it when its own parent, the fork server,
dies (``PR_SET_PDEATHSIG``); the fork server is asked the same (:func:`die_with_parent`).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import multiprocessing
import os
import queue
import select
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from osreplay.errors import ConnectError
from osreplay.model.notification import Notification
from osreplay.replay.workers import Dispatch, Ledger

if TYPE_CHECKING:
    from osreplay.bus.blocked import BlockChange

#: Records handed to a worker at once (sooner when this process is about to wait) and
#: confirmed record numbers a worker reports at once (sooner when it runs out of work).
BATCH = 32
#: Batches waiting per worker: enough to ride out a worker's connection set-up.
DEPTH = 16
#: Seconds between checks that a worker is alive while waiting on it.
POLL = 0.5
#: Signals the parent handles for the workers (it stops them and counts what they confirmed).
STOPS = (signal.SIGINT, signal.SIGTERM)
#: Tells a worker to give up the publish it waits on, report what was confirmed and leave.
ABANDON = signal.SIGUSR1
#: Seconds a stopping replay waits for a worker before telling it to give up, and again
#: before killing it.
GRACE = 0.75
_PR_SET_PDEATHSIG = 1


class Abandoned(BaseException):
    """The parent stopped waiting (:data:`ABANDON`): not an Exception, so that no ``except
    Exception`` in oslo or kombu retries the publish it interrupts."""


def _abandon(signum: int, frame: Any) -> None:
    raise Abandoned()


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux; else nothing)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the pidfd watch below still holds
        pass


def watch_main_process(pid: int) -> None:
    """End this process as soon as process ``pid`` (the replay's main process) has ended."""

    def leave() -> None:
        os._exit(1)  # its connections close with it; nobody is left to count its confirms

    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        leave()
    except (AttributeError, OSError):  # no pidfd here: look every half second instead
        fd = None

    def watch() -> None:
        if fd is not None:
            while True:
                try:
                    select.select([fd], [], [])
                    break
                except OSError as exc:  # pragma: no cover - EINTR is retried by Python
                    if exc.errno != errno.EINTR:
                        break
        else:
            while True:
                time.sleep(POLL)
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:
                    continue
        leave()

    threading.Thread(target=watch, name="osreplay-main-watch", daemon=True).start()


def _work(  # runs in the worker process
    index: int,
    main_pid: int,
    url: str | None,
    config_files: Sequence[str],
    driver: str,
    retry: int,
    exchanges: dict[str, Any],
    tasks: Any,
    results: Any,
    stop: Any,
) -> None:
    for number in STOPS:
        signal.signal(number, signal.SIG_IGN)
    signal.signal(ABANDON, _abandon)
    die_with_parent()  # the fork server
    watch_main_process(main_pid)
    # oslo's reconnect warnings stay in the worker: its outcome is what the parent reports.
    logging.getLogger().addHandler(logging.NullHandler())
    import osreplay  # noqa: F401  # first: silences eventlet's import-time warning
    from osreplay.bus.blocked import Blocked, BlockedWatcher
    from osreplay.bus.transport import resolve
    from osreplay.replay.sender import STOPPED_CLOSE_TIMEOUT, OsloSender, PublishError

    def blocked(change: BlockChange) -> None:
        if isinstance(change, Blocked):
            results.put(("blocked", index, change.reason))
        else:
            results.put(("unblocked", index, change.seconds))

    watcher = BlockedWatcher(blocked).attach()
    abandoned = False
    try:
        try:
            settings = resolve(url=url, config_files=config_files)
            sender = OsloSender(settings, driver=driver, retry=retry, exchanges=exchanges)
        except Exception as exc:  # reported to the parent, which says it
            results.put(("error", index, str(exc)))
            return
        results.put(("ready", index, None))
        try:
            _serve(index, sender, tasks, results, stop, PublishError)
        except Abandoned:
            abandoned = True
        finally:
            if not abandoned:  # a blocked connection cannot be closed: the exit closes it
                if stop.is_set():
                    sender.close_timeout = STOPPED_CLOSE_TIMEOUT  # the parent waits on it
                sender.close()
            results.put(("exit", index, None))
    except Abandoned:  # told to give up before it served
        results.put(("exit", index, None))
    finally:
        watcher.detach()


def _serve(index: int, sender: Any, tasks: Any, results: Any, stop: Any, error: Any) -> None:
    """Send each batch handed over until the end (None); report the confirmed numbers
    (also when told to give up mid-publish: :class:`Abandoned` is raised after that)."""
    done: list[int] = []
    try:
        _serve_until_done(index, sender, tasks, results, stop, error, done)
    finally:
        if done:
            results.put(("ok", index, done))


def _serve_until_done(
    index: int, sender: Any, tasks: Any, results: Any, stop: Any, error: Any, done: list[int]
) -> None:
    failed = False
    while True:
        try:
            batch = tasks.get_nowait()
        except queue.Empty:
            if done:  # nothing waiting: say what was confirmed before blocking
                results.put(("ok", index, list(done)))
                done.clear()
            batch = tasks.get()
        if batch is None:
            break
        for seq, note, exchange, topic in batch:
            if failed or stop.is_set():
                break  # dropped, never sent: the parent counts them as not confirmed
            try:
                sender.send(note, exchange, topic)
            except error as exc:
                failed = True
                refused = type(exc).__name__ == "Refused"
                results.put(("failed", index, (seq, str(exc), refused)))
                break
            done.append(seq)
        if len(done) >= BATCH:
            results.put(("ok", index, list(done)))
            done.clear()


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    saved = {number: signal.signal(number, signal.SIG_IGN) for number in STOPS}
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


class Pool(Dispatch):
    """N worker processes, each with its own oslo transport."""

    def __init__(
        self,
        workers: int,
        *,
        url: str | None,
        config_files: Sequence[str],
        driver: str,
        retry: int,
        exchanges: dict[str, Any] | None = None,
        batch: int = BATCH,
        on_blocked: Callable[[BlockChange], None] | None = None,
    ) -> None:
        """``on_blocked`` hears when the broker blocks the workers' publishing (an alarm) and
        when it lets go (from a thread of this process)."""
        context = multiprocessing.get_context("forkserver")
        self.batch = batch
        # The fork server imports oslo.messaging once; each worker is a fork of it.
        context.set_forkserver_preload(
            ["osreplay.replay.forkserver", "osreplay.replay.pool", "osreplay.replay.sender"]
        )
        self.ledger = Ledger()
        self._lock = threading.Condition()
        self._ready: set[int] = set()
        self._errors: dict[int, str] = {}
        self._results: Any = context.Queue()
        self._stop: Any = context.Event()
        self._tasks: list[Any] = [context.Queue(maxsize=DEPTH) for _ in range(workers)]
        self._processes = [
            context.Process(
                target=_work,
                args=(
                    i,
                    os.getpid(),
                    url,
                    tuple(config_files),
                    driver,
                    retry,
                    dict(exchanges or {}),
                    tasks,
                    self._results,
                    self._stop,
                ),  # fmt: skip
                name=f"osreplay-replay-{i + 1}",
                daemon=True,
            )
            for i, tasks in enumerate(self._tasks)
        ]
        self._reader = threading.Thread(target=self._read, name="osreplay-results", daemon=True)
        self._exited = 0
        self._pending: list[list[Any]] = [[] for _ in range(workers)]
        self._error = ""
        self._on_blocked = on_blocked
        self._blocked: dict[int, str] = {}
        self._blocked_since = 0.0

    def start(self) -> None:
        """Start the workers and wait until each has its sender (ConnectError if not)."""
        with _signals_ignored():  # inherited: a Ctrl-C now cannot hit a worker mid-import
            for process in self._processes:
                process.start()
        self._reader.start()
        with self._lock:
            while len(self._ready) + len(self._errors) < len(self._processes):
                self._lock.wait(POLL)
                if not all(p.is_alive() or p.exitcode == 0 for p in self._processes):
                    break
            if self._errors:
                raise ConnectError(next(iter(self._errors.values())))
            if len(self._ready) < len(self._processes):
                raise ConnectError("a replay worker process did not start")

    def _read(self) -> None:
        while True:
            kind, index, data = self._results.get()
            with self._lock:
                if kind == "ok":
                    self.ledger.confirm(data)
                    self.ledger.confirmed_at = time.perf_counter()
                elif kind == "failed":
                    seq, reason, refused = data
                    self.ledger.fail(seq, reason, refused=refused)
                elif kind == "ready":
                    self._ready.add(index)
                elif kind == "error":
                    self._errors[index] = data
                elif kind == "exit":
                    self._exited += 1
                elif kind in ("blocked", "unblocked"):
                    self._block_changed(kind, index, data)
                self._lock.notify_all()
                if self._exited == len(self._processes):
                    return

    def _block_changed(self, kind: str, index: int, data: Any) -> None:
        """One fact for all the workers: blocked when the first is, unblocked when the last."""
        from osreplay.bus.blocked import Blocked, Unblocked

        change: BlockChange | None = None
        if kind == "blocked":
            if not self._blocked:
                self._blocked_since = time.monotonic()
                change = Blocked(str(data))
            self._blocked[index] = str(data)
        elif self._blocked.pop(index, None) is not None and not self._blocked:
            change = Unblocked(time.monotonic() - self._blocked_since)
        if change is not None and self._on_blocked is not None:
            self._on_blocked(change)

    def submit(self, worker: int, seq: int, note: Notification, exchange: str, topic: str) -> str:
        pending = self._pending[worker]
        pending.append((seq, note, exchange, topic))
        if len(pending) >= self.batch:
            self._flush(worker)
        return self._error

    def flush(self) -> None:
        for worker in range(len(self._tasks)):
            self._flush(worker)

    def _flush(self, worker: int) -> None:
        """Hand a worker the records gathered for it (blocks while its queue is full)."""
        batch, self._pending[worker] = self._pending[worker], []
        tasks, process = self._tasks[worker], self._processes[worker]
        while batch and not self._error:
            try:
                tasks.put(batch, timeout=POLL)
                return
            except queue.Full:
                if not process.is_alive():
                    self._error = f"replay worker {worker + 1} ended (exit code {process.exitcode})"

    def finish(self, *, now: bool) -> None:
        """End the workers: ``now`` drops what they have not sent, and gives up within
        about twice :data:`GRACE` seconds on a worker the broker blocks; else they drain
        (as long as that takes: a Ctrl-C meanwhile comes back here with ``now``)."""
        if now:
            self._stop.set()
            self._stop_within(GRACE)
        else:
            self.flush()
            for worker in range(len(self._tasks)):
                self._end(worker)
            for process in self._processes:
                process.join()
        self._reader.join(timeout=POLL * 4)

    def _stop_within(self, grace: float) -> None:
        """Tell every worker to end, wait ``grace`` seconds, tell those still busy to give
        up their publish (they report what was confirmed), wait again, then kill."""
        for worker in range(len(self._tasks)):
            self._end(worker, timeout=0.05)
        if self._join(grace):
            return
        for process in self._processes:
            if process.is_alive() and process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, ABANDON)
        if self._join(grace):
            return
        for process in self._processes:
            if process.is_alive():
                process.kill()
        self._join(grace)

    def _join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for every started worker; True when all ended."""
        deadline = time.monotonic() + timeout
        for process in self._processes:
            if process.pid is not None:
                process.join(max(0.0, deadline - time.monotonic()))
        return not any(p.is_alive() for p in self._processes if p.pid is not None)

    def _end(self, worker: int, *, timeout: float | None = None) -> None:
        """Put the end mark in the worker's queue (while it lives; ``timeout``: try once)."""
        tasks, process = self._tasks[worker], self._processes[worker]
        while process.is_alive():
            try:
                tasks.put(None, timeout=POLL if timeout is None else timeout)
                return
            except queue.Full:
                if timeout is not None:
                    return
                continue

    def close(self) -> None:
        """Make sure no worker outlives the replay (after an error before the end)."""
        self._stop.set()
        self._stop_within(GRACE)


__all__ = ["BATCH", "Pool"]
