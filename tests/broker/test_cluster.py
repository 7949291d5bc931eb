"""Record and replay on a three-node RabbitMQ cluster of the test's own, losing a node.

The cluster (``osr-<session>-k1``..``k3@localhost``, free ports, its own data folders) is
started once for the module and removed at the end; the shared broker is never touched.
The publisher is the test's own kombu producer with publisher confirms, so the test knows
exactly which messages the broker took.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import uuid

import pytest
import rabbitnode
from test_record_broker import Recording, line_count, read_records, unique, wait_for

pytestmark = [
    pytest.mark.broker,
    # kombu may leave a socket the node loss reset to the GC.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


@pytest.fixture(scope="module")
def cluster():
    if not rabbitnode.available() or os.geteuid() != 0:
        message = "needs rabbitmq-server and root to start RabbitMQ nodes of its own"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    nodes = rabbitnode.RabbitCluster("k")
    nodes.start()
    try:
        yield nodes
    finally:
        nodes.stop()


def envelope(event_type: str, n: int) -> str:
    message = {
        "message_id": str(uuid.uuid4()),
        "publisher_id": "compute.h1",
        "event_type": event_type,
        "priority": "INFO",
        "payload": {"n": n},
        "timestamp": "2026-12-01 13:00:00.000001",
    }
    return json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(message)})


class ConfirmingPublisher:
    """Publishes to ``exchange`` through ``nodes`` with confirms; keeps what was confirmed."""

    def __init__(self, nodes: list[rabbitnode.RabbitNode], exchange: str, key: str) -> None:
        import kombu

        urls = ";".join(f"amqp://guest:guest@127.0.0.1:{node.port}//" for node in nodes)
        self.connection = kombu.Connection(urls, transport_options={"confirm_publish": True})
        self.exchange = kombu.Exchange(exchange, type="topic", durable=True)
        self.key = key
        self.confirmed: list[int] = []
        self.refused: list[int] = []

    def send(self, n: int) -> None:
        try:
            producer = self.connection.Producer()
            producer.publish(
                envelope("test.cluster", n),
                exchange=self.exchange,
                routing_key=self.key,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                declare=[self.exchange],
            )
            self.confirmed.append(n)
        except Exception:  # noqa: BLE001 - not confirmed: it may or may not be in the file
            self.refused.append(n)
            self.connection.ensure_connection(max_retries=5)

    def close(self) -> None:
        self.connection.release()


def consumer_node(cluster: rabbitnode.RabbitCluster, queue: str) -> rabbitnode.RabbitNode:
    """The node that holds the connection consuming from ``queue`` (its channel's pid
    names the node, e.g. ``<osr-<session>-k2@localhost.1701.512.0>``)."""
    rows = cluster.nodes[0].ctl("list_consumers", "--no-table-headers", "queue_name", "channel_pid")
    pids = [line.split("\t")[1] for line in rows.stdout.splitlines() if line.startswith(queue)]
    return next(node for node in cluster.nodes if f"<{node.node}." in pids[0])


def test_recording_through_the_loss_of_a_node_keeps_every_confirmed_message(cluster, tmp_path):
    exchange, topic, pool = unique("nova"), unique("topic"), unique("pool")
    out = tmp_path / "rec.ndjson"
    rec = Recording(
        # Configured as the services that declare the exchange durable (the exchange rule).
        ["--url", cluster.url("?kombu_reconnect_delay=0&amqp_durable_queues=true"),
         "--exchange", exchange, "--topic", topic, "--pool", pool, "--queue-type", "quorum",
         "--durable", "-o", str(out)]
    )  # fmt: skip
    rec.wait_ready()
    lost = consumer_node(cluster, f"{pool}.{exchange}")
    others = [node for node in cluster.nodes if node is not lost]
    publisher = ConfirmingPublisher(others, exchange, f"{topic}.info")
    started, done = threading.Event(), threading.Event()

    def publish() -> None:
        n = 0
        while not done.is_set():
            publisher.send(n)
            n += 1
            if n == 100:
                started.set()

    thread = threading.Thread(target=publish)
    thread.start()
    try:
        assert started.wait(30)
        lost.stop_app()  # mid-stream, under the recorder's connection
        wait_for(lambda: any(line.startswith("Reconnected to ") for line in rec.stderr), 60)
        during = len(publisher.confirmed)
        lost.start_app()
        wait_for(lambda: len(publisher.confirmed) > during + 100, 60)
        done.set()
        thread.join(60)
        wait_for(lambda: line_count(out) >= len(publisher.confirmed), 60)
    finally:
        done.set()
        thread.join(60)
        publisher.close()
    rec.proc.send_signal(signal.SIGINT)
    code, _ = rec.finish()
    assert code == 0, rec.stderr
    written = [r["payload"]["n"] for r in read_records(out)]
    assert len(written) == len(set(written))  # none twice
    assert set(publisher.confirmed) <= set(written), rec.stderr
    assert set(written) <= set(publisher.confirmed) | set(publisher.refused)
    print(f"{len(publisher.confirmed)} confirmed, {len(publisher.refused)} refused")
    back = next(line for line in rec.stderr if line.startswith("Reconnected to "))
    query = "/?kombu_reconnect_delay=0&amqp_durable_queues=true"
    took_over = tuple(f"{query} (node 127.0.0.1:{n.port})" for n in others)
    assert back.endswith(took_over), rec.stderr
    summary = [line for line in rec.stderr if line.startswith("  reconnected ")]
    assert len(summary) == 1 and summary[0].endswith(
        "the tap queues are durable: what was published meanwhile waited in them"
    ), rec.stderr


def replay_rows(exchange: str, topic: str, count: int) -> list[dict]:
    return [
        {
            "event_type": "compute.instance.update",
            "publisher_id": "nova-compute:h1",
            "priority": "INFO",
            "payload": {"i": i},
            "timestamp": f"2026-12-01 13:00:00.{i:06d}",
            "exchange": exchange,
            "topic": topic,
        }
        for i in range(count)
    ]


class QuorumTap:
    """A quorum queue of the test's own on ``exchange`` (transient, as oslo declares it by
    default): it survives the loss of any one node, so it holds what the broker confirmed.
    Declared and drained on connections of their own, so none is open while replaying."""

    def __init__(self, nodes: list[rabbitnode.RabbitNode], exchange: str, topic: str) -> None:
        import kombu

        self.urls = ";".join(f"amqp://guest:guest@127.0.0.1:{node.port}//" for node in nodes)
        self.queue = kombu.Queue(
            unique("tap"),
            kombu.Exchange(exchange, type="topic", durable=False),
            routing_key=f"{topic}.info",
            durable=True,
            queue_arguments={"x-queue-type": "quorum"},
        )
        with kombu.Connection(self.urls) as connection:
            self.queue(connection.channel()).declare()

    def drain(self) -> list[int]:
        import kombu

        got = []
        with kombu.Connection(self.urls) as connection:
            queue = self.queue(connection.channel())
            while (message := queue.get(no_ack=True)) is not None:
                body = json.loads(json.loads(message.body)["oslo.message"])
                got.append(body["payload"]["i"])
        return got


def test_replay_through_a_cluster_with_its_first_node_down_sends_everything(cluster, tmp_path):
    from click.testing import CliRunner

    from osreplay.cli import main

    exchange, topic = unique("nova"), unique("topic")
    tap = QuorumTap(cluster.nodes[1:], exchange, topic)
    path = tmp_path / "r.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in replay_rows(exchange, topic, 50)))
    cluster.nodes[0].stop_app()
    try:
        result = CliRunner().invoke(
            main,
            ["replay", str(path), "--url", cluster.url(), "--rate", "0"],
            env={"OSREPLAY_TRANSPORT_URL": ""},
        )
    finally:
        cluster.nodes[0].start_app()
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Replayed 50 of 50 records")
    assert sorted(tap.drain()) == list(range(50))


def test_replay_losing_its_node_mid_stream_counts_every_confirm_exactly(cluster, tmp_path):
    from osreplay.bus.transport import resolve
    from osreplay.replay.pacing import RateSchedule
    from osreplay.replay.replayer import Replayer
    from osreplay.replay.sender import OsloSender
    from osreplay.replay.sources import FileSource

    exchange, topic = unique("nova"), unique("topic")
    tap = QuorumTap(cluster.nodes, exchange, topic)
    path = tmp_path / "r.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in replay_rows(exchange, topic, 200)))
    settings = resolve(url=cluster.url("?kombu_reconnect_delay=0"), environ={})
    sender = OsloSender(settings, retry=3)
    lost: list[rabbitnode.RabbitNode] = []

    def stop_the_senders_node(entry, *args):
        if entry.lineno == 50:  # the sender's connections are the only clients now
            ports = cluster.nodes[0].ctl("list_connections", "--no-table-headers", "port")
            lost.append(next(n for n in cluster.nodes if str(n.port) in ports.stdout.split()))
            lost[0].stop_app()

    source = FileSource([str(path)])
    source.check()
    try:
        summary = Replayer(sender, RateSchedule(0), observer=stop_the_senders_node).run(source)
    finally:
        sender.close()
        for node in lost:
            node.start_app()
    got = tap.drain()
    if summary.stop is None:
        assert (summary.sent, summary.failed) == (200, 0)
    else:  # the first record not known to be confirmed is the one to resume from
        assert summary.stop.kind == "failed" and summary.stop.lineno == summary.sent + 1
    assert set(range(summary.sent)) <= set(got)  # every confirmed record arrived
    print(f"sent {summary.sent}, stop {summary.stop}, {len(got)} in the tap")
