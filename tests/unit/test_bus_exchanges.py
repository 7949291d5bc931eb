"""The exchange rule and the blocked-connection notices, without a broker."""

from __future__ import annotations

import logging

import pytest

from osreplay.bus.blocked import ALARM, Blocked, BlockedWatcher, Unblocked
from osreplay.bus.exchanges import ExchangeFlags, ExchangeState, probe, refused_arg
from osreplay.bus.exchanges import _without_flags as without_flags


class Refusal(Exception):
    pass


class FakeBroker:
    """Answers exchange declares as RabbitMQ does: type, durable, auto_delete in that order."""

    def __init__(self, existing: dict[str, tuple[str, bool, bool]]) -> None:
        self.existing = existing
        self.declared: list[tuple[str, str, bool, bool, bool]] = []

    def channel_for(self, call) -> bool:
        try:
            call(self)
        except KeyError:
            return False
        return True

    def exchange_declare(self, *, exchange, type, durable, auto_delete, passive):  # noqa: A002
        self.declared.append((exchange, type, durable, auto_delete, passive))
        if exchange not in self.existing:
            if passive:
                raise KeyError(exchange)
            self.existing[exchange] = (type, durable, auto_delete)
            return
        if passive:
            return
        for arg, wanted, current in zip(
            ("type", "durable", "auto_delete"), (type, durable, auto_delete),
            self.existing[exchange], strict=True,
        ):  # fmt: skip
            if wanted != current:
                text = lambda v: str(v).lower() if isinstance(v, bool) else v  # noqa: E731
                raise Refusal(
                    f"Exchange.declare: (406) PRECONDITION_FAILED - inequivalent arg '{arg}' "
                    f"for exchange '{exchange}' in vhost '/': received '{text(wanted)}' but "
                    f"current is '{text(current)}'"
                )


TRANSIENT = ExchangeFlags(durable=False)


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        (("topic", True, False), ExchangeState("x", ExchangeFlags(True))),
        (("topic", False, False), ExchangeState("x", TRANSIENT)),
        (("topic", True, True), ExchangeState("x", ExchangeFlags(True, True))),
        (("direct", True, False), ExchangeState("x", ExchangeFlags(True), kind="direct")),
    ],
)
def test_an_existing_exchange_is_read_and_never_changed(existing, expected):
    broker = FakeBroker({"x": existing})
    assert probe(broker.channel_for, "x", TRANSIENT) == expected
    assert broker.existing["x"] == existing


def test_a_missing_exchange_is_declared_as_the_services_would():
    broker = FakeBroker({})
    state = probe(broker.channel_for, "x", TRANSIENT)
    assert state == ExchangeState("x", TRANSIENT, declared=True)
    assert broker.existing["x"] == ("topic", False, False)


def test_refused_arg_reads_the_brokers_value():
    error = Refusal(
        "Exchange.declare: (406) PRECONDITION_FAILED - inequivalent arg 'durable' for "
        "exchange 'nova' in vhost '/': received 'false' but current is 'true'"
    )
    assert refused_arg(error) == ("durable", "true")
    assert refused_arg(Refusal("connection reset")) is None


def test_the_urls_flags_give_way_to_the_exchanges():
    assert without_flags("rabbit://h/?amqp_durable_queues=true") == "rabbit://h/"
    assert without_flags("rabbit://h/?a=1&amqp_durable_queues=true&b=2") == "rabbit://h/?a=1&b=2"
    assert without_flags("rabbit://h/?rabbit_quorum_queue=1") == "rabbit://h/"
    assert without_flags("rabbit://h/?a=1") == "rabbit://h/?a=1"


def test_blocked_is_said_once_for_all_connections_and_unblocked_when_the_last_is():
    heard: list[object] = []
    now = [100.0]
    watcher = BlockedWatcher(heard.append, clock=lambda: now[0]).attach()
    log = logging.getLogger("oslo.messaging._drivers.impl_rabbit")
    try:
        log.error(
            "The broker has blocked the connection: %s", "connection blocked, see broker logs"
        )
        log.error("The broker has blocked the connection: %s", "low on memory")
        now[0] = 112.5
        log.info("The broker has unblocked the connection")
        assert heard == [Blocked(ALARM)]
        log.info("The broker has unblocked the connection")
        log.info("The broker has unblocked the connection")  # more than were blocked
    finally:
        watcher.detach()
    assert heard == [Blocked(ALARM), Unblocked(12.5)]
