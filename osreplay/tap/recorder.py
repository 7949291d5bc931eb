"""The tap: record notifications from the bus without disturbing the real consumers.

How it stays out of the way
    Every (exchange, topic) gets its own batch listener on its own *pool* queue
    (:mod:`osreplay.tap.pool`), so the broker gives osreplay a copy of each message and
    Ceilometer still gets every one. oslo tells an endpoint neither the exchange nor the
    topic; one listener per queue is how a record knows both.

How it stays lossless
    Endpoints hand complete lines to one writer (:mod:`osreplay.tap.sink`). An endpoint
    returns ``NotificationResult.REQUEUE`` whenever its lines are not all on file (a write
    error, the ``--count`` limit reached mid-batch); the listeners are built with
    ``allow_requeue=True`` so that oslo really requeues instead of acking.

How it cleans up
    oslo never deletes a pool queue: on stop the queues are deleted
    (:class:`osreplay.bus.queues.QueueAdmin`) unless ``keep_queue``.

Nothing here prints: skipped messages, reconnects and cleanup failures reach the caller's
console as facts (:class:`RecordEvents`); the end of a run is a :class:`RecordSummary`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import oslo_messaging  # type: ignore[import-untyped]

from osreplay.bus.exchanges import declare_exchanges_as
from osreplay.bus.reconnect import ConnectionChange, ConnectionLost, ReconnectWatcher
from osreplay.bus.transport import (
    RABBIT_GROUP,
    BusSettings,
    check_connection,
    get_transport,
    oslo_reason,
    quorum_queues,
)
from osreplay.errors import ConnectError, OsreplayError, UsageError
from osreplay.model.notification import utcnow_iso
from osreplay.model.repair import DeliveryKey
from osreplay.secrets.rules import Redactor
from osreplay.tap.lines import BatchCounts, LineBuilder
from osreplay.tap.listeners import start_listener, stop_listeners
from osreplay.tap.options import (
    DEFAULT_EXCHANGES,
    QUEUE_TYPES,
    CleanupFailed,
    RecordEvents,
    RecordOptions,
    RecordSummary,
    SilentEvents,
)
from osreplay.tap.pool import PoolPlan, TapQueues, default_pool
from osreplay.tap.sink import (
    Budget,
    DedupWindow,
    LineSink,
    MessageLine,
    OutputWriter,
    RecordStats,
    WriteFailed,
)

LOG = logging.getLogger(__name__)

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
    """Records notifications from ``options.exchanges`` × topics into ``writer``.

    ``start()`` binds (raises ConnectError or UsageError), ``run_until()`` waits for a stop
    condition, ``stop()`` drains, acks, cleans up and returns a :class:`RecordSummary`.
    ``seen`` are the deliveries already in an appended file (not written again).
    """

    def __init__(
        self,
        settings: BusSettings,
        *,
        writer: OutputWriter,
        options: RecordOptions,
        seen: Iterable[DeliveryKey | str] = (),
        events: RecordEvents | None = None,
        budget: Budget | None = None,
        shared_pool: bool = False,
    ) -> None:
        """``budget`` and ``shared_pool``: one worker of ``record --workers`` (a --count
        shared with the others; a pool whose queues the others consume from too)."""
        if options.count is not None and options.count < 1:
            raise UsageError("--count must be at least 1")
        if options.batch_size < 1:
            raise UsageError("--batch-size must be at least 1")
        if options.queue_type is not None and options.queue_type not in QUEUE_TYPES:
            raise UsageError(
                f"--queue-type {options.queue_type}: choose {' or '.join(QUEUE_TYPES)}"
            )
        self.settings = settings
        self.writer = writer
        self.options = options
        self.exchanges = list(dict.fromkeys(options.exchanges or default_exchanges(settings)))
        self.topics = list(dict.fromkeys(options.topics or settings.topics))
        self.filters = options.filters
        self.redactor = Redactor(enabled=options.redact, extra_keys=options.redact_keys)
        self.keep_queue = options.keep_queue
        # Bounded, so a huge backlog is not pushed into memory; twice the batch so the next
        # batch arrives while the last one is written.
        self.prefetch = options.prefetch or 2 * options.batch_size
        self.queue_type = options.queue_type or ("quorum" if quorum_queues(settings) else "classic")
        # Quorum queues are always durable (RabbitMQ refuses a transient one).
        self.durable = options.durable or self.queue_type == "quorum"
        self.events: RecordEvents = events or SilentEvents()
        self._builder = LineBuilder(self.filters, self.redactor, self.events)
        self.stats = RecordStats()
        self.stop_event = threading.Event()
        self._stats_lock = threading.Lock()
        self._sink = LineSink(
            writer,
            self.stats,
            limit=options.count,
            seen=DedupWindow(initial=seen),
            on_limit=self.stop_event.set,
            on_error=lambda exc: self.stop_event.set(),
            budget=budget,
        )
        self._shared_pool = shared_pool
        self._listeners: list[Any] = []
        self._transport: Any = None
        self._queues = TapQueues(
            settings,
            connect_timeout=options.connect_timeout,
            on_cleanup_failed=lambda left, reason: self.events.cleanup_failed(
                CleanupFailed(left, reason)
            ),
        )
        self._watcher = ReconnectWatcher(
            settings.masked_url, self._connection_changed, cluster=len(settings.bus.hosts) > 1
        )
        self._stopped_by = "stop"
        self._summary: RecordSummary | None = None
        self._declaring = contextlib.ExitStack()

    @property
    def plan(self) -> PoolPlan | None:
        return self._queues.plan

    @property
    def pool(self) -> str:
        return self.plan.pool if self.plan else (self.options.pool or default_pool())

    @property
    def queues(self) -> list[str]:
        return list(self.plan.queues.values()) if self.plan else []

    def _connection_changed(self, change: ConnectionChange) -> None:
        if isinstance(change, ConnectionLost):
            self.events.connection_lost(change)
        else:
            self.events.reconnected(change, durable=self.bindings_survive)

    # -- start ----------------------------------------------------------------------------

    def start(self, *, check_first: bool = True) -> None:
        """Connect, choose the pool, declare the tap queues and start listening.

        ``check_first=False`` when the caller has just checked the connection itself.
        """
        if check_first:
            check_connection(self.settings, timeout=self.options.connect_timeout)
        try:
            plan = self._queues.prepare(
                self.exchanges,
                self.topics,
                pool=self.options.pool,
                append=self.options.append,
                shared=self._shared_pool,
            )
        except Exception:
            self._sink.close()
            raise
        self._override_oslo_options()
        self._watcher.attach()
        # oslo declares each exchange as the broker has it, not as durable as the tap queue.
        self._declaring.enter_context(
            declare_exchanges_as({name: state.flags for name, state in plan.exchanges.items()})
        )
        try:
            self._listen(plan)
        except OsreplayError:
            self._abort()
            raise
        except Exception as exc:
            self._abort()
            reason = oslo_reason(exc)
            if "inequivalent arg" in reason and "for queue" in reason:
                reason += (
                    f" (a tap queue of pool {plan.pool} was made with other --durable or "
                    "--queue-type options: give the same ones, or choose another --pool)"
                )
            raise ConnectError(f"cannot listen on {self.settings.masked_url}: {reason}") from None
        self.stats.started = time.monotonic()

    @property
    def transient_exchanges(self) -> list[str]:
        """The exchanges that a broker restart drops with their bindings (known once
        started; empty on the in-memory transport)."""
        plan = self.plan
        if plan is None:
            return []
        return [name for name, state in plan.exchanges.items() if not state.flags.durable]

    @property
    def bindings_survive(self) -> bool:
        """A broker restart keeps the tap's queues and their bindings: durable tap queues
        on durable exchanges."""
        return self.durable and not self.transient_exchanges

    def _override_oslo_options(self) -> None:
        conf = self.settings.conf
        conf.set_override("rabbit_qos_prefetch_count", self.prefetch, group=RABBIT_GROUP)
        if self.durable:
            conf.set_override("amqp_durable_queues", True, group=RABBIT_GROUP)
        # Explicit either way: --queue-type classic wins over the file's rabbit_quorum_queue.
        quorum = self.queue_type == "quorum"
        conf.set_override("rabbit_quorum_queue", quorum, group=RABBIT_GROUP)

    def _listen(self, plan: PoolPlan) -> None:
        self._transport = get_transport(self.settings)
        for (exchange, topic), queue in plan.queues.items():
            listener = start_listener(
                self._transport,
                exchange,
                topic,
                queue,
                _TapEndpoint(self, exchange, topic),
                batch_size=self.options.batch_size,
                batch_timeout=self.options.batch_timeout,
                workers=self.options.workers,
            )
            self._listeners.append(listener)

    def _abort(self) -> None:
        self._shutdown_listeners()
        if not self.keep_queue:
            # Only what this run created: a resumed queue still holds someone's backlog.
            self._queues.delete(only_new=True)
        self._cleanup_transport()
        self._watcher.detach()
        self._sink.close()

    # -- the endpoint ------------------------------------------------------------------------

    def _handle(
        self, endpoint: _TapEndpoint, priority: str, messages: list[dict[str, Any]]
    ) -> str | None:
        if self._watcher.awaiting_delivery:  # consuming again after a closed channel
            self._watcher.delivered()
        recorded_at = utcnow_iso()
        arrived = time.monotonic()
        with self._stats_lock:
            if self.stats.first_at is None:
                self.stats.first_at = arrived
        counts = BatchCounts()
        entries: list[MessageLine] = []
        for message in messages:
            entry = self._builder.entry(
                message, endpoint.exchange, endpoint.topic, priority, recorded_at, counts
            )
            if entry is not None:
                entries.append(entry)
        if counts.filtered or counts.unencodable or counts.not_notifications or counts.undecodable:
            with self._stats_lock:
                self.stats.filtered += counts.filtered
                self.stats.unencodable += counts.unencodable
                self.stats.not_notifications += counts.not_notifications
                self.stats.undecodable.update(counts.undecodable)
        if not entries:
            return None
        try:
            complete = self._sink.submit(entries)
        except WriteFailed:
            complete = False
        if complete:
            with self._stats_lock:
                self.stats.last_at = time.monotonic()
            return None
        with self._stats_lock:
            self.stats.requeued += len(messages)
        result: str = oslo_messaging.NotificationResult.REQUEUE
        return result

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
            stopped_by = self._stop_reason(external, deadline, clock())
            if stopped_by is not None:
                self._stopped_by = stopped_by
                return stopped_by
            now = clock()
            if tick is not None and now >= next_tick:
                tick(self.stats)
                next_tick = now + tick_interval
            # Short waits: the caller's event may be set from a signal handler.
            self.stop_event.wait(0.05)

    def _stop_reason(
        self, external: threading.Event, deadline: float | None, now: float
    ) -> str | None:
        if self._sink.error is not None:
            return "error"
        if self._sink.limit_reached:
            return "count"
        if external.is_set():
            return "signal"
        if deadline is not None and now >= deadline:
            return "duration"
        return None

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
            deleted = self._queues.delete()
        self._cleanup_transport()
        self._watcher.detach()
        self._summary = self._summarise(error, deleted=deleted, kept=kept)
        return self._summary

    def _summarise(
        self, error: OsreplayError | None, *, deleted: list[str], kept: list[str]
    ) -> RecordSummary:
        stats = self.stats
        return RecordSummary(
            written=stats.written,
            filtered=stats.filtered,
            duplicates=stats.duplicates,
            requeued=stats.requeued,
            unencodable=stats.unencodable,
            not_notifications=stats.not_notifications,
            undecodable=stats.undecodable.most_common(),
            gaps=list(self._watcher.gaps),
            durable=self.durable,
            bindings_survive=self.bindings_survive,
            elapsed=time.monotonic() - stats.started,
            receiving=(
                stats.last_at - stats.first_at
                if stats.first_at is not None and stats.last_at is not None
                else None
            ),
            output=self.writer.name,
            pool=self.pool,
            stopped_by=self._stopped_by,
            top_event_types=stats.top_event_types(5),
            exchanges=dict(stats.exchanges),
            deleted_queues=deleted,
            kept_queues=kept,
            error=error,
        )

    def _shutdown_listeners(self) -> None:
        listeners, self._listeners = self._listeners, []
        stop_listeners(listeners)

    def _cleanup_transport(self) -> None:
        self._declaring.close()
        self._queues.release()
        if self._transport is not None:
            try:
                self._transport.cleanup()
            except Exception:  # noqa: BLE001
                pass
            self._transport = None
        for option in ("rabbit_qos_prefetch_count", "amqp_durable_queues", "rabbit_quorum_queue"):
            try:
                self.settings.conf.clear_override(option, group=RABBIT_GROUP)
            except Exception:  # noqa: BLE001
                pass


def default_exchanges(settings: BusSettings) -> list[str]:
    """What record listens on without ``--exchange``: :data:`DEFAULT_EXCHANGES`, then the
    ``[DEFAULT] control_exchange`` of each ``--config-file`` (where the service publishes)."""
    return list(dict.fromkeys([*DEFAULT_EXCHANGES, *(e for e, _ in settings.control_exchanges)]))


def _reader_left(writer: OutputWriter, error: BaseException) -> bool:
    """True when writing to standard output failed because its reader went away."""
    # RecordingWriter raises its error "from None"; the OSError is still the context.
    return writer.path == "-" and isinstance(error.__context__, BrokenPipeError)


__all__ = ["Recorder", "default_exchanges"]
