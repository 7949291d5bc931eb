"""The worker processes behind ``replay --workers N`` (see :mod:`osreplay.replay.workers`).

One bounded task queue per worker, one result queue for all, read by a thread of the
parent into the :class:`~osreplay.replay.workers.Ledger`. Workers are started with the
``forkserver`` context (forks of a server process that imported oslo.messaging once: no
inherited connections or threads, and none of the parent's state), ignore
SIGINT and SIGTERM (the parent stops them, so that it can count what they confirmed),
and each publishes through its own :class:`~osreplay.replay.sender.OsloSender`.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import queue
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from osreplay.errors import ConnectError
from osreplay.model.notification import Notification
from osreplay.replay.workers import Dispatch, Ledger

#: Records handed to a worker at once (sooner when this process is about to wait) and
#: confirmed record numbers a worker reports at once (sooner when it runs out of work).
BATCH = 32
#: Batches waiting per worker: enough to ride out a worker's connection set-up.
DEPTH = 16
#: Seconds between checks that a worker is alive while waiting on it.
POLL = 0.5
#: Signals the parent handles for the workers (it stops them and counts what they confirmed).
STOPS = (signal.SIGINT, signal.SIGTERM)


def _work(  # runs in the worker process
    index: int,
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
    # oslo's reconnect warnings stay in the worker: its outcome is what the parent reports.
    logging.getLogger().addHandler(logging.NullHandler())
    import osreplay  # noqa: F401  # first: silences eventlet's import-time warning
    from osreplay.bus.transport import resolve
    from osreplay.replay.sender import OsloSender, PublishError

    try:
        settings = resolve(url=url, config_files=config_files)
        sender = OsloSender(settings, driver=driver, retry=retry, exchanges=exchanges)
    except Exception as exc:  # reported to the parent, which says it
        results.put(("error", index, str(exc)))
        return
    results.put(("ready", index, None))
    try:
        _serve(index, sender, tasks, results, stop, PublishError)
    finally:
        sender.close()
        results.put(("exit", index, None))


def _serve(index: int, sender: Any, tasks: Any, results: Any, stop: Any, error: Any) -> None:
    """Send each batch handed over until the end (None); report the confirmed numbers."""
    done: list[int] = []
    failed = False
    while True:
        try:
            batch = tasks.get_nowait()
        except queue.Empty:
            if done:  # nothing waiting: say what was confirmed before blocking
                results.put(("ok", index, done))
                done = []
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
            results.put(("ok", index, done))
            done = []
    if done:
        results.put(("ok", index, done))


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
    ) -> None:
        context = multiprocessing.get_context("forkserver")
        self.batch = batch
        # The fork server imports oslo.messaging once; each worker is a fork of it.
        context.set_forkserver_preload(["osreplay.replay.pool", "osreplay.replay.sender"])
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
                self._lock.notify_all()
                if self._exited == len(self._processes):
                    return

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
        if now:
            self._stop.set()
        else:
            self.flush()
        for worker in range(len(self._tasks)):
            self._end(worker)
        for process in self._processes:
            process.join()
        self._reader.join(timeout=POLL * 4)

    def _end(self, worker: int) -> None:
        tasks, process = self._tasks[worker], self._processes[worker]
        while process.is_alive():
            try:
                tasks.put(None, timeout=POLL)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        """Make sure no worker outlives the replay (after an error before the end)."""
        self._stop.set()
        for worker, process in enumerate(self._processes):
            if process.is_alive():
                self._end(worker)
        for process in self._processes:
            if process.pid is not None:
                process.join(timeout=5)
                if process.is_alive():
                    process.kill()
                    process.join()


__all__ = ["BATCH", "Pool"]
