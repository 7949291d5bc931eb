"""Stream taps on the broker: declare, bind, find and delete them (kombu).

A tap is a RabbitMQ stream queue named ``osreplay.tap.<NAME>`` (``x-queue-type: stream``,
durable, with the retention asked for), bound to each exchange with the routing keys
oslo's listener binds for a topic (``<topic>.<priority>`` for the seven priorities), so it
gets a copy of every notification like record's tap queues, and takes nothing from a real
consumer. Exchanges are never changed (:mod:`osreplay.bus.exchanges`).

AMQP 0-9-1 can list neither queues nor bindings, so the taps are written down on the
broker itself: every create and delete appends one JSON event to the stream
``osreplay.taps`` (with publisher confirms), and :meth:`StreamAdmin.taps` reads it back.
The registry is deleted with the last tap, so a broker without taps holds nothing of
osreplay's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from osreplay.bus.exchanges import ExchangeFlags, close_quietly, is_not_found, use_exchange
from osreplay.bus.stream_reader import StreamReader, connect, last_chunk, stream_connection
from osreplay.bus.transport import BusSettings
from osreplay.bus.url import error_text
from osreplay.errors import ConnectError, OsreplayError

QUEUE_PREFIX = "osreplay.tap."
REGISTRY = "osreplay.taps"
#: The routing-key suffixes oslo's notification listener binds (one per priority).
PRIORITY_KEYS = ("audit", "debug", "info", "warn", "error", "critical", "sample")
#: RabbitMQ's default stream segment (retention drops whole segments).
DEFAULT_SEGMENT = 500_000_000
_MIN_SEGMENT = 1_000_000


@contextmanager
def broker_errors(settings: BusSettings, what: str) -> Iterator[None]:
    """The broker's refusals (no stream support, no permission…) as one line, masked."""
    try:
        yield
    except OsreplayError:
        raise
    except Exception as exc:
        raise ConnectError(f"cannot {what} on {settings.masked_url}: {error_text(exc)}") from None


def queue_name(tap: str) -> str:
    return QUEUE_PREFIX + tap


@dataclass(frozen=True)
class TapSpec:
    """What a tap was created with, as the registry keeps it."""

    name: str
    exchanges: tuple[str, ...]
    topics: tuple[str, ...]
    max_age: str | None
    max_bytes: int | None
    created_at: str

    @property
    def queue(self) -> str:
        return queue_name(self.name)


@dataclass(frozen=True)
class QueueCounts:
    messages: int
    consumers: int


def stream_arguments(max_age: str | None, max_bytes: int | None) -> dict[str, Any]:
    """The queue arguments of a tap; retention drops whole segments, so a small
    ``max_bytes`` gets segments small enough for it to act (a twentieth of it)."""
    arguments: dict[str, Any] = {"x-queue-type": "stream"}
    if max_age:
        arguments["x-max-age"] = max_age
    if max_bytes:
        arguments["x-max-length-bytes"] = max_bytes
        segment = max(_MIN_SEGMENT, min(DEFAULT_SEGMENT, max_bytes // 20))
        arguments["x-stream-max-segment-size-bytes"] = segment
    return arguments


class StreamAdmin:
    """Tap administration on a connection of its own (failover and TLS as oslo's)."""

    def __init__(self, settings: BusSettings, *, connect_timeout: float = 15.0) -> None:
        self.settings = settings
        self.connect_timeout = connect_timeout
        self._connection: Any = stream_connection(settings, timeout=connect_timeout)
        connect(self._connection, settings, timeout=connect_timeout)

    def close(self) -> None:
        try:
            self._connection.release()
        except Exception:  # noqa: BLE001 - closing never fails a command
            pass

    def __enter__(self) -> StreamAdmin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queues ----------------------------------------------------------------------------

    def counts(self, queue: str) -> QueueCounts | None:
        """The broker's message and consumer counts (a stream's lag a few seconds), or
        None when the queue does not exist."""
        channel = self._connection.channel()
        try:
            _, messages, consumers = channel.queue_declare(queue=queue, passive=True)
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        finally:
            close_quietly(channel)
        return QueueCounts(messages, consumers)

    def create(self, spec: TapSpec, flags: ExchangeFlags) -> dict[str, bool]:
        """Declare and bind the stream, then register it; which exchanges existed.

        The exchanges come first (used as they are, or declared as the services would), so
        that a refusal leaves no stream behind; a failed binding deletes the stream again.
        """
        existed = {name: use_exchange(self._connection, name, flags) for name in spec.exchanges}
        channel = self._connection.channel()
        try:
            channel.queue_declare(
                queue=spec.queue,
                durable=True,
                exclusive=False,
                auto_delete=False,
                arguments=stream_arguments(spec.max_age, spec.max_bytes),
            )
            try:
                for exchange in spec.exchanges:
                    for topic in spec.topics:
                        for key in PRIORITY_KEYS:
                            channel.queue_bind(
                                queue=spec.queue, exchange=exchange, routing_key=f"{topic}.{key}"
                            )
                self._append({"op": "create", **asdict(spec)})
            except BaseException:
                self._delete_queue(spec.queue)
                raise
        finally:
            close_quietly(channel)
        return existed

    def delete(self, name: str) -> bool:
        """Delete tap ``name`` and its registry entry (and the registry with the last tap);
        False when there was no such stream."""
        existed = self._delete_queue(queue_name(name))
        registered = self.taps()
        if name in registered:
            self._append({"op": "delete", "name": name})
            del registered[name]
        if not registered:
            self._delete_queue(REGISTRY)
        return existed

    def _delete_queue(self, queue: str) -> bool:
        channel = self._connection.channel()
        try:
            channel.queue_declare(queue=queue, passive=True)
            channel.queue_delete(queue=queue)
        except Exception as exc:
            if is_not_found(exc):
                return False
            raise
        finally:
            close_quietly(channel)
        return True

    # -- the registry ------------------------------------------------------------------

    def _append(self, event: dict[str, Any]) -> None:
        channel = self._connection.channel()
        try:
            channel.queue_declare(
                queue=REGISTRY,
                durable=True,
                exclusive=False,
                auto_delete=False,
                arguments={"x-queue-type": "stream"},
            )
            body = json.dumps(event, sort_keys=True).encode()
            message = channel.prepare_message(body, content_type="application/json")
            channel.basic_publish_confirm(
                message, exchange="", routing_key=REGISTRY, confirm_timeout=self.connect_timeout
            )
        finally:
            close_quietly(channel)

    def taps(self) -> dict[str, TapSpec]:
        """The registered taps, by name (created and not deleted since)."""
        if self.counts(REGISTRY) is None:
            return {}
        timeout = self.connect_timeout
        tail = last_chunk(self.settings, REGISTRY, wait=2.0, connect_timeout=timeout)
        if not tail:
            return {}
        end = tail[-1].offset
        found: dict[str, TapSpec] = {}
        with StreamReader(self.settings, REGISTRY, connect_timeout=timeout) as reader:
            while reader.last_offset is None or reader.last_offset < end:
                batch = reader.poll(timeout)
                if not batch:
                    break  # the registry was cut short under us; what was read stands
                for message in batch:
                    _fold(found, message.body)
        return found


def _fold(found: dict[str, TapSpec], body: bytes | str) -> None:
    try:
        event = json.loads(body)
        if event.get("op") == "create":
            found[event["name"]] = TapSpec(
                name=event["name"],
                exchanges=tuple(event["exchanges"]),
                topics=tuple(event["topics"]),
                max_age=event.get("max_age"),
                max_bytes=event.get("max_bytes"),
                created_at=event.get("created_at", ""),
            )
        elif event.get("op") == "delete":
            found.pop(event["name"], None)
    except (ValueError, KeyError, TypeError, AttributeError):
        pass  # not one of osreplay's events: someone else's message, ignored


__all__ = [
    "PRIORITY_KEYS",
    "QUEUE_PREFIX",
    "REGISTRY",
    "QueueCounts",
    "StreamAdmin",
    "TapSpec",
    "broker_errors",
    "queue_name",
    "stream_arguments",
]
