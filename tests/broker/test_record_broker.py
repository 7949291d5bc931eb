"""`osreplay record` against the real RabbitMQ, as an operator runs it (a subprocess).

Every test uses its own topic, exchanges and pool (uuid), so nothing here touches the
queues of real consumers or of other tests, and each removes what it created.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

import osreplay  # noqa: F401  (silences eventlet's import-time warning before oslo loads)
from osreplay.bus.queues import QueueAdmin
from osreplay.bus.transport import get_transport, resolve

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[2]
PRIORITIES = ("audit", "debug", "info", "warn", "error", "critical", "sample")


def unique(prefix: str) -> str:
    return f"osreplay-test-{prefix}-{uuid.uuid4().hex[:8]}"


class Recording:
    """``osreplay record`` in a subprocess, its stderr collected line by line."""

    def __init__(self, args: list[str], *, env: dict[str, str] | None = None) -> None:
        environ = dict(os.environ if env is None else env)
        environ["PYTHONPATH"] = str(ROOT)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "osreplay", "record", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environ,
        )
        self.stderr: list[str] = []
        self.stdout = b""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._out_reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._out_reader.start()

    def _read_stdout(self) -> None:
        self.stdout = self.proc.stdout.read()  # type: ignore[union-attr]

    def _read(self) -> None:
        for raw in self.proc.stderr:  # type: ignore[union-attr]
            self.stderr.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def wait_ready(self, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.stderr:
                if line.startswith("Recording from "):
                    return line
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.proc.kill()
        self.finish()
        raise AssertionError(f"no ready line; stderr: {self.stderr}")

    def finish(self, timeout: float = 60.0) -> tuple[int, bytes]:
        self.proc.wait(timeout=timeout)
        self._reader.join(5)
        self._out_reader.join(5)
        self.proc.stdout.close()  # type: ignore[union-attr]
        self.proc.stderr.close()  # type: ignore[union-attr]
        return self.proc.returncode, self.stdout


@pytest.fixture
def bus(broker_url):
    """Notifiers per exchange, a queue admin, and clean-up of what the test declared."""
    settings = resolve(url=broker_url)
    admin = QueueAdmin.for_settings(settings)
    created: dict[str, list[str]] = {"queues": [], "exchanges": []}
    notifiers: dict[tuple[str, str], object] = {}
    transports: list = []

    class Bus:
        url = broker_url

        def notifier(self, exchange: str, topic: str, publisher_id: str = "compute.host1"):
            import oslo_messaging

            key = (exchange, topic)
            if key not in notifiers:
                created["exchanges"].append(exchange)
                # The Notifier declares <topic>.<priority> queues so messages wait for a
                # pool-less consumer: these tests have none (or their own), so remove them.
                created["queues"].extend(f"{topic}.{p}" for p in PRIORITIES)
                transport = get_transport(resolve(url=broker_url), exchange=exchange)
                transports.append(transport)
                notifiers[key] = oslo_messaging.Notifier(
                    transport, driver="messagingv2", topics=[topic], retry=3
                )
            return notifiers[key].prepare(publisher_id=publisher_id)

        def inspect(self, queue: str):
            return admin.inspect(queue)

        def forget(self, *queues: str) -> None:
            created["queues"].extend(queues)

        def durable_exchange(self, name: str) -> None:
            """Declare ``name`` durable, as services with amqp_durable_queues=true do."""
            import kombu

            created["exchanges"].append(name)
            with kombu.Connection(broker_url.replace("rabbit://", "amqp://")) as conn:
                channel = conn.channel()
                kombu.Exchange(name, type="topic", durable=True)(channel).declare()
                channel.close()

    yield Bus()
    for transport in transports:  # closed now, not left to the GC (an unraisable warning)
        transport.cleanup()
    for queue in dict.fromkeys(created["queues"]):
        admin.delete(queue)
    channel = admin._connection.channel()
    try:
        for exchange in set(created["exchanges"]):
            channel.exchange_delete(exchange)
    finally:
        channel.close()
    admin.close()


def leaky_context(**values):
    """A RequestContext that keeps its token on the wire (oslo's own one drops it)."""
    from oslo_context.context import RequestContext

    class LeakyContext(RequestContext):
        def redacted_copy(self, **kwargs):
            return self

    return LeakyContext(**values)


def read_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def line_count(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_records_everything_beside_a_poolless_consumer_and_leaves_nothing(bus, tmp_path):
    import oslo_messaging

    topic, pool = unique("topic"), unique("pool")
    nova, keystone = unique("nova"), unique("keystone")
    ceilometer_got: list[dict] = []

    class Ceilometer:  # a batch listener without a pool, like ceilometer-agent-notification
        def _take(self, messages):
            ceilometer_got.extend(messages)

        audit = debug = info = warn = error = critical = sample = _take

    transport = get_transport(resolve(url=bus.url))
    ceilometer = oslo_messaging.get_batch_notification_listener(
        transport,
        [oslo_messaging.Target(exchange=ex, topic=topic) for ex in (nova, keystone)],
        [Ceilometer()],
        executor="threading",
        batch_size=100,
        batch_timeout=0.2,
    )
    ceilometer.start()
    bus.forget(*(f"{topic}.{p}" for p in PRIORITIES))
    out = tmp_path / "rec.ndjson"
    per = 3
    total = 2 * len(PRIORITIES) * per
    rec = Recording(
        ["--url", bus.url, "--topic", topic, "--exchange", nova, "--exchange", keystone,
         "--pool", pool, "--count", str(total), "-o", str(out)]
    )  # fmt: skip
    ready = rec.wait_ready()
    where = f"on 2 exchanges, topic {topic} (pool {pool})"
    assert ready == f"Recording from rabbit://guest:***@127.0.0.1:5672/ {where}"
    ctx = leaky_context(auth_token="tok-SECRET-123", user_id="u1", project_id="p1")
    sent = {}
    for exchange in (nova, keystone):
        notifier = bus.notifier(exchange, topic)
        for priority in PRIORITIES:
            for i in range(per):
                payload = {
                    "n": i,
                    "priority": priority,
                    "initiator": {"credential": {"token": "tok-SECRET-123"}},
                }
                getattr(notifier, priority)(ctx, f"test.{priority}", payload)
                sent[(exchange, priority, i)] = payload
    code, stdout = rec.finish()
    assert code == 0, rec.stderr
    assert stdout == b""
    records = read_records(out)
    assert len(records) == total
    got = {(r["exchange"], r["priority"].lower(), r["payload"]["n"]): r for r in records}
    assert set(got) == set(sent)
    for (_, priority, _), record in got.items():
        assert record["topic"] == topic and record["event_type"] == f"test.{priority}"
        assert record["payload"]["initiator"]["credential"]["token"] == "***"
        assert record["ctxt"]["auth_token"] == "***"
    assert "tok-SECRET-123" not in out.read_text()
    assert "tok-SECRET-123" not in "\n".join(rec.stderr)
    wait_for(lambda: len(ceilometer_got) == total)
    ceilometer.stop()
    ceilometer.wait()
    transport.cleanup()
    assert {m["metadata"]["message_id"] for m in ceilometer_got} == {
        r["message_id"] for r in records
    }
    assert bus.inspect(f"{pool}.{nova}") is None and bus.inspect(f"{pool}.{keystone}") is None
    assert rec.stderr[-1] == f"  deleted 2 tap queues (pool {pool})"


def test_keep_queue_collects_while_stopped_and_append_resumes_without_a_gap(bus, tmp_path):
    topic, pool, exchange = unique("topic"), unique("pool"), unique("nova")
    bus.forget(f"{pool}.{exchange}")  # if the test fails half way
    out = tmp_path / "rec.ndjson"
    common = ["--url", bus.url, "--topic", topic, "--exchange", exchange, "--pool", pool]
    first = Recording([*common, "--keep-queue", "--count", "10", "-o", str(out)])
    first.wait_ready()
    notifier = bus.notifier(exchange, topic)
    for i in range(10):
        notifier.info({}, "test.event", {"n": i})
    assert first.finish()[0] == 0
    assert "kept tap queues" in first.stderr[-1]
    for i in range(10, 25):  # published while nobody records
        notifier.info({}, "test.event", {"n": i})
    assert bus.inspect(f"{pool}.{exchange}").messages == 15
    second = Recording([*common, "--append", "--count", "15", "-o", str(out)])
    second.wait_ready()
    assert second.finish()[0] == 0
    assert sorted(r["payload"]["n"] for r in read_records(out)) == list(range(25))
    assert bus.inspect(f"{pool}.{exchange}") is None


def publish_in_background(notifier, n: int) -> threading.Thread:
    def run() -> None:
        for i in range(n):
            notifier.info({}, "test.event", {"n": i, "pad": "x" * 200})

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_sigkill_then_resume_loses_nothing_and_writes_nothing_twice(bus, tmp_path):
    topic, pool, exchange = unique("topic"), unique("pool"), unique("nova")
    bus.forget(f"{pool}.{exchange}")  # if the test fails half way
    out = tmp_path / "rec.ndjson"
    common = ["--url", bus.url, "--topic", topic, "--exchange", exchange, "--pool", pool]
    total = 3000
    first = Recording([*common, "--keep-queue", "-o", str(out)])
    first.wait_ready()
    publisher = publish_in_background(bus.notifier(exchange, topic), total)
    wait_for(lambda: line_count(out) >= 300)
    first.proc.send_signal(signal.SIGKILL)
    first.finish()
    publisher.join(60)
    second = Recording([*common, "--append", "-o", str(out)])
    second.wait_ready()
    wait_for(lambda: line_count(out) >= total)
    time.sleep(0.5)  # anything written twice would show up now
    second.proc.send_signal(signal.SIGTERM)
    assert second.finish()[0] == 0
    numbers = [r["payload"]["n"] for r in read_records(out)]
    assert sorted(numbers) == list(range(total))
    assert bus.inspect(f"{pool}.{exchange}") is None


def test_sigint_mid_stream_flushes_acks_and_cleans_up(bus, tmp_path):
    topic, pool, exchange = unique("topic"), unique("pool"), unique("nova")
    out = tmp_path / "rec.ndjson"
    rec = Recording(
        ["--url", bus.url, "--topic", topic, "--exchange", exchange, "--pool", pool,
         "-o", str(out)]
    )  # fmt: skip
    rec.wait_ready()
    publisher = publish_in_background(bus.notifier(exchange, topic), 5000)
    wait_for(lambda: line_count(out) >= 200)
    rec.proc.send_signal(signal.SIGINT)
    started = time.monotonic()
    code, _ = rec.finish()
    assert code == 0 and time.monotonic() - started < 20
    publisher.join(60)
    records = read_records(out)  # every line whole
    assert len({r["message_id"] for r in records}) == len(records)
    assert any(line.startswith("Stopping: ") for line in rec.stderr)
    summary = next(line for line in rec.stderr if line.startswith("Recorded "))
    assert summary.startswith(f"Recorded {len(records)} records in ")
    assert "(stopped by signal)" in summary
    assert bus.inspect(f"{pool}.{exchange}") is None


def test_filters_write_only_matching_records(bus, tmp_path):
    topic, pool, exchange = unique("topic"), unique("pool"), unique("nova")
    out = tmp_path / "rec.ndjson"
    rec = Recording(
        ["--url", bus.url, "--topic", topic, "--exchange", exchange, "--pool", pool,
         "--event-type", "compute.*", "--publisher", "nova-*", "--priority", "error",
         "--count", "2", "-o", str(out)]
    )  # fmt: skip
    rec.wait_ready()
    compute = bus.notifier(exchange, topic, "nova-compute:c1")
    other = bus.notifier(exchange, topic, "glance-api:g1")
    compute.info({}, "compute.instance.create.end", {"n": 1})
    other.error({}, "compute.instance.create.error", {"n": 2})
    compute.error({}, "image.upload.error", {"n": 3})
    compute.error({}, "compute.instance.create.error", {"n": 4})
    compute.error({}, "compute.instance.delete.error", {"n": 5})
    assert rec.finish()[0] == 0
    assert sorted(r["payload"]["n"] for r in read_records(out)) == [4, 5]
    assert bus.inspect(f"{pool}.{exchange}") is None


def test_config_file_gives_the_url_and_topics(bus, tmp_path):
    topic, pool, exchange = unique("topic"), unique("pool"), unique("nova")
    conf = tmp_path / "nova.conf"
    conf.write_text(
        "[DEFAULT]\ntransport_url = rabbit://nobody:nothing@127.0.0.1:1/\n"
        f"[oslo_messaging_notifications]\ntransport_url = {bus.url}\ntopics = {topic}\n"
        "[oslo_messaging_rabbit]\nrabbit_retry_interval = 1\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OSREPLAY_TRANSPORT_URL"}
    out = tmp_path / "rec.ndjson"
    rec = Recording(
        ["--config-file", str(conf), "--exchange", exchange, "--pool", pool, "--count", "3",
         "-o", str(out)],
        env=env,
    )  # fmt: skip
    ready = rec.wait_ready()
    where = f"on exchange {exchange}, topic {topic} (pool {pool})"
    assert ready == f"Recording from rabbit://guest:***@127.0.0.1:5672/ {where}"
    notifier = bus.notifier(exchange, topic)
    for i in range(3):
        notifier.info({}, "test.event", {"n": i})
    assert rec.finish()[0] == 0
    assert [r["topic"] for r in read_records(out)] == [topic] * 3


def test_default_pool_reuses_what_a_dead_recorder_left_and_avoids_a_live_one(bus, tmp_path):
    import kombu

    exchange, topic = unique("nova"), unique("topic")
    stale = f"osreplay-{socket.gethostname()}.{exchange}"
    bus.forget(stale, f"osreplay-{socket.gethostname()}-2.{exchange}")
    with kombu.Connection(bus.url.replace("rabbit://", "amqp://")) as conn:
        channel = conn.channel()
        channel.queue_declare(queue=stale, durable=False, auto_delete=False)
        kombu.Producer(channel).publish({}, routing_key=stale)
        channel.close()
    assert bus.inspect(stale).messages == 1
    common = ["--url", bus.url, "--topic", topic, "--exchange", exchange]
    live = Recording([*common, "-o", str(tmp_path / "a.ndjson")])
    assert live.wait_ready().endswith(f"(pool osreplay-{socket.gethostname()})")
    assert any("(purged): " + stale in line for line in live.stderr)
    assert bus.inspect(stale).messages == 0
    second = Recording([*common, "-o", str(tmp_path / "b.ndjson")])
    assert second.wait_ready().endswith(f"(pool osreplay-{socket.gethostname()}-2)")
    notifier = bus.notifier(exchange, topic)
    notifier.info({}, "test.event", {"n": 1})
    wait_for(lambda: line_count(tmp_path / "a.ndjson") == line_count(tmp_path / "b.ndjson") == 1)
    for rec in (live, second):
        rec.proc.send_signal(signal.SIGTERM)
        assert rec.finish()[0] == 0
    assert bus.inspect(stale) is None
    assert bus.inspect(f"osreplay-{socket.gethostname()}-2.{exchange}") is None


def test_unreachable_broker_fails_fast_with_a_masked_url(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    rec = Recording(["--url", f"rabbit://guest:s3cret@127.0.0.1:{port}/", "--connect-timeout", "5"])
    code, stdout = rec.finish()
    assert code == 2 and stdout == b""
    assert rec.stderr == [
        f"Error: cannot connect to rabbit://guest:***@127.0.0.1:{port}/: "
        "[Errno 111] Connection refused"
    ]
    assert time.monotonic() - started < 15


def test_a_durable_exchange_is_recorded_as_it_is_without_the_services_options(bus, tmp_path):
    # The exchange rule: an existing exchange is used as it is, durable or not, whatever
    # this recorder's own configuration says (it used to need ?amqp_durable_queues=true).
    exchange, pool = unique("nova"), unique("pool")
    bus.durable_exchange(exchange)
    args = ["--exchange", exchange, "--pool", pool, "--duration", "0.5", "-o", str(tmp_path / "o")]
    rec = Recording(["--url", bus.url, *args])
    assert rec.finish()[0] == 0, rec.stderr
    assert not any("will not survive" in line for line in rec.stderr)  # classic tap: no note
    assert bus.inspect(f"{pool}.{exchange}") is None


def test_a_broker_lost_mid_recording_reconnects_says_so_and_loses_nothing(bus, tmp_path):
    # The recorder reaches the broker through a proxy the test cuts and restores; the
    # notifications are published straight to the broker, so the tap queue keeps the
    # ones sent while the recorder is cut off.
    from urllib.parse import urlsplit

    from tcpproxy import Proxy

    topic, pool, exchange = unique("topic"), unique("pool"), unique("nova")
    broker = urlsplit(bus.url)
    proxy = Proxy((broker.hostname or "127.0.0.1", broker.port or 5672))
    url = f"rabbit://guest:guest@127.0.0.1:{proxy.port}/?kombu_reconnect_delay=0"
    out = tmp_path / "rec.ndjson"
    rec = Recording(
        ["--url", url, "--topic", topic, "--exchange", exchange, "--pool", pool,
         "-o", str(out)]
    )  # fmt: skip
    rec.wait_ready()
    notifier = bus.notifier(exchange, topic)
    for i in range(10):
        notifier.info({}, "test.before", {"i": i})
    wait_for(lambda: line_count(out) >= 10)

    proxy.cut()
    wait_for(lambda: any("reconnecting" in line for line in rec.stderr))
    for i in range(10):
        notifier.info({}, "test.during", {"i": i})
    proxy.restore()
    wait_for(lambda: line_count(out) >= 20, timeout=60)
    rec.proc.send_signal(signal.SIGINT)
    code, _ = rec.finish()

    assert code == 0, rec.stderr
    records = read_records(out)
    assert len(records) == 20 == len({r["message_id"] for r in records})
    during = sorted(r["payload"]["i"] for r in records if r["event_type"] == "test.during")
    assert during == list(range(10))
    lost = next(line for line in rec.stderr if "reconnecting" in line)
    assert lost.startswith(f"Connection to rabbit://guest:***@127.0.0.1:{proxy.port}/")
    assert any(line.startswith("Reconnected to rabbit://guest:***@") for line in rec.stderr)
    assert not any("guest:guest" in line for line in rec.stderr)
    assert bus.inspect(f"{pool}.{exchange}") is None
