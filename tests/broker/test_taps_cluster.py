"""A stream tap on a three-node RabbitMQ cluster of the test's own, losing the stream's
leader while the services publish: the window read afterwards holds every confirmed
message, once.

Node names and ports are chosen at run time (free ports, a uuid in the names); the nodes
are stopped and their folders removed at the end, whatever happened. The shared broker is
never touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid

import kombu
import pytest
import rabbitnode
from test_cluster import ConfirmingPublisher
from test_record_broker import ROOT, read_records, wait_for

pytestmark = [
    pytest.mark.broker,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


@pytest.fixture
def cluster():
    if not rabbitnode.available() or os.geteuid() != 0:
        message = "needs rabbitmq-server and root to start RabbitMQ nodes of its own"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    # Named after the session, on ports chosen free at run time (rabbitnode.py).
    nodes = rabbitnode.RabbitCluster("tap")
    nodes.start()
    try:
        yield nodes
    finally:
        nodes.stop()


def osreplay(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "osreplay", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def stream_leader(cluster: rabbitnode.RabbitCluster, queue: str) -> rabbitnode.RabbitNode:
    rows = cluster.nodes[0].ctl("list_queues", "--no-table-headers", "name", "leader", "members")
    row = next(line for line in rows.stdout.splitlines() if line.startswith(queue + "\t"))
    print("stream:", row)
    _, leader, members = row.split("\t", 2)
    assert all(node.node in members for node in cluster.nodes), row  # replicated on all
    return next(node for node in cluster.nodes if node.node == leader.strip())


def test_a_window_read_after_losing_the_streams_leader_is_complete(cluster, tmp_path):
    name, exchange, topic = f"t{uuid.uuid4().hex[:8]}", f"x{uuid.uuid4().hex[:8]}", "notifications"
    url = cluster.url()
    created = osreplay("tap", "create", name, "--url", url, "--exchange", exchange)
    assert created.returncode == 0, created.stderr
    lost = stream_leader(cluster, f"osreplay.tap.{name}")
    others = [node for node in cluster.nodes if node is not lost]
    publisher = ConfirmingPublisher(others, exchange, f"{topic}.info")
    # The services' exchange as oslo's default declares it (transient), not durable.
    publisher.exchange = kombu.Exchange(exchange, type="topic", durable=False)
    started, done = threading.Event(), threading.Event()

    def publish() -> None:
        n = 0
        while not done.is_set():
            publisher.send(n)
            n += 1
            if n == 200:
                started.set()

    thread = threading.Thread(target=publish)
    thread.start()
    try:
        assert started.wait(60)
        lost.stop_app()  # the stream's leader, while messages keep coming
        during = len(publisher.confirmed)
        wait_for(lambda: len(publisher.confirmed) > during + 200, 120)
    finally:
        done.set()
        thread.join(60)
        publisher.close()
    # Read with the leader still down: the other replicas hold the window.
    out = tmp_path / "window.ndjson"
    read = osreplay("record", "--url", url, "--from-tap", name, "--since", "first", "-o", str(out))
    assert read.returncode == 0, read.stderr
    written = [record["payload"]["n"] for record in read_records(out)]
    assert len(written) == len(set(written))  # none twice
    assert set(publisher.confirmed) <= set(written), read.stderr  # none missing
    assert set(written) <= set(publisher.confirmed) | set(publisher.refused)
    assert written == sorted(written)  # in the order published
    print(f"{len(publisher.confirmed)} confirmed, {len(publisher.refused)} refused; {read.stderr}")
    lost.start_app()
    deleted = osreplay("tap", "delete", name, "--url", url)
    assert deleted.returncode == 0, deleted.stderr
