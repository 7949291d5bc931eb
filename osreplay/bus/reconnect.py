"""Reconnect notices read from oslo's log: when the tap lost the broker, and when it was back.

oslo reconnects on its own and tells nobody but its logger. :class:`ReconnectWatcher`
listens to the rabbit driver's log records, turns them into facts (one each way, however
many connections dropped) and keeps the gaps for the summary.

A channel the broker closes is another case. When a delivery is not acknowledged within
the broker's ``consumer_timeout`` (the output blocked: a pipe nobody reads), RabbitMQ
closes the consumer's channel with ``PRECONDITION_FAILED``. oslo's poll loop then logs a
traceback through ``oslo_utils.excutils`` ("Unexpected exception occurred … retrying"),
opens a new channel and consumes again without a word, and the broker redelivers what was
not acknowledged. The watcher turns that log record into a :class:`ConnectionLost`
(its traceback is not shown unless ``-v``), and the first batch delivered afterwards
(:meth:`ReconnectWatcher.delivered`) into a :class:`Reconnected` with ``channel=True``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from osreplay.bus.url import mask_secrets

# Where oslo's poll loop logs the failure of a consume, before it retries.
_RETRY_LOGGERS = ("oslo_utils.excutils", "oslo.utils.excutils")
# The connection id used for a closed channel (oslo names none for it).
_CHANNEL = "channel"


@dataclass(frozen=True)
class Gap:
    """A time the tap was away from the broker (wall clock, UTC)."""

    lost_at: datetime
    back_at: datetime
    #: True when only the channel was closed (the tap queues kept every message).
    channel: bool = False

    @property
    def seconds(self) -> float:
        return (self.back_at - self.lost_at).total_seconds()


@dataclass(frozen=True)
class ConnectionLost:
    """The first connection to ``url`` (masked) dropped; ``reason`` is masked too."""

    url: str
    reason: str


@dataclass(frozen=True)
class Reconnected:
    """Every connection to ``url`` is back; ``gap`` is how long the tap was away.

    ``node`` (``host:port``) is the broker the last one came back on, given only when the
    URL lists several (a cluster: which node took over is worth saying)."""

    url: str
    gap: Gap | None
    node: str | None = None
    #: True when consuming resumed on a new channel after the broker closed the old one.
    channel: bool = False


ConnectionChange = ConnectionLost | Reconnected


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


# The rabbit driver's logger: oslo.log renames oslo_messaging's loggers when it is
# installed (it comes with oslo.messaging), so listen under both names.
_RABBIT_LOGGERS = ("oslo.messaging._drivers.impl_rabbit", "oslo_messaging._drivers.impl_rabbit")


class RabbitLogHandler(logging.Handler):
    """A handler on oslo's rabbit driver logger that hears its INFO records without
    showing them where the user did not ask for oslo's logs (:meth:`detach` restores)."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self._loggers = [logging.getLogger(name) for name in _RABBIT_LOGGERS]
        self._saved: dict[str, tuple[int, bool]] = {}

    def attach(self) -> None:
        for logger in self._loggers:
            if logger.getEffectiveLevel() > logging.INFO:
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


class ReconnectWatcher(RabbitLogHandler):
    """Turns oslo's reconnect log records into one fact each way, and keeps the gaps."""

    def __init__(
        self,
        masked_url: str,
        on_change: Callable[[ConnectionChange], None],
        *,
        now: Callable[[], datetime] = _utcnow,
        cluster: bool = False,
    ) -> None:
        super().__init__()
        self._cluster = cluster
        self._now = now
        self._masked_url = masked_url
        self._on_change = on_change
        self._lost: set[str] = set()
        self._lost_at: datetime | None = None
        self.gaps: list[Gap] = []
        self._lock = threading.Lock()
        self._retry_loggers = [logging.getLogger(name) for name in _RETRY_LOGGERS]
        self._show_retries = False
        #: True while a closed channel waits for the next delivery (read without the lock:
        #: one attribute read per batch).
        self.awaiting_delivery = False

    def attach(self) -> None:
        super().attach()
        # A filter, not a handler: the retry loggers' other records go on as before.
        self._show_retries = logging.getLogger().getEffectiveLevel() <= logging.INFO
        for logger in self._retry_loggers:
            logger.addFilter(self._retry_filter)

    def detach(self) -> None:
        super().detach()
        for logger in self._retry_loggers:
            logger.removeFilter(self._retry_filter)

    def _retry_filter(self, record: logging.LogRecord) -> bool:
        """A consume that failed because the broker closed the channel: a fact, and its
        traceback shown only with ``-v``; any other record passes unchanged."""
        exc = record.exc_info[1] if record.exc_info else None
        reason = channel_closed_reason(exc) if exc is not None else None
        if reason is None:
            return True
        self._lost_one(_CHANNEL, reason)
        return self._show_retries

    def delivered(self) -> None:
        """A batch arrived: consuming goes on (after a closed channel, on a new one)."""
        if not self.awaiting_delivery:
            return
        with self._lock:
            was_lost = _CHANNEL in self._lost
            self._lost.discard(_CHANNEL)
            self.awaiting_delivery = False
            back = was_lost and not self._lost
            gap = None
            if back and self._lost_at is not None:
                gap = Gap(self._lost_at, self._now(), channel=True)
                self.gaps.append(gap)
                self._lost_at = None
        if back:
            self._on_change(Reconnected(self._masked_url, gap, channel=True))

    def emit(self, record: logging.LogRecord) -> None:
        message = record.msg if isinstance(record.msg, str) else ""
        args = record.args if isinstance(record.args, dict) else {}
        connection = str(args.get("connection_id", "?"))
        if "is unreachable" in message or "closed the connection" in message:
            self._lost_one(connection, str(args.get("err_str", "")))
        elif "Reconnected to AMQP server" in message:
            node = f"{args.get('hostname', '?')}:{args.get('port', '?')}" if self._cluster else None
            self._back_one(connection, node)

    def _lost_one(self, connection: str, error: str) -> None:
        with self._lock:
            first = not self._lost
            self._lost.add(connection)
            if connection == _CHANNEL:
                self.awaiting_delivery = True
            if first:
                self._lost_at = self._now()
        if first:
            reason = mask_secrets(error) or "connection lost"
            self._on_change(ConnectionLost(self._masked_url, reason))

    def _back_one(self, connection: str, node: str | None) -> None:
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
            self._on_change(Reconnected(self._masked_url, gap, node))


def channel_closed_reason(exc: BaseException) -> str | None:
    """Why the broker closed the consumer's channel, from the error oslo's poll loop raised
    (``MessageDeliveryFailure`` around py-amqp's ``PreconditionFailed``); None for any
    other error."""
    text = str(exc)
    if "PRECONDITION_FAILED" not in text or "acknowledgement" not in text:
        return None
    timeout = ""
    marker = "Timeout value used: "
    if marker in text:
        timeout = " (" + text.split(marker, 1)[1].split(".", 1)[0] + ")"
    return (
        "the broker closed the channel: a delivery was not acknowledged within its "
        f"consumer_timeout{timeout}, the output was too slow"
    )


__all__ = [
    "ConnectionChange",
    "ConnectionLost",
    "Gap",
    "ReconnectWatcher",
    "Reconnected",
    "channel_closed_reason",
]
