"""Record and replay on a three-node RabbitMQ cluster of the test's own, losing a node.

The cluster (``osr-k1``..``osr-k3@localhost``, ports 5781-5783, its own data folders) is
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
    nodes = rabbitnode.RabbitCluster("osr-k", 5781, 25781)
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
    names the node, e.g. ``<osr-k2@localhost.1701.512.0>``)."""
    rows = cluster.nodes[0].ctl("list_consumers", "--no-table-headers", "queue_name", "channel_pid")
    pids = [line.split("\t")[1] for line in rows.stdout.splitlines() if line.startswith(queue)]
    return next(node for node in cluster.nodes if f"<{node.node}." in pids[0])


def test_recording_through_the_loss_of_a_node_keeps_every_confirmed_message(cluster, tmp_path):
    exchange, topic, pool = unique("nova"), unique("topic"), unique("pool")
    out = tmp_path / "rec.ndjson"
    rec = Recording(
        ["--url", cluster.url("?kombu_reconnect_delay=0"), "--exchange", exchange,
         "--topic", topic, "--pool", pool, "--queue-type", "quorum", "--durable",
         "-o", str(out)]
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
    summary = [line for line in rec.stderr if line.startswith("  reconnected ")]
    assert len(summary) == 1 and summary[0].endswith(
        "the tap queues are durable: what was published meanwhile waited in them"
    ), rec.stderr
