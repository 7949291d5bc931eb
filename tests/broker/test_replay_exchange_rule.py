"""The exchange rule for replay, on the real broker (a private virtual host, as in
test_replay_broker.py): an exchange whose flags differ from the replay's configuration is
seen before anything is sent and replayed into as it is; what the broker still refuses is
a configuration error, said in one line without a resume hint."""

# ruff: noqa: F811  (the fixtures bus and tap are imported from test_replay_broker)

from __future__ import annotations

import pytest
from test_replay_broker import (  # noqa: F401  (fixtures)
    bus,
    inner,
    record,
    replay,
    tap,
    unique,
    write,
)

pytestmark = pytest.mark.broker


def durable_tap(tap, exchange: str):
    """A raw queue bound to ``exchange``, declared durable first (as services with
    amqp_durable_queues = true do)."""
    raw = tap([])
    raw.channel.exchange_declare(exchange, "topic", durable=True, auto_delete=False)
    raw.channel.queue_bind(raw.queue_name, exchange, "#")
    raw.exchanges.append(exchange)
    return raw


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_durable_exchange_is_replayed_into_as_it_is(bus, tap, tmp_path, workers):
    exchange, topic = unique("nova"), unique("topic")
    raw = durable_tap(tap, exchange)
    rows = [record(i, "INFO", exchange, topic) for i in range(5)]
    path = write(tmp_path / "r.ndjson", rows)
    result = replay(path, "--url", bus.transport_url(), "--rate", "0", "--workers", workers)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Replayed 5 of 5 records in ")
    assert result.stderr == (
        f"Exchange {exchange} is durable, not transient as amqp_durable_queues = false says: "
        "replaying into it as it is, as the services that declared it publish\n"
    )
    assert sorted(inner(m)["payload"]["i"] for m in raw.drain(5)) == list(range(5))
    # oslo's Notifier declared its <topic>.info queue as those services do: durable.
    declared = raw.channel.queue_declare(f"{topic}.info", passive=True)
    assert declared.message_count == 5
    raw.channel.queue_delete(f"{topic}.info")


def test_a_refusal_by_the_broker_is_one_line_without_a_resume_hint(bus, tap, tmp_path):
    # The exchange is durable, but the Notifier's <topic>.info queue exists transient:
    # replaying as the exchange's services do is refused for the queue. No resume point
    # can help, so none is offered (standard input: the exchange is seen at its first record).
    exchange, topic = unique("nova"), unique("topic")
    raw = durable_tap(tap, exchange)
    raw.channel.queue_declare(f"{topic}.info", durable=False, auto_delete=False)
    try:
        line = write(tmp_path / "r.ndjson", [record(0, "INFO", exchange, topic)])
        with open(line, encoding="utf-8") as stdin:
            text = stdin.read()
        from click.testing import CliRunner

        from osreplay.cli import main

        result = CliRunner().invoke(
            main,
            ["replay", "--url", bus.transport_url(), "--rate", "0", "--retry", "0", "-"],
            input=text,
            env={"OSREPLAY_TRANSPORT_URL": ""},
            prog_name="osreplay",
        )
    finally:
        raw.channel.queue_delete(f"{topic}.info")
    assert result.exit_code == 2, result.output
    assert result.stdout.startswith("Replayed 0 of 1 record in ")
    lines = result.stderr.splitlines()
    assert lines[0].startswith(
        f"Exchange {exchange} is durable, not transient as amqp_durable_queues = false says"
    )
    assert len(lines) == 2, lines
    assert lines[1].startswith("Error: the broker refused line 1 of <stdin>: ")
    assert "inequivalent arg 'durable' for queue" in lines[1]
    assert lines[1].endswith(
        "(oslo's Notifier declares the <topic>.<priority> queue with its exchange's flags, "
        "and this one has others: replay with another --topic, or delete that queue if "
        "nothing reads it)"
    )
    assert "resume" not in result.stderr
    assert raw.drain(0, timeout=0.5) == []
