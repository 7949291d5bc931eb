"""Senders: publish one record and return only once the broker confirmed it.

Senders are swappable (like httpx's ``MockTransport``): :class:`OsloSender` publishes
through an oslo.messaging ``Notifier`` and its confirming driver
(:mod:`osreplay.bus.driver`); :class:`NullSender` sends nothing (``--dry-run``); tests use
a fake. A sender either returns, meaning the broker confirmed the message, or raises
:class:`PublishError`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

import oslo_messaging  # type: ignore[import-untyped]

from osreplay.bus.driver import DRIVERS, OUTCOME, check_driver_registered
from osreplay.bus.transport import BusSettings, get_transport, mask_secrets
from osreplay.errors import UsageError
from osreplay.model.notification import Notification
from osreplay.replay.context import replay_context

LOG = logging.getLogger(__name__)

#: Record priority -> Notifier method.
METHODS = {
    "AUDIT": "audit",
    "DEBUG": "debug",
    "INFO": "info",
    "WARN": "warn",
    "ERROR": "error",
    "CRITICAL": "critical",
    "SAMPLE": "sample",
}


class PublishError(Exception):
    """A record the broker did not confirm; the message says why (passwords masked)."""


class Sender(Protocol):
    """Publishes one record; returns once the broker confirmed it, else raises PublishError."""

    def send(self, note: Notification, exchange: str, topic: str) -> None: ...

    def close(self) -> None: ...


class NullSender:
    """Sends nothing (``--dry-run``)."""

    def send(self, note: Notification, exchange: str, topic: str) -> None:
        pass

    def close(self) -> None:
        pass


class OsloSender:
    """Publishes through oslo.messaging Notifiers: one transport per exchange, one Notifier
    per (exchange, topic), one prepared sub-notifier per publisher, all cached."""

    def __init__(
        self, settings: BusSettings, *, driver: str = "messagingv2", retry: int = 3
    ) -> None:
        if driver not in DRIVERS:
            raise UsageError(f"unknown driver {driver!r}: choose {' or '.join(DRIVERS)}")
        self.settings = settings
        self.driver = DRIVERS[driver]
        self.retry = retry
        self._transports: dict[str, Any] = {}
        self._notifiers: dict[tuple[str, str], Any] = {}
        self._methods: dict[tuple[str, str, str | None, str], Callable[..., None]] = {}

    def _method(self, exchange: str, topic: str, publisher: str | None, priority: str) -> Any:
        notifier = self._notifiers.get((exchange, topic))
        if notifier is None:
            transport = self._transports.get(exchange)
            if transport is None:
                transport = self._transports[exchange] = get_transport(
                    self.settings, exchange=exchange
                )
            notifier = oslo_messaging.Notifier(
                transport, driver=self.driver, topics=[topic], retry=self.retry
            )
            self._notifiers[(exchange, topic)] = notifier
        method = getattr(notifier.prepare(publisher_id=publisher), METHODS[priority])
        self._methods[(exchange, topic, publisher, priority)] = method
        return method

    def send(self, note: Notification, exchange: str, topic: str) -> None:
        key = (exchange, topic, note.publisher_id, note.priority)
        method = self._methods.get(key) or self._method(*key)
        ctxt = replay_context(note.ctxt)
        outcome = OUTCOME
        outcome.confirmed = False
        outcome.error = None
        method(ctxt, note.event_type, note.payload)
        if outcome.error is not None:
            error = outcome.error
            LOG.debug("publish to %s/%s failed", exchange, topic, exc_info=error)
            raise PublishError(mask_secrets(str(error) or type(error).__name__))
        if not outcome.confirmed:
            # Checked only now: scanning the installed packages costs more than a send.
            check_driver_registered(self.driver)
            raise PublishError("the Notifier did not run osreplay's driver (see the log, -vv)")

    def close(self) -> None:
        for transport in self._transports.values():
            transport.cleanup()
        self._transports.clear()
        self._notifiers.clear()
        self._methods.clear()


__all__ = ["METHODS", "NullSender", "OsloSender", "PublishError", "Sender"]
