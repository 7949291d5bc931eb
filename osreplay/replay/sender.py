"""Senders: publish one record and return only once the broker confirmed it.

Senders are swappable (like httpx's ``MockTransport``): :class:`OsloSender` publishes
through an oslo.messaging ``Notifier`` and its confirming driver
(:mod:`osreplay.bus.driver`); :class:`NullSender` sends nothing (``--dry-run``); tests use
a fake. A sender either returns, meaning the broker confirmed the message, or raises
:class:`PublishError`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import oslo_messaging  # type: ignore[import-untyped]

from osreplay.bus.driver import DRIVERS, OUTCOME, check_driver_registered
from osreplay.bus.exchanges import (
    ExchangeFlags,
    ExchangeState,
    probe_all,
    refused_arg,
    services_flags,
    settings_declaring,
)
from osreplay.bus.transport import BusSettings, get_transport, mask_secrets, oslo_reason
from osreplay.bus.url import error_text
from osreplay.errors import OsreplayError, UsageError
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


#: Seconds closing the connections may take before it is abandoned (see OsloSender.close),
#: and after a stop (Ctrl-C, SIGTERM): a stopped replay is back within two seconds.
CLOSE_TIMEOUT = 1.5
STOPPED_CLOSE_TIMEOUT = 0.25


def run_bounded(call: Callable[[], object], timeout: float, name: str) -> bool:
    """Run ``call`` in a daemon thread; True when it ended within ``timeout`` seconds.

    A Ctrl-C meanwhile abandons it at once. An exception it raises is logged, not raised:
    this is for closing, which never fails a run."""
    import threading

    def target() -> None:
        try:
            call()
        except Exception:  # noqa: BLE001 - closing never fails a run
            LOG.debug("%s failed", name, exc_info=True)

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    try:
        thread.join(timeout)
    except KeyboardInterrupt:  # a second Ctrl-C (or SIGTERM): leave it
        return False
    if thread.is_alive():
        LOG.info("%s did not end within %s s: abandoned", name, timeout)
        return False
    return True


class PublishError(Exception):
    """A record the broker did not confirm; the message says why (passwords masked)."""


class Refused(PublishError):
    """The broker refused the publish for the way it was configured (an exchange of another
    type, a queue declared with other flags, no permission): sending again, or resuming,
    would be refused the same way. The message says which option to change."""


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
        self,
        settings: BusSettings,
        *,
        driver: str = "messagingv2",
        retry: int = 3,
        exchanges: Mapping[str, ExchangeState] | None = None,
        on_exchange: Callable[[ExchangeState, ExchangeFlags], None] | None = None,
    ) -> None:
        """``exchanges``: what the caller already found out about them (osreplay.bus.exchanges);
        any other one is looked at before its first record. ``on_exchange`` hears each one
        found to differ from the services' configuration (then replayed into as it is)."""
        if driver not in DRIVERS:
            raise UsageError(f"unknown driver {driver!r}: choose {' or '.join(DRIVERS)}")
        self.settings = settings
        self.driver = DRIVERS[driver]
        self.retry = retry
        self.exchanges: dict[str, ExchangeState] = dict(exchanges or {})
        self._on_exchange = on_exchange
        self._wanted = services_flags(settings)
        self._declaring: dict[ExchangeFlags, BusSettings] = {self._wanted: settings}
        self._transports: dict[str, Any] = {}
        #: How long :meth:`close` may take (:data:`STOPPED_CLOSE_TIMEOUT` after a stop).
        self.close_timeout = CLOSE_TIMEOUT
        self._notifiers: dict[tuple[str, str], Any] = {}
        self._methods: dict[tuple[str, str, str | None, str], Callable[..., None]] = {}

    def _method(self, exchange: str, topic: str, publisher: str | None, priority: str) -> Any:
        notifier = self._notifiers.get((exchange, topic))
        if notifier is None:
            transport = self._transports.get(exchange)
            if transport is None:
                settings = self._settings_for(exchange)
                transport = self._transports[exchange] = get_transport(settings, exchange=exchange)
            notifier = oslo_messaging.Notifier(
                transport, driver=self.driver, topics=[topic], retry=self.retry
            )
            self._notifiers[(exchange, topic)] = notifier
        method = getattr(notifier.prepare(publisher_id=publisher), METHODS[priority])
        self._methods[(exchange, topic, publisher, priority)] = method
        return method

    def _settings_for(self, exchange: str) -> BusSettings:
        """The settings whose oslo declares ``exchange`` as the broker has it (the exchange
        rule: osreplay.bus.exchanges); Refused when nothing can be published into it."""
        state = self.exchanges.get(exchange)
        if state is None and not self.settings.is_memory:
            try:
                state = probe_all(self.settings, [exchange])[exchange]
            except OsreplayError as exc:
                raise PublishError(str(exc)) from None
            except Exception as exc:
                refused = refusal(exc)
                if refused:
                    raise Refused(refused) from None
                raise PublishError(error_text(exc)) from None
            self.exchanges[exchange] = state
            if state.flags != self._wanted and self._on_exchange is not None:
                self._on_exchange(state, self._wanted)
        if state is None:
            return self.settings
        if state.kind is not None:
            raise Refused(not_topic(state))
        settings = self._declaring.get(state.flags)
        if settings is None:
            settings = self._declaring[state.flags] = settings_declaring(self.settings, state.flags)
        return settings

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
            refused = refusal(error)
            if refused:
                raise Refused(refused)
            raise PublishError(mask_secrets(str(error) or type(error).__name__))
        if not outcome.confirmed:
            # Checked only now: scanning the installed packages costs more than a send.
            check_driver_registered(self.driver)
            raise PublishError("the Notifier did not run osreplay's driver (see the log, -vv)")

    def close(self) -> None:
        """Close the connections, for at most :attr:`close_timeout` seconds.

        A connection the broker blocks (a memory or disk alarm) cannot be closed: the
        broker reads nothing from it, the close handshake included, until the alarm
        clears. Closing is then abandoned (the process's exit closes the sockets), as it
        is at a second Ctrl-C: a stopped replay ends within seconds with its summary.
        """
        transports = list(self._transports.values())
        self._transports.clear()
        self._notifiers.clear()
        self._methods.clear()
        if transports:
            run_bounded(lambda: [t.cleanup() for t in transports], self.close_timeout, "closing")


def not_topic(state: ExchangeState) -> str:
    return (
        f"exchange {state.name} is a {state.kind} exchange: oslo publishes notifications to "
        "topic exchanges only; replay into another one with --exchange NAME"
    )


#: AMQP replies that say the broker's configuration refuses this publish, whatever the try.
_REFUSALS = {403: "ACCESS_REFUSED", 406: "PRECONDITION_FAILED", 530: "NOT_ALLOWED"}


def refusal(error: BaseException) -> str | None:
    """The one line to say when ``error`` is the broker refusing the configuration (a 403,
    406 or 530 reply, also inside oslo's wrapping), with what to change; else None."""
    text = oslo_reason(error)
    code = getattr(error, "code", None) or getattr(error, "reply_code", None)
    if code not in _REFUSALS and not any(name in text for name in _REFUSALS.values()):
        return None
    arg = refused_arg(error)
    if arg is not None and arg[0] in ("durable", "auto_delete") and "for queue" in text:
        # oslo declares the <topic>.<priority> queue with its exchange's flags: this one
        # was declared otherwise, and no option makes one declare fit both.
        return (
            f"{text} (oslo's Notifier declares the <topic>.<priority> queue with its "
            "exchange's flags, and this one has others: replay with another --topic, or "
            "delete that queue if nothing reads it)"
        )
    return text


__all__ = [
    "METHODS",
    "NullSender",
    "OsloSender",
    "PublishError",
    "Refused",
    "Sender",
    "not_topic",
    "refusal",
    "run_bounded",
    "CLOSE_TIMEOUT",
    "STOPPED_CLOSE_TIMEOUT",
]
