"""Issue 19: a channel the broker closes for an unacknowledged delivery (consumer_timeout).

On a RabbitMQ node of the test's own (rabbitnode: a session-unique name, free ports
chosen at run time, stopped in the fixture's finalizer) whose ``consumer_timeout`` is two
seconds, ``osreplay record -o -`` writes into a pipe nobody reads: its acknowledgements
stop, the broker closes the channel, and oslo consumes again on a new one. record must
say so both ways, show no traceback, lose nothing, and explain the redeliveries it skips
as duplicates.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import rabbitnode

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 3000


@pytest.fixture(scope="module")
def node():
    if not rabbitnode.available():
        if os.environ.get("CI"):
            pytest.fail("rabbitmq-server and rabbitmqctl are needed (CI)")
        pytest.skip("rabbitmq-server or rabbitmqctl missing")
    started = rabbitnode.RabbitNode("ct")  # a session-unique name, free ports
    try:
        started.start()
        started.ctl("eval", "application:set_env(rabbit, consumer_timeout, 2000).")
        yield started
    finally:
        started.stop()


def test_a_closed_channel_is_told_both_ways_and_nothing_is_lost(node):
    url = node.url()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("OSREPLAY_TRANSPORT_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "osreplay", "record", "--url", url, "--exchange", "ct",
         "--pool", "ct-pool", "--batch-size", "50", "-o", "-"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    stderr: list[str] = []
    reader = threading.Thread(
        target=lambda: stderr.extend(line.decode().rstrip("\n") for line in proc.stderr),
        daemon=True,
    )
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any(line.startswith("Recording from") for line in stderr):
            assert proc.poll() is None and time.monotonic() < deadline, stderr
            time.sleep(0.1)
        import oslo_messaging
        from oslo_config import cfg

        conf = cfg.ConfigOpts()
        oslo_messaging.get_notification_transport(conf, url=url)  # registers the options
        conf.set_override("control_exchange", "ct")
        transport = oslo_messaging.get_notification_transport(conf, url=url)
        notifier = oslo_messaging.Notifier(transport, publisher_id="p", driver="messagingv2")
        for i in range(MESSAGES):
            notifier.info({}, "ct.event", {"n": i, "pad": "x" * 300})
        transport.cleanup()
        # Nobody reads the pipe: the writer blocks and the acks stop until the broker
        # closes the channel (it checks its consumer_timeout about once a minute).
        deadline = time.monotonic() + 150
        while not any("the broker closed the channel" in line for line in stderr):
            assert proc.poll() is None and time.monotonic() < deadline, stderr
            time.sleep(0.5)
        seen: set[int] = set()
        lines = proc.stdout.read1  # type: ignore[union-attr]
        buffer = b""
        deadline = time.monotonic() + 120
        while len(seen) < MESSAGES and time.monotonic() < deadline:
            buffer += lines(1 << 20)
            *complete, buffer = buffer.split(b"\n")
            for raw in complete:
                seen.add(int(raw.split(b'"n": ', 1)[1].split(b",", 1)[0]))
        assert len(seen) == MESSAGES  # nothing lost
        deadline = time.monotonic() + 60
        while not any(line.startswith("Reconnected to") for line in stderr):
            assert time.monotonic() < deadline, stderr
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        proc.stdout.read()  # type: ignore[union-attr]
        assert proc.wait(60) == 0, stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        reader.join(10)
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    text = "\n".join(stderr)
    assert "Traceback" not in text, text
    assert "consuming again on a new channel" in text
    summary = [line for line in stderr if "duplicates skipped" in line]
    assert len(summary) == 1, text
    if "duplicates skipped 0," not in summary[0]:
        assert "(redelivered after a reconnect: already in the file)" in summary[0]
    assert any("after the broker closed the channel" in line for line in stderr), text
