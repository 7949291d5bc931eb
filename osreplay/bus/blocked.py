"""When the broker blocks publishing (a memory or disk alarm), and when it lets go again.

RabbitMQ stops reading from every publishing connection while an alarm lasts and says so
with ``connection.blocked`` (oslo asks for it); a publish then waits, for as long as the
alarm lasts, with nothing on the screen. oslo's rabbit driver logs the notice and nothing
else: :class:`BlockedWatcher` hears those log records and turns them into one fact each way
(however many connections are blocked), so the replay can say why it is waiting.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from osreplay.bus.reconnect import RabbitLogHandler
from osreplay.bus.url import mask_secrets

_BLOCKED = "The broker has blocked the connection"
_UNBLOCKED = "The broker has unblocked the connection"
#: py-amqp passes this instead of the broker's own reason (``low on memory``, …).
_PY_AMQP_REASON = "connection blocked, see broker logs"
ALARM = "a memory or disk alarm"


@dataclass(frozen=True)
class Blocked:
    """The broker blocks publishing; ``reason`` is its own (``low on memory``, ``low on disk``)."""

    reason: str


@dataclass(frozen=True)
class Unblocked:
    """The broker accepts publishing again after ``seconds`` blocked."""

    seconds: float


BlockChange = Blocked | Unblocked


class BlockedWatcher(RabbitLogHandler):
    """Turns oslo's blocked/unblocked log records into :class:`Blocked` and :class:`Unblocked`.

    oslo logs both from a static method that does not say which connection: the watcher
    counts them, so several connections blocked at once make one notice each way.
    """

    def __init__(
        self,
        on_change: Callable[[BlockChange], None],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._on_change = on_change
        self._clock = clock
        self._blocked = 0
        self._since: float | None = None
        self._lock = threading.Lock()

    def attach(self) -> BlockedWatcher:  # type: ignore[override]
        super().attach()
        return self

    def emit(self, record: logging.LogRecord) -> None:
        message = record.msg if isinstance(record.msg, str) else ""
        change: BlockChange | None = None
        with self._lock:
            if message.startswith(_BLOCKED):
                self._blocked += 1
                if self._blocked == 1:
                    self._since = self._clock()
                    reason = (
                        record.args[0] if isinstance(record.args, tuple) and record.args else ""
                    )
                    reason = "" if reason == _PY_AMQP_REASON else mask_secrets(str(reason))
                    change = Blocked(reason or ALARM)
            elif message.startswith(_UNBLOCKED) and self._blocked:
                self._blocked -= 1
                if self._blocked == 0:
                    since, self._since = self._since, None
                    change = Unblocked(self._clock() - since if since is not None else 0.0)
        if change is not None:
            self._on_change(change)


__all__ = ["ALARM", "BlockChange", "Blocked", "BlockedWatcher", "Unblocked"]
