"""Read a RabbitMQ stream over AMQP 0-9-1 without consuming it (kombu, py-amqp).

oslo's listener can neither choose where a stream read starts nor bound its prefetch, so
this consumer is osreplay's own, on a connection built like every other one osreplay
opens (:func:`stream_connection`: the URL's hosts as kombu alternates with oslo's
round-robin failover, the run's TLS settings and login method).

A read starts at ``x-stream-offset``: ``first``, ``last`` (the start of the last chunk),
``next``, an offset, or a point in time (an aware :class:`~datetime.datetime`; the broker
starts at the first *chunk* stored at or after it, to the second). Every delivery carries
its offset in the ``x-stream-offset`` header. Acks only give the broker credit for the
next ones (``basic.qos``): reading never removes a message, so any number of readers can
read the same range. When the connection is lost the reader reconnects (to another host of
a cluster) and goes on at the offset after the last one it returned, so a read sees every
offset once and in order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from osreplay.bus.exchanges import close_quietly, is_not_found
from osreplay.bus.transport import BusSettings, amqp_urls, rabbit_options, ssl_options
from osreplay.bus.url import error_text
from osreplay.errors import ConnectError, UsageError

#: Where a read starts: ``first``, ``last``, ``next``, an offset, or a time (aware).
Start = str | int | datetime
OFFSET_HEADER = "x-stream-offset"
DEFAULT_PREFETCH = 1000
#: How often the connection is retried before a read gives up (each try may move to
#: another host of a cluster).
RECONNECT_TRIES = 10


class StreamMissing(UsageError):
    """The stream queue does not exist (or is not a stream)."""


class _NoLocalReplica(Exception):
    """The node this connection reached has no running replica of the stream."""


@dataclass(frozen=True, slots=True)
class StreamMessage:
    """One message read from a stream: its offset, where it was published, its body."""

    offset: int
    exchange: str
    routing_key: str
    body: bytes | str
    content_type: str | None = None


def stream_connection(settings: BusSettings, *, timeout: float) -> Any:
    """A kombu connection to every host of the URL (failover as oslo), TLS as oslo."""
    if settings.is_memory or settings.bus.driver != "rabbit":
        raise UsageError(
            f"stream taps need RabbitMQ (3.9 or later); {settings.masked_url} is not a "
            "rabbit:// URL"
        )
    from kombu.connection import Connection

    connect: Callable[..., Any] = Connection  # kombu's constructor has no annotations
    return connect(
        ";".join(amqp_urls(settings)),
        connect_timeout=timeout,
        ssl=ssl_options(settings),
        login_method=rabbit_options(settings).rabbit_login_method,
        failover_strategy="round-robin",
    )


def connect(connection: Any, settings: BusSettings, *, timeout: float) -> None:
    """Connect ``connection`` (trying each host a few times) or raise ConnectError."""
    hosts = max(1, len(settings.bus.hosts))
    try:
        connection.ensure_connection(
            max_retries=3 * hosts, interval_start=0.5, interval_step=0.5, timeout=timeout
        )
    except Exception as exc:
        raise ConnectError(f"cannot connect to {settings.masked_url}: {error_text(exc)}") from None


class StreamReader:
    """Reads stream ``queue`` from ``start``, ``prefetch`` messages in flight.

    :meth:`poll` returns the messages that arrived (in offset order) and acks them;
    :meth:`close` cancels the consumer. The connection is the reader's own.
    """

    def __init__(
        self,
        settings: BusSettings,
        queue: str,
        *,
        start: Start = "first",
        prefetch: int = DEFAULT_PREFETCH,
        connect_timeout: float = 15.0,
        on_reconnect: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.queue = queue
        self.prefetch = prefetch
        self.connect_timeout = connect_timeout
        self._start: Start = start
        self._on_reconnect = on_reconnect
        self._connection: Any = stream_connection(settings, timeout=connect_timeout)
        self._channel: Any = None
        self._buffer: list[StreamMessage] = []
        self._last_tag: int | None = None
        #: The offset of the last message returned by :meth:`poll`.
        self.last_offset: int | None = None
        self.reconnects = 0
        # A connection error seen while messages were in hand: reconnect on the next poll
        # (kombu would otherwise reconnect by itself, silently, without the consumer).
        self._lost: BaseException | None = None

    def open(self) -> StreamReader:
        connect(self._connection, self.settings, timeout=self.connect_timeout)
        self._consume_somewhere()
        return self

    def _consume_somewhere(self) -> None:
        """Start consuming; a node whose replica of the stream is not running (yet)
        refuses, so try the next host of a cluster (a few rounds, as for connecting)."""
        tries = 3 * max(1, len(self.settings.bus.hosts))
        for attempt in range(1, tries + 1):
            try:
                self._consume()
                return
            except _NoLocalReplica:
                if attempt == tries:
                    raise ConnectError(
                        f"no node of {self.settings.masked_url} has a running replica of "
                        f"stream {self.queue}"
                    ) from None
            try:
                self._connection.close()
            except Exception:  # noqa: BLE001 - moving on to another host anyway
                pass
            self._connection.maybe_switch_next()
            time.sleep(min(0.5 * attempt, 2.0))
            connect(self._connection, self.settings, timeout=self.connect_timeout)

    def __enter__(self) -> StreamReader:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _consume(self) -> None:
        start = self._start if self.last_offset is None else self.last_offset + 1
        self._buffer, self._last_tag = [], None
        channel = self._connection.channel()
        channel.basic_qos(0, self.prefetch, False)
        try:
            channel.basic_consume(
                queue=self.queue,
                callback=self._on_message,
                no_ack=False,
                arguments={OFFSET_HEADER: start},
            )
        except Exception as exc:
            close_quietly(channel)
            if "replica on the local node" in str(exc):
                raise _NoLocalReplica() from None
            if is_not_found(exc):
                where = self.settings.masked_url
                raise StreamMissing(f"no stream {self.queue} on {where}") from None
            if "PRECONDITION_FAILED" in str(exc) or "not supported" in str(exc):
                raise StreamMissing(
                    f"queue {self.queue} on {self.settings.masked_url} is not a stream: "
                    f"{error_text(exc)}"
                ) from None
            raise
        self._channel = channel

    def _on_message(self, message: Any) -> None:
        headers = message.properties.get("application_headers") or {}
        info = message.delivery_info
        self._last_tag = info["delivery_tag"]
        self._buffer.append(
            StreamMessage(
                offset=int(headers[OFFSET_HEADER]),
                exchange=info.get("exchange") or "",
                routing_key=info.get("routing_key") or "",
                body=message.body,
                content_type=message.properties.get("content_type"),
            )
        )

    def poll(self, timeout: float, *, max_messages: int | None = None) -> list[StreamMessage]:
        """What arrives within ``timeout`` s (returning soon after the first message)."""
        limit = max_messages or self.prefetch
        deadline = time.monotonic() + timeout
        if self._lost is not None and not self._buffer:
            lost, self._lost = self._lost, None
            self._reconnect(lost)
        while len(self._buffer) < limit and self._lost is None:
            # Once something came, only gather what is already on its way.
            wait = deadline - time.monotonic() if not self._buffer else 0.02
            if wait <= 0:
                break
            try:
                self._connection.drain_events(timeout=wait)
            except TimeoutError:
                if self._buffer or time.monotonic() >= deadline:
                    break
            except self._recoverable() as exc:
                if self._buffer:
                    self._lost = exc  # hand over what came; the next poll reconnects
                    break
                self._reconnect(exc)
        return self._take(limit)

    def _take(self, limit: int) -> list[StreamMessage]:
        batch, self._buffer = self._buffer[:limit], self._buffer[limit:]
        if not batch:
            return batch
        if self.last_offset is not None:
            # After a reconnect the broker starts at a chunk: skip what was already read.
            batch = [m for m in batch if m.offset > self.last_offset]
        if batch:
            self.last_offset = batch[-1].offset
        if not self._buffer and self._last_tag is not None:
            try:
                if self._lost is None:
                    self._channel.basic_ack(self._last_tag, multiple=True)
            except self._recoverable() as exc:
                self._lost = exc  # credit only: the next poll reconnects after last_offset
            self._last_tag = None
        return batch

    def _recoverable(self) -> tuple[type[BaseException], ...]:
        conn = self._connection
        return tuple(conn.connection_errors) + tuple(conn.channel_errors) + (OSError,)

    def _reconnect(self, exc: BaseException) -> None:
        reason = error_text(exc)
        self.reconnects += 1
        if self.reconnects > RECONNECT_TRIES:
            raise ConnectError(
                f"lost the connection to {self.settings.masked_url} while reading stream "
                f"{self.queue}: {reason}"
            ) from None
        if self._on_reconnect is not None:
            self._on_reconnect(reason)
        close_quietly(self._channel)
        self._channel = None
        try:
            self._connection.close()
        except Exception:  # noqa: BLE001 - the old connection is gone anyway
            pass
        time.sleep(min(0.5 * self.reconnects, 3.0))
        connect(self._connection, self.settings, timeout=self.connect_timeout)
        self._consume_somewhere()

    def close(self) -> None:
        close_quietly(self._channel)
        self._channel = None
        try:
            self._connection.release()
        except Exception:  # noqa: BLE001 - closing never fails a read
            pass


def first_message(
    settings: BusSettings, queue: str, *, at: Start = "first", wait: float, connect_timeout: float
) -> StreamMessage | None:
    """The first message of ``queue`` read from ``at``, or None when none comes in ``wait``."""
    with StreamReader(
        settings, queue, start=at, prefetch=1, connect_timeout=connect_timeout
    ) as reader:
        batch = reader.poll(wait, max_messages=1)
    return batch[0] if batch else None


def last_chunk(
    settings: BusSettings,
    queue: str,
    *,
    wait: float,
    idle: float = 0.5,
    longest: float = 3.0,
    connect_timeout: float,
) -> list[StreamMessage]:
    """The messages of the stream's last chunk (and any that follow at once).

    Reads from ``last`` until nothing comes for ``idle`` s (``wait`` for the first one;
    at most ``longest`` s in all, for a stream that never pauses). Empty: an empty stream.
    """
    messages: list[StreamMessage] = []
    with StreamReader(settings, queue, start="last", connect_timeout=connect_timeout) as reader:
        began = time.monotonic()
        messages += reader.poll(wait)
        while messages and time.monotonic() - began < longest:
            more = reader.poll(idle)
            if not more:
                break
            messages += more
    return messages


__all__ = [
    "DEFAULT_PREFETCH",
    "OFFSET_HEADER",
    "Start",
    "StreamMessage",
    "StreamMissing",
    "StreamReader",
    "connect",
    "first_message",
    "last_chunk",
    "stream_connection",
]
