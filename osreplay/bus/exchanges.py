"""The services' exchanges, used as they are and never changed.

RabbitMQ refuses ``exchange.declare`` with another ``durable`` or ``auto_delete`` than the
exchange has (406 PRECONDITION_FAILED), and oslo's Notifier then drops every notification
it sends there. So osreplay never declares a service's exchange other than as the services
would: an existing exchange is used as it is (a passive declare, which changes nothing),
and a missing one is declared exactly as oslo's rabbit driver declares it for the services
configured by the run's ``--config-file`` or URL: ``durable`` when
``[oslo_messaging_rabbit] amqp_durable_queues`` or ``rabbit_quorum_queue`` is true (oslo's
default: transient), ``auto_delete`` as ``amqp_auto_delete``.

One rule for every command that binds to an exchange (the stream taps today); written to
be unified with ``record``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from osreplay.bus.transport import BusSettings, rabbit_options


@dataclass(frozen=True)
class ExchangeFlags:
    """How oslo's rabbit driver declares a notification exchange for these services."""

    durable: bool = False
    auto_delete: bool = False


def services_flags(settings: BusSettings) -> ExchangeFlags:
    """The flags oslo would use with the run's configuration (file and URL query)."""
    if settings.is_memory or settings.bus.driver != "rabbit":
        return ExchangeFlags()
    rabbit = rabbit_options(settings)
    return ExchangeFlags(
        durable=bool(rabbit.amqp_durable_queues or rabbit.rabbit_quorum_queue),
        auto_delete=bool(rabbit.amqp_auto_delete),
    )


def use_exchange(connection: Any, name: str, flags: ExchangeFlags) -> bool:
    """Make sure topic exchange ``name`` exists without changing it; True when it existed.

    ``connection`` is a kombu connection; each declare runs on a channel of its own, as a
    passive declare of a missing exchange closes its channel with 404.
    """
    channel = connection.channel()
    try:
        channel.exchange_declare(exchange=name, type="topic", passive=True)
        return True
    except Exception as exc:
        if not is_not_found(exc):
            raise
    finally:
        close_quietly(channel)
    channel = connection.channel()
    try:
        channel.exchange_declare(
            exchange=name, type="topic", durable=flags.durable, auto_delete=flags.auto_delete
        )
    finally:
        close_quietly(channel)
    return False


def is_not_found(exc: BaseException) -> bool:
    code = getattr(exc, "code", None) or getattr(exc, "reply_code", None)
    return code == 404 or "NOT_FOUND" in str(exc)


def close_quietly(channel: Any) -> None:
    try:
        channel.close()
    except Exception:  # noqa: BLE001 - a channel closed by a 404 may refuse to close again
        pass


__all__ = ["ExchangeFlags", "close_quietly", "is_not_found", "services_flags", "use_exchange"]
