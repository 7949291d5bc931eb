"""Queue administration oslo has no API for: inspect, purge and delete (kombu).

oslo never deletes a pool queue. :class:`QueueAdmin` works on a connection of its own; a
passive declare of a missing queue closes the channel with 404, so every call runs on a
fresh channel. With several hosts (a cluster) it fails over between them as oslo does
(kombu's ``;``-separated alternates, round-robin): one host that answers is enough.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from osreplay.bus.exchanges import ExchangeFlags, ExchangeState, close_quietly, probe
from osreplay.bus.transport import BusSettings, amqp_urls, rabbit_options, ssl_options


@dataclass(frozen=True)
class QueueState:
    messages: int
    consumers: int


class QueueAdmin:
    """Inspect, purge and delete queues on a connection of its own (kombu)."""

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float = 15.0,
        ssl: Any = False,
        login_method: str | None = None,
    ) -> None:
        from kombu.connection import Connection

        connect: Callable[..., Any] = Connection  # kombu's constructor has no annotations
        self._connect_timeout = connect_timeout
        # kombu tries every alternate once per round before it waits: a few rounds each.
        self._retries = 3 * (url.count(";") + 1)
        self._connection: Any = connect(
            url,
            connect_timeout=connect_timeout,
            ssl=ssl,
            login_method=login_method,
            failover_strategy="round-robin",
        )

    @classmethod
    def for_settings(cls, settings: BusSettings, *, connect_timeout: float = 15.0) -> QueueAdmin:
        if settings.is_memory:
            return cls("memory://", connect_timeout=connect_timeout)
        return cls(
            ";".join(amqp_urls(settings)),
            connect_timeout=connect_timeout,
            ssl=ssl_options(settings),  # the same TLS settings as oslo's own connections
            login_method=rabbit_options(settings).rabbit_login_method,
        )

    @contextmanager
    def _channel(self) -> Iterator[Any]:
        # A few tries: at exit the broker may just be coming back from a restart.
        self._connection.ensure_connection(
            max_retries=self._retries,
            interval_start=1,
            interval_step=1,
            timeout=self._connect_timeout,
        )
        channel = self._connection.channel()
        try:
            yield channel
        finally:
            close_quietly(channel)

    def _unless_missing(self, call: Callable[[Any], Any]) -> bool:
        """Run ``call(channel)``; False when what it names does not exist (404)."""
        with self._channel() as channel:
            try:
                call(channel)
            except Exception as exc:
                if _is_not_found(exc):
                    return False
                raise
        return True

    def inspect(self, name: str) -> QueueState | None:
        """The queue's message and consumer counts, or None when it does not exist."""
        found: list[QueueState] = []

        def declare(channel: Any) -> None:
            _, messages, consumers = channel.queue_declare(queue=name, passive=True)
            found.append(QueueState(messages, consumers))

        return found[0] if self._unless_missing(declare) else None

    def purge(self, name: str) -> None:
        self._unless_missing(lambda channel: channel.queue_purge(queue=name))

    def delete(self, name: str) -> None:
        self._unless_missing(lambda channel: channel.queue_delete(queue=name))

    def exchange(self, name: str, wanted: ExchangeFlags) -> ExchangeState:
        """The exchange as the broker has it, declared with ``wanted`` only when missing
        (see :mod:`osreplay.bus.exchanges`)."""
        return probe(self._unless_missing, name, wanted)

    def lock(self, name: str) -> bool:
        """Hold the lock ``name`` as long as this admin's connection lives: an exclusive
        queue, which the broker gives one connection at a time and deletes when it closes
        (even when the process is killed). False when another connection holds it."""
        with self._channel() as channel:
            try:
                channel.queue_declare(queue=name, exclusive=True, auto_delete=True)
            except Exception as exc:
                if _is_locked(exc):
                    return False
                raise
        return True

    def close(self) -> None:
        self._connection.release()


def _is_not_found(exc: BaseException) -> bool:
    code = getattr(exc, "code", None) or getattr(exc, "reply_code", None)
    return code == 404 or "NOT_FOUND" in str(exc) or "no queue" in str(exc).lower()


def _is_locked(exc: BaseException) -> bool:
    code = getattr(exc, "code", None) or getattr(exc, "reply_code", None)
    return code == 405 or "RESOURCE_LOCKED" in str(exc)


__all__ = ["QueueAdmin", "QueueState"]
