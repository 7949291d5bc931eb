"""``replay --workers N``: publish over N worker processes, every confirm still counted.

The parent reads, selects, rewrites and paces the records exactly as one worker does (the
:class:`~osreplay.replay.replayer.Replayer` loop), then hands each record to a worker
process instead of sending it. Each worker has its own oslo transport and
:class:`~osreplay.replay.sender.OsloSender` and sends as fast as it gets records; the
queues are bounded, so memory stays flat and ``--rate``/``--speed`` hold for the combined
stream.

Ordering: records that share a key (:func:`order_key`: the request id, else the resource
id) go through the same worker, in order; records without one go round-robin.

Accounting: every record handed out is numbered in the :class:`Ledger`; workers report
the numbers the broker confirmed. At the end the summary counts exactly the confirmed
records, and the stop is the first record *not known* to be confirmed: resuming at it
loses nothing (records after it that were confirmed are counted in ``Stop.ahead``; they
may be sent again).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from osreplay.model.notes import NoteLine
from osreplay.model.notification import Notification
from osreplay.replay.replayer import Replayer, ReplaySummary, Source, Stop, _Progress
from osreplay.replay.sender import NullSender
from osreplay.runtime import Terminated

#: What a worker says when it ends without confirming a record handed to it.
WORKER_LOST = "its replay worker ended before the broker confirmed it"


def order_key(note: Notification) -> str | None:
    """The key that keeps records in order: the request id, else the resource id."""
    ctxt = note.ctxt or {}
    for name in ("global_request_id", "request_id"):
        value = ctxt.get(name)
        if isinstance(value, str) and value:
            return value
    payload = note.payload
    if not isinstance(payload, dict):
        return None
    data = payload.get("nova_object.data")
    candidates = (
        data.get("uuid") if isinstance(data, dict) else None,
        payload.get("instance_id"),
        target.get("id") if isinstance(target := payload.get("target"), dict) else None,
    )
    for value in candidates:
        if isinstance(value, str) and value:
            return value
    return None


class Assigner:
    """Picks a worker for each record: by the key's hash, else round-robin."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._next = 0

    def __call__(self, note: Notification) -> int:
        key = order_key(note)
        if key is not None:
            # surrogatepass: a request id may hold an escaped lone surrogate (valid JSON).
            return zlib.crc32(key.encode("utf-8", "surrogatepass")) % self.workers
        index = self._next
        self._next = (index + 1) % self.workers
        return index


@dataclass(frozen=True, slots=True)
class Where:
    """Where a record handed to a worker came from (what a Stop needs)."""

    source: str
    lineno: int
    pass_no: int
    position: int


@dataclass
class Ledger:
    """Records handed out, by number; which the broker confirmed; which failed."""

    handed: int = 0
    confirmed: int = 0
    open: dict[int, Where] = field(default_factory=dict)
    failures: dict[int, str] = field(default_factory=dict)
    #: Failures that are the broker refusing the configuration (no resuming helps).
    refused: set[int] = field(default_factory=set)
    #: When the last confirmation arrived (the pool's clock, ``time.perf_counter``).
    confirmed_at: float | None = None

    def hand(self, where: Where) -> int:
        seq = self.handed
        self.open[seq] = where
        self.handed += 1
        return seq

    def confirm(self, seqs: list[int]) -> None:
        for seq in seqs:
            if self.open.pop(seq, None) is not None:
                self.confirmed += 1

    def fail(self, seq: int, reason: str, *, refused: bool = False) -> None:
        self.failures[seq] = reason
        if refused:
            self.refused.add(seq)

    def first_open(self) -> tuple[int, Where] | None:
        """The first record handed out and not confirmed (None when all were)."""
        if not self.open:
            return None
        seq = min(self.open)
        return seq, self.open[seq]

    def ahead(self, seq: int) -> int:
        """Records handed out after ``seq`` that were confirmed."""
        return (self.handed - 1 - seq) - sum(1 for other in self.open if other > seq)


def settle(
    summary: ReplaySummary, ledger: Ledger, *, interrupted: str | None = None
) -> ReplaySummary:
    """Make ``summary`` say exactly what the workers confirmed and where to resume.

    ``interrupted``: ``interrupted`` or ``terminated`` when the drain itself was stopped.
    """
    summary.sent = ledger.confirmed
    summary.failed = len(ledger.failures)
    first = ledger.first_open()
    if first is None:
        return summary  # all confirmed: the replayer's own stop (if any) holds
    seq, where = first
    stop = summary.stop
    if stop is not None and stop.kind == "interrupted":
        interrupted = stop.reason
    if interrupted is not None and not ledger.failures:
        kind, reason = "interrupted", interrupted
    else:
        failed = seq if seq in ledger.failures else min(ledger.failures, default=None)
        kind = "refused" if failed in ledger.refused else "failed"
        reason = WORKER_LOST if failed is None else ledger.failures[failed]
    summary.stop = Stop(
        kind, where.source, where.lineno, reason, where.pass_no, where.position,
        ahead=ledger.ahead(seq),
    )  # fmt: skip
    return summary


class Dispatch:
    """What :class:`PooledReplayer` needs of the worker pool (osreplay.replay.pool)."""

    ledger: Ledger

    def submit(self, worker: int, seq: int, note: Notification, exchange: str, topic: str) -> str:
        """Hand one record to a worker; an error message when that cannot be done."""
        raise NotImplementedError

    def flush(self) -> None:
        """Hand over at once the records gathered for the workers (before a wait)."""

    def finish(self, *, now: bool) -> None:
        """Stop the workers: ``now`` drops what they have not sent, else they drain."""
        raise NotImplementedError


class PooledReplayer(Replayer):
    """The replayer loop, handing records to workers; the summary settled at the end."""

    def __init__(self, pool: Dispatch, workers: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(NullSender(), *args, **kwargs)
        self.pool = pool
        self.assign = Assigner(workers)
        sleep = self.pacer.sleep

        def flush_then_sleep(seconds: float) -> None:
            pool.flush()  # what is due now goes out now, not after the wait
            sleep(seconds)

        self.pacer.sleep = flush_then_sleep

    def run(self, source: Source) -> ReplaySummary:
        summary = super().run(source)
        stop = summary.stop
        handed_out = self.pacer.clock()
        interrupted: str | None = None
        try:
            self.pool.finish(now=stop is not None and stop.kind == "interrupted")
        except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM while the workers drain
            interrupted = "terminated" if isinstance(exc, Terminated) else "interrupted"
            self.pool.finish(now=True)
        # Up to the last confirmation: closing the workers' connections is not sending.
        last = self.pool.ledger.confirmed_at
        summary.elapsed += max(0.0, (self.pacer.clock() if last is None else last) - handed_out)
        return settle(summary, self.pool.ledger, interrupted=interrupted)

    def _send(
        self, entry: NoteLine, note: Notification, exchange: str, topic: str, run: _Progress
    ) -> Stop | None:
        ledger = self.pool.ledger
        if ledger.failures:
            seq = min(ledger.failures)
            kind = "refused" if seq in ledger.refused else "failed"
            return Stop(kind, entry.path, entry.lineno, ledger.failures[seq])
        seq = ledger.hand(Where(entry.path, entry.lineno, run.pass_no, run.position))
        error = self.pool.submit(self.assign(note), seq, note, exchange, topic)
        if error:
            return Stop("failed", entry.path, entry.lineno, error, run.pass_no, run.position)
        return None


__all__ = [
    "Assigner",
    "Dispatch",
    "Ledger",
    "PooledReplayer",
    "Where",
    "order_key",
    "settle",
]
