"""`osreplay record` across a broker restart, on a RabbitMQ node of the test's own.

The shared broker is never restarted: this module starts a node of its own
(``osr-<session>-a1@localhost`` on a free port, its own data folder: tests/broker/
rabbitnode.py), restarts it mid-recording and removes it at the end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import rabbitnode
from test_record_broker import Recording, line_count, read_records, unique, wait_for

pytestmark = [
    pytest.mark.broker,
    # The test's own Notifier (kombu) may leave a socket the restart reset to the GC.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


class Own:
    """The module's node, once ``own_broker`` has started it."""

    node: rabbitnode.RabbitNode

    @property
    def url(self) -> str:
        return self.node.url()

    @property
    def port(self) -> int:
        return self.node.port


OWN = Own()


def ctl(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["rabbitmqctl", "-q", "-n", OWN.node.node, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def await_startup(timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while ctl("await_startup", timeout=30).returncode != 0:  # fails at once until Erlang is up
        if time.monotonic() > deadline:
            raise AssertionError(f"RabbitMQ node {OWN.node.node} did not start")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def own_broker():
    """A RabbitMQ node of this test's own, on its own ports and data folder."""
    if not rabbitnode.available() or os.geteuid() != 0:
        message = "needs rabbitmq-server and root to start a RabbitMQ node of its own"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    OWN.node = rabbitnode.RabbitNode("a1")
    try:
        OWN.node.start()
        yield OWN.url
    finally:
        OWN.node.stop()


def restart() -> None:
    """Restart the RabbitMQ application: transient queues and exchanges are dropped."""
    assert ctl("stop_app").returncode == 0
    assert ctl("start_app").returncode == 0
    await_startup()


def notifier(exchange: str, topic: str, *, durable: bool):
    import oslo_messaging

    from osreplay.bus.transport import get_transport, resolve

    url = OWN.url + ("?amqp_durable_queues=true" if durable else "")
    transport = get_transport(resolve(url=url), exchange=exchange)
    return transport, oslo_messaging.Notifier(
        transport, publisher_id="compute.h1", driver="messagingv2", topics=[topic], retry=5
    )


def record_across_a_restart(tmp_path: Path, *args: str, durable: bool) -> tuple[Recording, Path]:
    exchange, topic, pool = unique("nova"), unique("topic"), unique("pool")
    out = tmp_path / "rec.ndjson"
    # The recorder is configured as the services are (the exchange rule: a missing exchange
    # is declared as they would, durable only when they run with amqp_durable_queues).
    query = "?kombu_reconnect_delay=0" + ("&amqp_durable_queues=true" if durable else "")
    rec = Recording(
        ["--url", OWN.url + query, "--exchange", exchange, "--topic", topic,
         "--pool", pool, "-o", str(out), *args]
    )  # fmt: skip
    rec.wait_ready()
    transport, send = notifier(exchange, topic, durable=durable)
    for i in range(10):
        send.info({}, "test.before", {"n": i})
    wait_for(lambda: line_count(out) >= 10)
    restart()
    # Published at once, before osreplay has reconnected and declared its queue again.
    for i in range(10):
        send.info({}, "test.after", {"n": i})
    wait_for(lambda: any(line.startswith("Reconnected to ") for line in rec.stderr), timeout=60)
    for i in range(10):
        send.info({}, "test.later", {"n": i})
    wait_for(lambda: sum(1 for _ in read_records(out) if _["event_type"] == "test.later") == 10)
    transport.cleanup()
    rec.proc.send_signal(signal.SIGINT)
    code, _ = rec.finish()
    assert code == 0, rec.stderr
    return rec, out


def test_a_broker_restart_says_what_may_be_missing_and_when(own_broker, tmp_path):
    rec, out = record_across_a_restart(tmp_path, durable=False)
    back = next(i for i, line in enumerate(rec.stderr) if line.startswith("Reconnected to "))
    assert rec.stderr[back].startswith(f"Reconnected to rabbit://guest:***@127.0.0.1:{OWN.port}/")
    notice = rec.stderr[back + 1]
    assert notice.startswith("  messages published while the tap was away (")
    assert notice.endswith(
        "may be missing: a broker restart drops non-durable tap queues; record with --durable "
        "to keep them"
    )
    summary = [line for line in rec.stderr if line.startswith("  reconnected ")]
    assert len(summary) == 1 and summary[0].startswith(
        "  reconnected 1 time: messages published while the tap was away may be missing ("
    )
    assert summary[0].endswith(" UTC); record with --durable to keep them")
    records = read_records(out)
    assert len(records) == len({r["message_id"] for r in records})  # nothing written twice


def test_with_durable_a_broker_restart_loses_nothing(own_broker, tmp_path):
    rec, out = record_across_a_restart(tmp_path, "--durable", durable=True)
    records = read_records(out)
    got = sorted((r["event_type"], r["payload"]["n"]) for r in records)
    want = sorted(
        (kind, n) for kind in ("test.before", "test.after", "test.later") for n in range(10)
    )
    assert got == want, rec.stderr
    assert any("its queues are durable" in line for line in rec.stderr)
    assert any(line.startswith("  deleted 1 tap queue") for line in rec.stderr)


def test_quorum_tap_queues_are_quorum_queues_and_record(own_broker, tmp_path):
    exchange, topic, pool = unique("nova"), unique("topic"), unique("pool")
    out = tmp_path / "rec.ndjson"
    rec = Recording(
        ["--url", OWN.url + "?amqp_durable_queues=true", "--exchange", exchange,
         "--topic", topic, "--pool", pool, "--queue-type", "quorum", "--count", "5",
         "-o", str(out)]
    )  # fmt: skip
    rec.wait_ready()
    listed = ctl("list_queues", "name", "type", "durable").stdout.splitlines()
    assert f"{pool}.{exchange}\tquorum\ttrue" in listed
    transport, send = notifier(exchange, topic, durable=True)
    for i in range(5):
        send.info({}, "test.event", {"n": i})
    transport.cleanup()
    assert rec.finish()[0] == 0, rec.stderr
    assert sorted(r["payload"]["n"] for r in read_records(out)) == list(range(5))
    assert not any(
        line.startswith(f"{pool}.") for line in ctl("list_queues", "name").stdout.splitlines()
    )
