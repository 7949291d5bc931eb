"""The tap: record notifications from the bus without disturbing the real consumers.

How it stays out of the way
    Every (exchange, topic) gets its own batch listener on its own *pool* queue, so the
    broker gives osreplay a copy of each message and Ceilometer (which listens without a
    pool on ``notifications.info``) still gets every one. oslo tells an endpoint neither
    the exchange nor the topic; one listener per queue is how a record knows both. The
    queue is ``<pool>.<exchange>`` for a single topic and ``<pool>.<exchange>.<topic>``
    when several are recorded.

How it stays lossless
    Endpoint threads turn messages into complete NDJSON lines and hand them to one writer
    thread (:class:`LineSink`), which writes and flushes (and with ``fsync`` syncs) a group
    of batches at once and only then releases the endpoints. An endpoint returns
    ``NotificationResult.REQUEUE`` whenever its lines are not all on file (a write error,
    the ``--count`` limit reached mid-batch); the listeners are built with
    ``allow_requeue=True`` so that oslo really requeues instead of acking. Redelivered
    messages (after a broker restart, or a resume after SIGKILL) are recognised by
    ``message_id`` and acked without being written twice.

How it cleans up
    oslo never deletes a pool queue. :class:`QueueAdmin` (kombu, on its own connection)
    inspects, purges and deletes the tap queues: before starting, a default pool whose
    queues have no consumer was left by a dead recorder and is reused (purged unless
    resuming with ``--append``), one held by a live recorder makes osreplay pick the next
    free name; on stop the queues are deleted unless ``keep_queue``.

Nothing here prints: progress, reconnects and the summary reach the caller through
``on_event`` and :class:`RecordSummary`.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import socket
import threading
import time
import zlib
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import oslo_messaging

from osreplay.bus.transport import (
    BusSettings,
    amqp_urls,
    check_connection,
    get_transport,
    mask_secrets,
    oslo_reason,
    ssl_options,
)
from osreplay.errors import ConnectError, InputError, OsreplayError, UsageError
from osreplay.model.filters import Filters
from osreplay.model.ndjson import RecordingWriter, read_lines
from osreplay.model.notification import Notification, unreadable_reason, utcnow_iso
from osreplay.secrets.rules import Redactor

LOG = logging.getLogger(__name__)

DEFAULT_EXCHANGES = (
    "openstack",
    # The exchanges Ceilometer listens on.
    "nova",
    "glance",
    "neutron",
    "cinder",
    "heat",
    "keystone",
    "trove",
    "zaqar",
    "swift",
    "ceilometer",
    "magnum",
    "dns",
    "ironic",
    "aodh",
)
DEFAULT_BATCH_SIZE = 500
#: ``--queue-type``: RabbitMQ's classic queues, or quorum queues (durable, replicated).
QUEUE_TYPES = ("classic", "quorum")
DEFAULT_BATCH_TIMEOUT = 0.2
# Redelivered messages are the unacknowledged ones, at most the prefetch of each listener:
# remembering this many recent message_ids catches every duplicate with room to spare.
DEDUP_WINDOW = 100_000
# oslo adds these to every received context; they were not sent.
_RECEIVED_CTXT_KEYS = ("msg_id", "reply_q", "client_timeout")
# The rabbit driver's logger: oslo.log renames oslo_messaging's loggers when it is
# installed (it comes with oslo.messaging), so listen under both names.
_RABBIT_LOGGERS = ("oslo.messaging._drivers.impl_rabbit", "oslo_messaging._drivers.impl_rabbit")
_MAX_POOL_CANDIDATES = 10

EventCallback = Callable[[str, str], None]


def default_pool() -> str:
    """``osreplay-<host>``: stable per host, so the next run finds what a dead one left."""
    return f"osreplay-{socket.gethostname()}"


def queue_names(
    pool: str, exchanges: Sequence[str], topics: Sequence[str]
) -> dict[tuple[str, str], str]:
    """The tap queue of each (exchange, topic)."""
    several = len(topics) > 1
    return {
        (exchange, topic): f"{pool}.{exchange}.{topic}" if several else f"{pool}.{exchange}"
        for exchange in exchanges
        for topic in topics
    }


# --- statistics ----------------------------------------------------------------------


@dataclass
class RecordStats:
    """Running counts, updated by the writer thread and the endpoints."""

    written: int = 0
    filtered: int = 0
    duplicates: int = 0
    requeued: int = 0
    unencodable: int = 0
    not_notifications: int = 0
    event_types: Counter[str] = field(default_factory=Counter)
    exchanges: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    def top_event_types(self, n: int = 3) -> list[tuple[str, int]]:
        return self.event_types.most_common(n)


@dataclass
class RecordSummary:
    """What a recording did, for the caller to render."""

    written: int
    filtered: int
    duplicates: int
    requeued: int
    unencodable: int
    elapsed: float
    output: str
    pool: str
    stopped_by: str
    top_event_types: list[tuple[str, int]]
    exchanges: dict[str, int]
    deleted_queues: list[str]
    kept_queues: list[str]
    error: OsreplayError | None = None
    not_notifications: int = 0
    gaps: list[Gap] = field(default_factory=list)
    durable: bool = False

    @property
    def rate(self) -> float:
        return self.written / self.elapsed if self.elapsed > 0 else 0.0


# --- the single writer -----------------------------------------------------------------


#: What identifies one delivery: oslo publishes a message once per topic with one
#: message_id, so the same id heard on two tap queues is two records, and only the same
#: id again on the same exchange and topic is a redelivery.
DeliveryKey = tuple[str, "str | None", "str | None"]


@dataclass(slots=True)
class _Entry:
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


class _Submission:
    __slots__ = ("entries", "done", "complete", "error")

    def __init__(self, entries: list[_Entry]) -> None:
        self.entries = entries
        self.done = threading.Event()
        self.complete = False
        self.error: OsreplayError | None = None


class WriterError(OsreplayError):
    """The writer failed in a way no file error explains; the run stops, queues kept."""


def _unexpected(name: str, exc: BaseException) -> str:
    return (
        f"cannot write {name}: unexpected {type(exc).__name__}: "
        f"{_safe(exc) or 'no details'}; recording stopped"
    )


class WriteFailed(Exception):
    """The writer could not put a batch on file; its messages must be requeued."""


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


class LineSink:
    """One writer thread: group-commits submitted lines, then releases the submitters.

    ``submit`` blocks until its lines are written and flushed; it returns True when all of
    them are on file (or were duplicates), False when the count limit cut the batch
    short, and raises :class:`WriteFailed` when the file refused them.
    """

    def __init__(
        self,
        writer: RecordingWriter,
        stats: RecordStats,
        *,
        limit: int | None = None,
        seen: DedupWindow | None = None,
        on_limit: Callable[[], None] | None = None,
        on_error: Callable[[OsreplayError], None] | None = None,
    ) -> None:
        self._writer = writer
        self._stats = stats
        self._limit = limit
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
        return self._limit is not None and self._stats.written >= self._limit

    def submit(self, entries: list[_Entry]) -> bool:
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
            while True:
                with self._cond:
                    while not self._pending and not self._closed:
                        self._cond.wait()
                    group, self._pending = self._pending, []
                    if not group and self._closed:
                        return
                self._commit(group)
                group = []
        except BaseException as exc:  # noqa: BLE001 - never leave the endpoints waiting
            LOG.debug("writer failed", exc_info=True)
            self._fail(group, WriterError(_unexpected(self._writer.name, exc)))

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
        stats = self._stats
        if self.error is not None:
            for submission in group:
                submission.error = self.error
                submission.done.set()
            return
        lines: list[str] = []
        accepted: list[_Entry] = []
        batch_keys: set[DeliveryKey] = set()
        room = None if self._limit is None else self._limit - stats.written
        duplicates = 0
        for submission in group:
            complete = True
            for entry in submission.entries:
                key = entry.key
                if key is not None and (key in self._seen or key in batch_keys):
                    duplicates += 1
                    continue
                if room is not None and len(lines) >= room:
                    complete = False
                    break
                lines.append(entry.line)
                accepted.append(entry)
                if key is not None:
                    batch_keys.add(key)
            submission.complete = complete
        mark = self._writer.mark() if lines and hasattr(self._writer, "mark") else None
        try:
            if lines:
                self._writer.write(lines)
                self._writer.flush()
        except OsreplayError as exc:
            # The group is requeued: none of its lines may stay in the file, or the summary
            # would undercount it and a resume into another file would write them twice.
            if mark is not None and not self._writer.rollback(mark):
                LOG.warning("could not cut %s back after a failed write", self._writer.name)
            self._fail(group, exc)
            return
        except Exception as exc:  # noqa: BLE001 - any other failure ends the run cleanly
            LOG.debug("writer failed", exc_info=True)
            self._fail(group, WriterError(_unexpected(self._writer.name, exc)))
            return
        for entry in accepted:
            key = entry.key
            if key is not None:
                self._seen.add(key)
            stats.event_types[entry.event_type] += 1
            stats.exchanges[entry.exchange] += 1
        stats.written += len(lines)
        stats.duplicates += duplicates
        for submission in group:
            submission.done.set()
        if self.limit_reached and self._on_limit is not None:
            self._on_limit()


# --- queue lifecycle ---------------------------------------------------------------------


@dataclass(frozen=True)
class QueueState:
    messages: int
    consumers: int


class QueueAdmin:
    """Inspect, purge and delete queues on a connection of its own (kombu).

    oslo has no API for any of this. A passive declare of a missing queue closes the
    channel with 404, so every check runs on a fresh channel.
    """

    def __init__(self, url: str, *, connect_timeout: float = 15.0, ssl: Any = False) -> None:
        import kombu

        self._connect_timeout = connect_timeout
        self._connection = kombu.Connection(url, connect_timeout=connect_timeout, ssl=ssl)

    @classmethod
    def for_settings(cls, settings: BusSettings, *, connect_timeout: float = 15.0) -> QueueAdmin:
        if settings.is_memory:
            return cls("memory://", connect_timeout=connect_timeout)
        return cls(
            ";".join(amqp_urls(settings)),
            connect_timeout=connect_timeout,
            ssl=ssl_options(settings),  # the same TLS settings as oslo's own connections
        )

    def _channel(self) -> Any:
        # A few tries: at exit the broker may just be coming back from a restart.
        self._connection.ensure_connection(
            max_retries=3, interval_start=1, interval_step=1, timeout=self._connect_timeout
        )
        return self._connection.channel()

    def inspect(self, name: str) -> QueueState | None:
        """The queue's message and consumer counts, or None when it does not exist."""
        channel = self._channel()
        try:
            _, messages, consumers = channel.queue_declare(queue=name, passive=True)
            return QueueState(messages, consumers)
        except Exception as exc:
            if _is_not_found(exc):
                return None
            raise
        finally:
            _close_quietly(channel)

    def purge(self, name: str) -> None:
        channel = self._channel()
        try:
            channel.queue_purge(queue=name)
        except Exception as exc:
            if not _is_not_found(exc):
                raise
        finally:
            _close_quietly(channel)

    def delete(self, name: str) -> None:
        channel = self._channel()
        try:
            channel.queue_delete(queue=name)
        except Exception as exc:
            if not _is_not_found(exc):
                raise
        finally:
            _close_quietly(channel)

    def transient_exchange(self, name: str) -> bool:
        """True when exchange ``name`` exists and is not durable (a durable tap cannot bind
        to it without oslo falling back to a transient queue)."""
        channel = self._channel()
        try:
            channel.exchange_declare(exchange=name, type="topic", passive=True)
        except Exception as exc:
            if _is_not_found(exc):
                return False  # oslo declares it durable, as the services' config will
            raise
        finally:
            _close_quietly(channel)
        channel = self._channel()
        try:
            channel.exchange_declare(exchange=name, type="topic", durable=True)
            return False
        except Exception as exc:
            if "inequivalent arg 'durable'" in str(exc):
                return True
            raise
        finally:
            _close_quietly(channel)

    def close(self) -> None:
        self._connection.release()


def _is_not_found(exc: BaseException) -> bool:
    code = getattr(exc, "code", None) or getattr(exc, "reply_code", None)
    return code == 404 or "NOT_FOUND" in str(exc) or "no queue" in str(exc).lower()


def _close_quietly(channel: Any) -> None:
    try:
        channel.close()
    except Exception:  # noqa: BLE001 - a channel closed by a 404 may refuse to close again
        pass


@dataclass
class PoolPlan:
    pool: str
    queues: dict[tuple[str, str], str]
    resumed: list[str]
    purged: list[str]


def plan_pool(
    admin: QueueAdmin,
    exchanges: Sequence[str],
    topics: Sequence[str],
    *,
    pool: str | None,
    append: bool,
) -> PoolPlan:
    """Choose the pool and deal with what a previous recorder left in it.

    A named pool (``--pool``) is resumed as it is; if a live recorder consumes from it the
    two would split the messages, so that is an error. The default pool is reused when no
    recorder consumes from it (its leftovers purged, unless ``append`` resumes them);
    otherwise the next name (``-2``, ``-3``, …) is tried.
    """
    if pool is not None:
        queues = queue_names(pool, exchanges, topics)
        states = {name: admin.inspect(name) for name in queues.values()}
        busy = [name for name, state in states.items() if state and state.consumers]
        if busy:
            raise UsageError(
                f"pool {pool} is in use: queue {busy[0]} has "
                f"{states[busy[0]].consumers} consumer(s) (another osreplay record?); "  # type: ignore[union-attr]
                "choose another --pool"
            )
        return PoolPlan(pool, queues, [n for n, s in states.items() if s], [])
    base = default_pool()
    for index in range(1, _MAX_POOL_CANDIDATES + 1):
        candidate = base if index == 1 else f"{base}-{index}"
        queues = queue_names(candidate, exchanges, topics)
        states = {name: admin.inspect(name) for name in queues.values()}
        if any(state and state.consumers for state in states.values()):
            continue
        leftovers = [name for name, state in states.items() if state]
        if append:
            return PoolPlan(candidate, queues, leftovers, [])
        for name in leftovers:
            admin.purge(name)
        return PoolPlan(candidate, queues, leftovers, leftovers)
    raise UsageError(
        f"{_MAX_POOL_CANDIDATES} recorders already run on this host ({base} … "
        f"{base}-{_MAX_POOL_CANDIDATES}); choose a --pool"
    )


# --- resuming a file ---------------------------------------------------------------------


def prepare_append(path: str, *, window: int = DEDUP_WINDOW) -> list[DeliveryKey]:
    """Make ``path`` safe to append to and return its last ``window`` deliveries.

    A delivery is ``(message_id, exchange, topic)`` as the records say (see
    :data:`DeliveryKey`): the copy of a message on another topic is not a duplicate.

    A recorder killed in the middle of a write leaves a partial last line (its message was
    never acknowledged, so it will come again): cut it off, so the next line starts clean.
    A ``.gz`` file cut short is rewritten with its complete lines.
    """
    if path == "-" or not os.path.exists(path):
        return []
    if path.endswith(".gz"):
        _repair_gzip(path)
    else:
        _repair_plain(path)
    ids: OrderedDict[DeliveryKey, None] = OrderedDict()
    for line in read_lines(path):
        obj = line.obj
        message_id = obj.get("message_id") if obj is not None else None
        if isinstance(message_id, str):
            exchange, topic = obj.get("exchange"), obj.get("topic")  # type: ignore[union-attr]
            key = (
                message_id,
                exchange if isinstance(exchange, str) else None,
                topic if isinstance(topic, str) else None,
            )
            ids[key] = None
            if len(ids) > window:
                ids.popitem(last=False)
    return list(ids)


def _repair_plain(path: str) -> None:
    try:
        with open(path, "rb+") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                return
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                return
            # Find the last newline, reading backwards in blocks.
            end = size
            cut = 0
            while end > 0:
                start = max(0, end - 65536)
                handle.seek(start)
                block = handle.read(end - start)
                found = block.rfind(b"\n")
                if found >= 0:
                    cut = start + found + 1
                    break
                end = start
            handle.truncate(cut)
    except OSError as exc:
        raise InputError(f"cannot append to {path}: {exc.strerror or exc}") from None


def _repair_gzip(path: str) -> None:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise InputError(f"cannot append to {path}: {exc.strerror or exc}") from None
    text = bytearray()
    rest = data
    intact = True
    while rest:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            text += decompressor.decompress(rest)
        except zlib.error:
            intact = False
            break
        if not decompressor.eof:
            intact = False
            break
        rest = decompressor.unused_data
    if intact and (not text or text.endswith(b"\n")):
        return
    keep = bytes(text[: text.rfind(b"\n") + 1])
    tmp = f"{path}.osreplay-repair"
    with gzip.open(tmp, "wb") as out:
        out.write(keep)
    os.replace(tmp, path)


# --- reconnect notices -------------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    """A time the tap was away from the broker (wall clock, UTC)."""

    lost_at: datetime
    back_at: datetime

    @property
    def seconds(self) -> float:
        return (self.back_at - self.lost_at).total_seconds()

    def window(self) -> str:
        return f"{_hms(self.lost_at)}–{_hms(self.back_at)} UTC"


def _hms(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S")


def gap_notice(gap: Gap, *, durable: bool) -> str:
    """What a reconnect means for the recording, with the window and how to avoid a gap."""
    if durable:
        return (
            f"  the tap was away {gap.seconds:.1f} s ({gap.window()}); its queues are durable, "
            "so what was published meanwhile waited in them (unless the broker lost it)"
        )
    return (
        f"  messages published while the tap was away ({gap.window()}, {gap.seconds:.1f} s) may "
        "be missing: a broker restart drops non-durable tap queues; record with --durable "
        "to keep them"
    )


class _ReconnectWatcher(logging.Handler):
    """Turns oslo's reconnect log records into one masked line each way, and keeps the gaps."""

    def __init__(
        self,
        masked_url: str,
        on_event: EventCallback,
        *,
        durable: bool = False,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        super().__init__(level=logging.INFO)
        self._now = now
        self._masked_url = masked_url
        self._on_event = on_event
        self._durable = durable
        self._lost: set[str] = set()
        self._lost_at: datetime | None = None
        self.gaps: list[Gap] = []
        self._lock = threading.Lock()
        self._loggers = [logging.getLogger(name) for name in _RABBIT_LOGGERS]
        self._saved: dict[str, tuple[int, bool]] = {}

    def attach(self) -> None:
        for logger in self._loggers:
            if logger.getEffectiveLevel() > logging.INFO:
                # The user did not ask for oslo's logs: hear them, but do not show them.
                self._saved[logger.name] = (logger.level, logger.propagate)
                logger.setLevel(logging.INFO)
                logger.propagate = False
            logger.addHandler(self)

    def detach(self) -> None:
        for logger in self._loggers:
            logger.removeHandler(self)
            saved = self._saved.pop(logger.name, None)
            if saved is not None:
                logger.setLevel(saved[0])
                logger.propagate = saved[1]

    def emit(self, record: logging.LogRecord) -> None:
        message = record.msg if isinstance(record.msg, str) else ""
        args = record.args if isinstance(record.args, dict) else {}
        connection = str(args.get("connection_id", "?"))
        if "is unreachable" in message or "closed the connection" in message:
            with self._lock:
                first = not self._lost
                self._lost.add(connection)
                if first:
                    self._lost_at = self._now()
            if first:
                reason = mask_secrets(str(args.get("err_str", ""))) or "connection lost"
                self._on_event(
                    "reconnecting",
                    f"Connection to {self._masked_url} lost ({reason}); reconnecting",
                )
        elif "Reconnected to AMQP server" in message:
            with self._lock:
                was_lost = bool(self._lost)
                self._lost.discard(connection)
                back = was_lost and not self._lost
                gap = None
                if back and self._lost_at is not None:
                    gap = Gap(self._lost_at, self._now())
                    self.gaps.append(gap)
                    self._lost_at = None
            if back:
                notice = f"Reconnected to {self._masked_url}"
                if gap is not None:
                    notice += "\n" + gap_notice(gap, durable=self._durable)
                self._on_event("reconnected", notice)


# --- one message, one line ---------------------------------------------------------------


def build_entry(
    message: dict[str, Any],
    *,
    priority: str,
    exchange: str,
    topic: str | None,
    recorded_at: str,
    redactor: Redactor,
) -> _Entry:
    """One message as oslo's batch listener hands it, as a complete, redacted NDJSON line.

    The caller has checked it is a notification (:func:`unreadable_reason`). Raises
    TypeError or ValueError when the payload cannot be JSON (NaN, Infinity).
    """
    metadata = message.get("metadata") or {}
    ctxt = message.get("ctxt")
    if isinstance(ctxt, dict):
        ctxt = {k: v for k, v in ctxt.items() if not (k in _RECEIVED_CTXT_KEYS and v is None)}
        ctxt = redactor.ctxt(ctxt) if ctxt else None
    else:
        ctxt = None
    note = Notification(
        event_type=message["event_type"],
        publisher_id=message.get("publisher_id"),
        priority=priority,
        payload=message.get("payload"),
        message_id=metadata.get("message_id"),
        timestamp=metadata.get("timestamp"),
        ctxt=ctxt,
        exchange=exchange,
        topic=topic,
        recorded_at=recorded_at,
    )
    line = note.to_line()
    if redactor.enabled:
        # Walking a payload is the costliest step; its text says when it is needed. The
        # context (already masked) comes after the payload in the line: leave it out of
        # the search, or its "auth_token" would send every payload for a walk.
        cut = line.rfind(', "ctxt": {') if ctxt is not None else -1
        if redactor.may_hold_payload_secret(line if cut < 0 else line[:cut]):
            masked = redactor.payload(note.payload)
            if masked is not note.payload:
                note.payload = masked
                line = note.to_line()
    return _Entry(note.message_id, line, note.event_type, exchange, topic)


# --- the recorder ------------------------------------------------------------------------


class _TapEndpoint:
    """The batch endpoint of one (exchange, topic); one method per priority."""

    def __init__(self, recorder: Recorder, exchange: str, topic: str) -> None:
        self._recorder = recorder
        self.exchange = exchange
        self.topic = topic

    def audit(self, messages: list[dict[str, Any]]) -> str | None:
        return self._recorder._handle(self, "AUDIT", messages)

    def debug(self, messages: list[dict[str, Any]]) -> str | None:
        return self._recorder._handle(self, "DEBUG", messages)

    def info(self, messages: list[dict[str, Any]]) -> str | None:
        return self._recorder._handle(self, "INFO", messages)

    def warn(self, messages: list[dict[str, Any]]) -> str | None:
        return self._recorder._handle(self, "WARN", messages)

    def error(self, messages: list[dict[str, Any]]) -> str | None:
        return self._recorder._handle(self, "ERROR", messages)

    def critical(self, messages: list[dict[str, Any]]) -> str | None:
        return self._recorder._handle(self, "CRITICAL", messages)

    def sample(self, messages: list[dict[str, Any]]) -> str | None:
        return self._recorder._handle(self, "SAMPLE", messages)


class Recorder:
    """Records notifications from ``exchanges`` × ``topics`` into ``writer``.

    ``start()`` binds (raises ConnectError or UsageError), ``run_until()`` waits for a stop
    condition, ``stop()`` drains, acks, cleans up and returns a :class:`RecordSummary`.
    """

    def __init__(
        self,
        settings: BusSettings,
        *,
        writer: RecordingWriter,
        exchanges: Sequence[str] = DEFAULT_EXCHANGES,
        topics: Sequence[str] | None = None,
        pool: str | None = None,
        append: bool = False,
        filters: Filters | None = None,
        redactor: Redactor | None = None,
        keep_queue: bool = False,
        count: int | None = None,
        seen_ids: Iterable[str] = (),
        batch_size: int = DEFAULT_BATCH_SIZE,
        batch_timeout: float = DEFAULT_BATCH_TIMEOUT,
        prefetch: int | None = None,
        workers: int = 4,
        connect_timeout: float = 15.0,
        durable: bool = False,
        queue_type: str = "classic",
        on_event: EventCallback | None = None,
    ) -> None:
        if count is not None and count < 1:
            raise UsageError("--count must be at least 1")
        if batch_size < 1:
            raise UsageError("--batch-size must be at least 1")
        self.settings = settings
        self.writer = writer
        self.exchanges = list(dict.fromkeys(exchanges))
        self.topics = list(dict.fromkeys(topics or settings.topics))
        self.requested_pool = pool
        self.append = append
        self.filters = filters or Filters()
        self.redactor = redactor or Redactor()
        self.keep_queue = keep_queue
        self.count = count
        self.batch_size = batch_size
        self.batch_timeout = batch_timeout
        # Bounded, so a huge backlog is not pushed into memory; twice the batch so the next
        # batch arrives while the last one is written.
        self.prefetch = prefetch or 2 * batch_size
        self.workers = workers
        self.connect_timeout = connect_timeout
        if queue_type not in QUEUE_TYPES:
            raise UsageError(f"--queue-type {queue_type}: choose {' or '.join(QUEUE_TYPES)}")
        # Quorum queues are always durable (RabbitMQ refuses a transient one).
        self.durable = durable or queue_type == "quorum"
        self.queue_type = queue_type
        self.on_event = on_event or (lambda kind, message: None)
        self.stats = RecordStats()
        self.stop_event = threading.Event()
        self.plan: PoolPlan | None = None
        self._stats_lock = threading.Lock()
        self._sink = LineSink(
            writer,
            self.stats,
            limit=count,
            seen=DedupWindow(initial=seen_ids),
            on_limit=self.stop_event.set,
            on_error=lambda exc: self.stop_event.set(),
        )
        self._listeners: list[Any] = []
        self._transport: Any = None
        self._admin: QueueAdmin | None = None
        self._watcher = _ReconnectWatcher(settings.masked_url, self.on_event, durable=self.durable)
        self._stopped_by = "stop"
        self._summary: RecordSummary | None = None

    @property
    def pool(self) -> str:
        return self.plan.pool if self.plan else (self.requested_pool or default_pool())

    @property
    def queues(self) -> list[str]:
        return list(self.plan.queues.values()) if self.plan else []

    # -- start ----------------------------------------------------------------------------

    def start(self) -> None:
        """Connect, choose the pool, declare the tap queues and start listening."""
        check_connection(self.settings, timeout=self.connect_timeout)
        try:
            self._admin = QueueAdmin.for_settings(
                self.settings, connect_timeout=self.connect_timeout
            )
            if self.durable and not self.settings.is_memory:
                self._check_durable_exchanges(self._admin)
            self.plan = plan_pool(
                self._admin,
                self.exchanges,
                self.topics,
                pool=self.requested_pool,
                append=self.append,
            )
        except OsreplayError:
            self._close_admin()
            self._sink.close()
            raise
        except Exception as exc:
            self._close_admin()
            self._sink.close()
            raise ConnectError(
                f"cannot prepare the tap queues on {self.settings.masked_url}: "
                f"{mask_secrets(str(exc)) or type(exc).__name__}"
            ) from None
        # Not kept open while recording: an idle connection may be gone by the end.
        self._close_admin()
        conf = self.settings.conf
        conf.set_override("rabbit_qos_prefetch_count", self.prefetch, group="oslo_messaging_rabbit")
        if self.durable:
            conf.set_override("amqp_durable_queues", True, group="oslo_messaging_rabbit")
        if self.queue_type == "quorum":
            conf.set_override("rabbit_quorum_queue", True, group="oslo_messaging_rabbit")
        self._watcher.attach()
        try:
            self._transport = get_transport(self.settings)
            for (exchange, topic), queue in self.plan.queues.items():
                listener = oslo_messaging.get_batch_notification_listener(
                    self._transport,
                    [oslo_messaging.Target(exchange=exchange, topic=topic)],
                    [_TapEndpoint(self, exchange, topic)],
                    executor="threading",
                    allow_requeue=True,
                    pool=queue,
                    batch_size=self.batch_size,
                    batch_timeout=self.batch_timeout,
                )
                listener.start(override_pool_size=self.workers)
                self._listeners.append(listener)
        except OsreplayError:
            self._abort()
            raise
        except Exception as exc:
            self._abort()
            reason = oslo_reason(exc)
            if "inequivalent arg 'durable'" in reason:
                reason += (
                    " (the services declared their exchanges durable: record with their"
                    " --config-file, or add ?amqp_durable_queues=true to the URL)"
                )
            raise ConnectError(f"cannot listen on {self.settings.masked_url}: {reason}") from None
        self.stats.started = time.monotonic()

    def _check_durable_exchanges(self, admin: QueueAdmin) -> None:
        transient = [name for name in self.exchanges if admin.transient_exchange(name)]
        if transient:
            raise UsageError(
                f"--durable: exchange {', '.join(transient)} is not durable (the services run "
                "with amqp_durable_queues = false), so a broker restart drops it with every "
                "binding and no tap queue can outlive it; record without --durable"
            )

    def _abort(self) -> None:
        self._shutdown_listeners()
        if not self.keep_queue:
            # Only what this run created: a resumed queue still holds someone's backlog.
            self._delete_queues(only_new=True)
        self._cleanup_transport()
        self._watcher.detach()
        self._sink.close()

    # -- the endpoint ------------------------------------------------------------------------

    def _handle(
        self, endpoint: _TapEndpoint, priority: str, messages: list[dict[str, Any]]
    ) -> str | None:
        filters = self.filters
        recorded_at = utcnow_iso()
        entries: list[_Entry] = []
        filtered = skipped = not_notifications = 0
        for message in messages:
            event_type = message.get("event_type")
            publisher_id = message.get("publisher_id")
            if filters.active and not filters.match(event_type, publisher_id, priority):
                filtered += 1
                continue
            metadata = message.get("metadata") or {}
            message_id = metadata.get("message_id")
            reason = unreadable_reason(
                {
                    "event_type": event_type,
                    "publisher_id": publisher_id,
                    "priority": priority,
                    "payload": message.get("payload"),
                }
            )
            if reason is not None:
                # Never a record that replay would refuse (event_type null, …).
                not_notifications += 1
                self.on_event(
                    "skipped", f"skipped message {_safe(message_id)}: not a notification: {reason}"
                )
                continue
            try:
                entry = build_entry(
                    message,
                    priority=priority,
                    exchange=endpoint.exchange,
                    topic=endpoint.topic,
                    recorded_at=recorded_at,
                    redactor=self.redactor,
                )
            except (TypeError, ValueError) as exc:
                # NaN or Infinity in a payload: not JSON, so it cannot be written as a record.
                skipped += 1
                self.on_event("skipped", f"skipped message {_safe(message_id)}: {_safe(exc)}")
                continue
            except Exception as exc:  # noqa: BLE001 - one message never stops a recording
                LOG.debug("cannot build a record", exc_info=True)
                skipped += 1
                self.on_event(
                    "skipped",
                    f"skipped message {_safe(message_id)}: cannot be written as a record "
                    f"({type(exc).__name__}: {_safe(exc)})",
                )
                continue
            entries.append(entry)
        if filtered or skipped or not_notifications:
            with self._stats_lock:
                self.stats.filtered += filtered
                self.stats.unencodable += skipped
                self.stats.not_notifications += not_notifications
        if not entries:
            return None
        try:
            complete = self._sink.submit(entries)
        except WriteFailed:
            complete = False
        if complete:
            return None
        with self._stats_lock:
            self.stats.requeued += len(messages)
        return oslo_messaging.NotificationResult.REQUEUE

    # -- run ---------------------------------------------------------------------------------

    def run_until(
        self,
        stop_event: threading.Event | None = None,
        *,
        duration: float | None = None,
        tick: Callable[[RecordStats], None] | None = None,
        tick_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> str:
        """Wait until the count is reached, ``duration`` passes, or ``stop_event`` is set.

        Returns why it stopped: ``count``, ``duration``, ``error`` or ``signal`` (``stop()``
        reports ``output closed`` instead of ``error`` when the reader of stdout left).
        """
        deadline = None if duration is None else clock() + duration
        external = stop_event or threading.Event()
        next_tick = clock() + tick_interval
        while True:
            if self._sink.error is not None:
                self._stopped_by = "error"
                break
            if self._sink.limit_reached:
                self._stopped_by = "count"
                break
            if external.is_set():
                self._stopped_by = "signal"
                break
            now = clock()
            if deadline is not None and now >= deadline:
                self._stopped_by = "duration"
                break
            if tick is not None and now >= next_tick:
                tick(self.stats)
                next_tick = now + tick_interval
            # Short waits: the caller's event may be set from a signal handler.
            self.stop_event.wait(0.05)
        return self._stopped_by

    # -- stop --------------------------------------------------------------------------------

    def stop(self) -> RecordSummary:
        """Stop listening, write and ack what is in hand, delete the tap queues."""
        if self._summary is not None:
            return self._summary
        self._shutdown_listeners()
        self._sink.close()
        error = self._sink.error
        if error is not None and _reader_left(self.writer, error):
            # `osreplay record | head`: the reader is gone; a stop, not a failure.
            error = None
            self._stopped_by = "output closed"
        kept: list[str] = []
        deleted: list[str] = []
        if self.keep_queue or error is not None:
            kept = self.queues
        else:
            deleted = self._delete_queues()
        self._cleanup_transport()
        self._watcher.detach()
        elapsed = time.monotonic() - self.stats.started
        self._summary = RecordSummary(
            written=self.stats.written,
            filtered=self.stats.filtered,
            duplicates=self.stats.duplicates,
            requeued=self.stats.requeued,
            unencodable=self.stats.unencodable,
            not_notifications=self.stats.not_notifications,
            gaps=list(self._watcher.gaps),
            durable=self.durable,
            elapsed=elapsed,
            output=self.writer.name,
            pool=self.pool,
            stopped_by=self._stopped_by,
            top_event_types=self.stats.top_event_types(5),
            exchanges=dict(self.stats.exchanges),
            deleted_queues=deleted,
            kept_queues=kept,
            error=error,
        )
        return self._summary

    def _shutdown_listeners(self) -> None:
        listeners, self._listeners = self._listeners, []
        if not listeners:
            return
        # Each stop() waits for its poll loop to notice (up to a few seconds): in parallel.
        with ThreadPoolExecutor(max_workers=len(listeners)) as pool:
            list(pool.map(_call_quietly("stop"), listeners))
        with ThreadPoolExecutor(max_workers=len(listeners)) as pool:
            list(pool.map(_call_quietly("wait"), listeners))

    def _delete_queues(self, *, only_new: bool = False) -> list[str]:
        if self.plan is None:
            return []
        names = list(self.plan.queues.values())
        if only_new:
            names = [name for name in names if name not in self.plan.resumed]
        if self._admin is None:
            self._admin = QueueAdmin.for_settings(
                self.settings, connect_timeout=self.connect_timeout
            )
        deleted: list[str] = []
        for index, name in enumerate(names):
            try:
                self._admin.delete(name)
                deleted.append(name)
            except Exception as exc:  # noqa: BLE001 - report what is left, then give up
                left = ", ".join(names[index:])
                self.on_event(
                    "cleanup",
                    f"could not delete tap queue(s) {left}: "
                    f"{mask_secrets(str(exc)) or type(exc).__name__}",
                )
                break
        self._close_admin()
        return deleted

    def _close_admin(self) -> None:
        if self._admin is not None:
            try:
                self._admin.close()
            except Exception:  # noqa: BLE001
                pass
            self._admin = None

    def _cleanup_transport(self) -> None:
        self._close_admin()
        if self._transport is not None:
            try:
                self._transport.cleanup()
            except Exception:  # noqa: BLE001
                pass
            self._transport = None
        for option in ("rabbit_qos_prefetch_count", "amqp_durable_queues", "rabbit_quorum_queue"):
            try:
                self.settings.conf.clear_override(option, group="oslo_messaging_rabbit")
            except Exception:  # noqa: BLE001
                pass


def _safe(value: object) -> str:
    """``value`` as text that any terminal can print (control characters and lone
    surrogates escaped)."""
    text = str(value)
    if text.isprintable() and text.isascii():
        return text
    return json.dumps(text)[1:-1]


def _reader_left(writer: RecordingWriter, error: BaseException) -> bool:
    """True when writing to standard output failed because its reader went away."""
    # RecordingWriter raises InputError "from None"; the OSError is still the context.
    return writer.path == "-" and isinstance(error.__context__, BrokenPipeError)


def _call_quietly(method: str) -> Callable[[Any], None]:
    def call(listener: Any) -> None:
        try:
            getattr(listener, method)()
        except Exception:  # noqa: BLE001 - stopping the others matters more
            LOG.exception("listener %s failed", method)

    return call


__all__ = [
    "DEFAULT_EXCHANGES",
    "DedupWindow",
    "LineSink",
    "QueueAdmin",
    "Recorder",
    "RecordStats",
    "RecordSummary",
    "default_pool",
    "plan_pool",
    "prepare_append",
    "queue_names",
]


# --- rendering (text for the CLI; nothing here prints) -----------------------------------


def ready_line(settings: BusSettings, recorder: Recorder) -> str:
    """``Recording from rabbit://guest:***@host:5672/ on 15 exchanges (pool osreplay-h)``."""
    exchanges = recorder.exchanges
    where = f"exchange {exchanges[0]}" if len(exchanges) == 1 else f"{len(exchanges)} exchanges"
    if len(recorder.topics) > 1 or recorder.topics != ["notifications"]:
        label = "topic" if len(recorder.topics) == 1 else "topics"
        where += f", {label} {', '.join(recorder.topics)}"
    return f"Recording from {settings.masked_url} on {where} (pool {recorder.pool})"


def progress_line(stats: RecordStats, *, now: float | None = None) -> str:
    """The live counter: ``1234 records, 56.7/s; top: a 800, b 400``."""
    elapsed = (time.monotonic() if now is None else now) - stats.started
    rate = stats.written / elapsed if elapsed > 0 else 0.0
    text = f"{stats.written} record{'' if stats.written == 1 else 's'}, {rate:.1f}/s"
    top = stats.top_event_types(3)
    if top:
        text += "; top: " + ", ".join(f"{name} {n}" for name, n in top)
    return text


def summary_lines(summary: RecordSummary) -> list[str]:
    """The end-of-run summary, a few lines for stderr."""
    lines = [
        f"Recorded {summary.written} record{'s' if summary.written != 1 else ''} "
        f"in {summary.elapsed:.1f} s ({summary.rate:.1f}/s) to {summary.output}"
        f" (stopped by {summary.stopped_by})"
    ]
    requeued = f"requeued {summary.requeued}"
    if summary.requeued and summary.stopped_by == "count":
        # The batch that crossed --count goes back whole (written records included).
        requeued += (
            " (the batch that crossed --count; kept in the tap queues)"
            if summary.kept_queues
            else " (the batch that crossed --count; dropped with the tap queues)"
        )
    lines.append(
        f"  filtered out {summary.filtered}, duplicates skipped {summary.duplicates}, "
        + requeued
        + (f", unencodable skipped {summary.unencodable}" if summary.unencodable else "")
        + (
            f", not notifications skipped {summary.not_notifications}"
            if summary.not_notifications
            else ""
        )
    )
    if summary.top_event_types:
        lines.append(
            "  top event types: " + ", ".join(f"{name} {n}" for name, n in summary.top_event_types)
        )
    if summary.exchanges:
        lines.append(
            "  by exchange: "
            + ", ".join(f"{name} {n}" for name, n in sorted(summary.exchanges.items()))
        )
    if summary.gaps:
        times = "time" if len(summary.gaps) == 1 else "times"
        windows = ", ".join(gap.window() for gap in summary.gaps)
        if summary.durable:
            lines.append(
                f"  reconnected {len(summary.gaps)} {times} ({windows}); the tap queues are "
                "durable: what was published meanwhile waited in them"
            )
        else:
            lines.append(
                f"  reconnected {len(summary.gaps)} {times}: messages published while the tap "
                f"was away may be missing ({windows}); record with --durable to keep them"
            )
    if summary.kept_queues:
        lines.append(
            f"  kept tap queues {', '.join(summary.kept_queues)}: they keep collecting; "
            f"resume with: osreplay record --pool {summary.pool} --append -o FILE"
            + (" --durable" if summary.durable else "")
        )
    elif summary.deleted_queues:
        lines.append(
            f"  deleted {len(summary.deleted_queues)} tap queue"
            f"{'s' if len(summary.deleted_queues) != 1 else ''} (pool {summary.pool})"
        )
    return lines
