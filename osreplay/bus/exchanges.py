"""The exchange rule: osreplay never declares an exchange other than as the services would.

RabbitMQ refuses ``exchange.declare`` with another ``durable`` or ``auto_delete`` than the
exchange has (406 PRECONDITION_FAILED), and oslo's Notifier then logs and drops every
notification: an exchange declared durable by a recorder breaks each service that runs
with oslo's defaults, for as long as the exchange lives (it outlives the recorder).

So, for each exchange osreplay uses:

- an existing exchange is used as it is: :func:`probe` reads its ``durable`` and
  ``auto_delete`` from the broker (a declare with equivalent arguments changes nothing; a
  refused one says what the exchange has) and nothing is changed;
- a missing exchange is declared as the services are configured (:func:`services_flags`:
  ``amqp_durable_queues``, ``rabbit_quorum_queue`` and ``amqp_auto_delete`` from their
  ``--config-file`` or the URL, else oslo's defaults: transient, not auto-delete).

oslo's consumers declare their exchange with the durability of their queue (one option,
``amqp_durable_queues``, for both). A recorder's tap queue may be durable or quorum while
the exchange is transient (RabbitMQ allows that binding): :func:`declare_exchanges_as`
makes oslo's consumers in this process declare the named exchanges with the flags the
broker gave, whatever their queue is.

One rule for every command that binds to an exchange: ``record`` and ``replay``
(:func:`probe`), the stream taps (:func:`use_exchange`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from osreplay.bus.transport import BusSettings, rabbit_options


@dataclass(frozen=True)
class ExchangeFlags:
    """How an exchange is (or is to be) declared."""

    durable: bool = False
    auto_delete: bool = False

    def describe(self) -> str:
        """``durable``, ``transient``, ``transient, auto-delete``."""
        return ("durable" if self.durable else "transient") + (
            ", auto-delete" if self.auto_delete else ""
        )


@dataclass(frozen=True)
class ExchangeState:
    """What :func:`probe` found: the exchange's flags and whether it had to be declared.

    ``kind`` is the exchange type when it is not ``topic`` (oslo publishes notifications to
    topic exchanges only); None otherwise."""

    name: str
    flags: ExchangeFlags
    declared: bool = False
    kind: str | None = None


def services_flags(settings: BusSettings) -> ExchangeFlags:
    """The flags the services' oslo declares exchanges with: ``amqp_durable_queues`` (forced
    by ``rabbit_quorum_queue``) and ``amqp_auto_delete``, from the config files or the URL."""
    if settings.is_memory or settings.bus.driver != "rabbit":
        return ExchangeFlags(durable=False)
    rabbit = rabbit_options(settings)
    durable = bool(rabbit.amqp_durable_queues or rabbit.rabbit_quorum_queue)
    return ExchangeFlags(durable=durable, auto_delete=bool(rabbit.amqp_auto_delete))


_INEQUIVALENT = re.compile(r"inequivalent arg '(\w+)'.*current is '([^']*)'", re.S)


def refused_arg(exc: BaseException) -> tuple[str, str] | None:
    """``(argument, value the broker has)`` of a 406 inequivalent-argument refusal."""
    found = _INEQUIVALENT.search(str(exc))
    return (found.group(1), found.group(2)) if found else None


def probe(channel_for: Any, name: str, wanted: ExchangeFlags) -> ExchangeState:
    """The exchange ``name`` as the broker has it; declared with ``wanted`` when missing.

    ``channel_for(call)`` runs ``call(channel)`` on a fresh channel (a refused declare
    closes it) and returns False when the broker answers 404 NOT_FOUND. Each declare on an
    existing exchange either matches it (and changes nothing) or is refused naming the
    first argument that differs and its current value: at most three declares say all.
    """

    def declare(flags: ExchangeFlags, kind: str = "topic", *, passive: bool = False) -> Any:
        def call(channel: Any) -> None:
            channel.exchange_declare(
                exchange=name,
                type=kind,
                durable=flags.durable,
                auto_delete=flags.auto_delete,
                passive=passive,
            )

        return call

    if not channel_for(declare(wanted, passive=True)):
        channel_for(declare(wanted))  # missing: as the services would declare it
        return ExchangeState(name, wanted, declared=True)
    flags, kind = wanted, "topic"
    for _ in range(3):  # type, durable, auto_delete: RabbitMQ names one at a time
        try:
            channel_for(declare(flags, kind))
            return ExchangeState(name, flags, kind=None if kind == "topic" else kind)
        except Exception as exc:
            refused = refused_arg(exc)
            if refused is None:
                raise
            arg, current = refused
            if arg == "type":
                kind = current
            elif arg == "durable":
                flags = ExchangeFlags(current == "true", flags.auto_delete)
            elif arg == "auto_delete":
                flags = ExchangeFlags(flags.durable, current == "true")
            else:  # internal, or arguments: nothing osreplay would declare differently
                raise
    return ExchangeState(name, flags, kind=None if kind == "topic" else kind)


def probe_all(settings: BusSettings, names: Iterable[str]) -> dict[str, ExchangeState]:
    """:func:`probe` each exchange in ``names`` with the services' flags (a missing one is
    declared as they would); empty on the in-memory transport."""
    from osreplay.bus.queues import QueueAdmin

    names = list(dict.fromkeys(names))
    if settings.is_memory or not names:
        return {}
    wanted = services_flags(settings)
    admin = QueueAdmin.for_settings(settings)
    try:
        return {name: admin.exchange(name, wanted) for name in names}
    finally:
        try:
            admin.close()
        except Exception:  # noqa: BLE001 - closing never fails a run
            pass


def settings_declaring(settings: BusSettings, flags: ExchangeFlags) -> BusSettings:
    """A copy of ``settings`` (a ConfigOpts of its own) whose oslo declares exchanges, and
    the queues its Notifier creates, with ``flags``: as the services that declared an
    exchange with them do."""
    from osreplay.bus.transport import RABBIT_GROUP, build_conf

    conf = build_conf(settings.config_files)
    if not flags.durable:
        conf.set_override("rabbit_quorum_queue", False, group=RABBIT_GROUP)
    conf.set_override("amqp_durable_queues", flags.durable, group=RABBIT_GROUP)
    conf.set_override("amqp_auto_delete", flags.auto_delete, group=RABBIT_GROUP)
    # The URL's query (?amqp_durable_queues=…) would win over the overrides: drop those.
    return replace(settings, url=_without_flags(settings.url), conf=conf)


_FLAG_QUERY = re.compile(
    r"(?<=[?&])(amqp_durable_queues|amqp_auto_delete|rabbit_quorum_queue)=[^&]*&?"
)


def _without_flags(url: str) -> str:
    stripped = _FLAG_QUERY.sub("", url)
    return stripped.rstrip("&?") if stripped != url else url


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


# --- oslo's consumers declare the exchange as the broker has it --------------------------

_DECLARED_AS: dict[str, ExchangeFlags] = {}
_LOCK = threading.Lock()


@contextmanager
def declare_exchanges_as(flags: Mapping[str, ExchangeFlags]) -> Iterator[None]:
    """Within the block, oslo's rabbit consumers in this process declare each exchange in
    ``flags`` with those flags (not with their queue's durability)."""
    _patch_oslo_consumer()
    with _LOCK:
        saved = {name: _DECLARED_AS.get(name) for name in flags}
        _DECLARED_AS.update(flags)
    try:
        yield
    finally:
        with _LOCK:
            for name, previous in saved.items():
                if previous is None:
                    _DECLARED_AS.pop(name, None)
                else:
                    _DECLARED_AS[name] = previous


def _patch_oslo_consumer() -> None:
    import kombu.entity
    from oslo_messaging._drivers import impl_rabbit  # type: ignore[import-untyped]

    consumer = impl_rabbit.Consumer
    exchange: Any = kombu.entity.Exchange  # kombu has no annotations
    if getattr(consumer, "_osreplay_exchange_as_declared", False):
        return
    original = consumer.__init__

    def init(self: Any, exchange_name: str, *args: Any, **kwargs: Any) -> None:
        original(self, exchange_name, *args, **kwargs)
        with _LOCK:
            flags = _DECLARED_AS.get(exchange_name)
        if flags is not None:
            self.exchange = exchange(
                name=exchange_name,
                type=self.type,
                durable=flags.durable,
                auto_delete=flags.auto_delete,
            )

    consumer.__init__ = init
    consumer._osreplay_exchange_as_declared = True


__all__ = [
    "ExchangeFlags",
    "ExchangeState",
    "close_quietly",
    "declare_exchanges_as",
    "is_not_found",
    "probe",
    "probe_all",
    "refused_arg",
    "services_flags",
    "settings_declaring",
    "use_exchange",
]
