"""Clusters: quorum tap queues chosen by the service's own config file, as oslo chooses them.

(Connection checks and the queue admin across several hosts are in
tests/acceptance/test_bus_cli.py and tests/broker/test_cluster.py.)
"""

from __future__ import annotations

import io
import logging

import pytest

import osreplay.replay.sender  # noqa: F401  # oslo imported now, while osreplay silences eventlet
from osreplay.bus.transport import quorum_queues, resolve
from osreplay.model.writer import RecordingWriter
from osreplay.tap.options import RecordOptions
from osreplay.tap.recorder import Recorder

CLUSTER = "rabbit://u:S3cretPW@h1:5781,u:S3cretPW@h2:5782,u:S3cretPW@h3:5783/"


def conf_file(tmp_path, rabbit: str = "") -> str:
    path = tmp_path / "nova.conf"
    path.write_text(
        f"[oslo_messaging_notifications]\ntransport_url = {CLUSTER}\n"
        f"[oslo_messaging_rabbit]\n{rabbit}"
    )
    return str(path)


def test_a_config_file_gives_every_host_of_the_cluster(tmp_path):
    settings = resolve(config_files=[conf_file(tmp_path)], environ={})
    assert [(h.hostname, h.port) for h in settings.bus.hosts] == [
        ("h1", 5781),
        ("h2", 5782),
        ("h3", 5783),
    ]


@pytest.mark.parametrize(
    ("rabbit", "query", "quorum"),
    [
        ("", "", False),
        ("rabbit_quorum_queue = true\n", "", True),
        ("rabbit_quorum_queue = true\n", "?rabbit_quorum_queue=false", False),
        ("", "?rabbit_quorum_queue=true", True),
    ],
)
def test_quorum_queues_come_from_the_file_and_the_url_query(tmp_path, rabbit, query, quorum):
    url = CLUSTER + query if query else None
    settings = resolve(url=url, config_files=[conf_file(tmp_path, rabbit)], environ={})
    assert quorum_queues(settings) is quorum


@pytest.mark.parametrize(
    ("given", "chosen", "durable"),
    [(None, "quorum", True), ("classic", "classic", False), ("quorum", "quorum", True)],
)
def test_the_recorder_takes_quorum_from_the_file_unless_told(tmp_path, given, chosen, durable):
    conf = conf_file(tmp_path, "rabbit_quorum_queue = true\n")
    settings = resolve(config_files=[conf], environ={})
    with RecordingWriter(str(tmp_path / "rec.ndjson")) as writer:
        recorder = Recorder(
            settings, writer=writer, options=RecordOptions(config_files=[conf], queue_type=given)
        )
        assert (recorder.queue_type, recorder.durable) == (chosen, durable)
        recorder.stop()


def test_in_process_transports_never_use_quorum_queues():
    assert quorum_queues(resolve(url="kombu+memory:////", environ={})) is False


def test_a_reconnect_on_a_cluster_names_the_node_that_took_over():
    from osreplay.bus.reconnect import Reconnected, ReconnectWatcher
    from osreplay.console.record import RecordConsole

    stream = io.StringIO()
    console = RecordConsole(stream)
    url = "rabbit://u:***@h1:5781,u:***@h2:5782/"

    def heard(change):
        if isinstance(change, Reconnected):
            console.reconnected(change, durable=True)

    watcher = ReconnectWatcher(url, heard, cluster=True)
    watcher.attach()
    log = logging.getLogger("oslo.messaging._drivers.impl_rabbit")
    try:
        log.error(
            "[%(connection_id)s] AMQP server on %(hostname)s:%(port)s is unreachable: "
            "%(err_str)s. Trying again in %(sleep_time)d seconds.",
            {"connection_id": "c1", "hostname": "h1", "port": 5781, "err_str": "reset",
             "sleep_time": 0},
        )  # fmt: skip
        log.info(
            "[%(connection_id)s] Reconnected to AMQP server on %(hostname)s:%(port)s",
            {"connection_id": "c1", "hostname": "h2", "port": 5782},
        )
    finally:
        watcher.detach()
    assert stream.getvalue().splitlines()[0] == f"Reconnected to {url} (node h2:5782)"
