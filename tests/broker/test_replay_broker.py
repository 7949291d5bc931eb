"""`osreplay replay` against the real RabbitMQ, checked by a raw AMQP consumer.

Everything happens in a virtual host of its own (created with ``rabbitmqctl`` and deleted
at the end), so the shared broker's ``notifications.<priority>`` queues, which oslo
declares on every publish, are never touched. Where ``rabbitmqctl`` cannot be used (a
remote broker), the tests fall back to the default virtual host with a topic of their
own and delete every queue and exchange they caused.

A lost broker is simulated by a TCP proxy in front of the real one, cut by the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from tcpproxy import Proxy

import osreplay.replay.sender  # noqa: F401  # oslo imported now, while osreplay silences eventlet
from osreplay.cli import main
from osreplay.model.notification import PRIORITIES
from osreplay.pytest_plugin import rabbitmqctl as _rabbitmqctl

pytestmark = pytest.mark.broker

# kombu_reconnect_delay=0: a lost broker fails a record after --retry in ~1 s, not ~3 s.
FAST_RETRY = "?kombu_reconnect_delay=0"


@dataclass
class Bus:
    url: str  # oslo transport URL, with the virtual host
    host: str
    port: int
    vhost: str
    topic: str
    private: bool

    def amqp(self, port: int | None = None) -> str:
        return f"amqp://guest:guest@{self.host}:{port or self.port}/{self.vhost}"

    def transport_url(self, port: int | None = None, query: str = "") -> str:
        vhost = "" if self.vhost == "/" else self.vhost
        return f"rabbit://guest:guest@{self.host}:{port or self.port}/{vhost}{query}"


@pytest.fixture(scope="module")
def bus(broker_url):
    parts = urlsplit(broker_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5672
    vhost = f"osreplay-replay-{uuid.uuid4().hex[:8]}"
    local = host in ("127.0.0.1", "localhost", "::1")
    if local and _rabbitmqctl("add_vhost", vhost):
        if not _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"):
            _rabbitmqctl("delete_vhost", vhost)
            pytest.fail("rabbitmqctl set_permissions failed")
        yield Bus(broker_url, host, port, vhost, "notifications", private=True)
        _rabbitmqctl("delete_vhost", vhost)
        return
    shared = Bus(broker_url, host, port, "/", f"osreplay-test-{uuid.uuid4().hex[:8]}", False)
    yield shared
    import kombu

    with kombu.Connection(shared.amqp()) as connection:
        channel = connection.channel()
        for priority in PRIORITIES:
            try:
                channel.queue_delete(f"{shared.topic}.{priority.lower()}")
            except Exception:  # already gone
                channel = connection.channel()


class Tap:
    """A raw AMQP queue bound with ``#`` to some exchanges, declared before the replay."""

    def __init__(self, bus: Bus, exchanges: list[str]) -> None:
        import kombu

        self.bus = bus
        self.exchanges = exchanges
        self.connection = kombu.Connection(bus.amqp())
        self.channel = self.connection.channel()
        self.queue_name = f"tap-{uuid.uuid4().hex[:8]}"
        self.channel.queue_declare(self.queue_name, auto_delete=False)
        for name in exchanges:
            # As oslo declares them (amqp_durable_queues=False, auto_delete=False).
            self.channel.exchange_declare(name, "topic", durable=False, auto_delete=False)
            self.channel.queue_bind(self.queue_name, name, "#")

    def drain(self, expected: int, timeout: float = 10.0, settle: float = 0.3) -> list:
        """Every message in the queue: at least ``expected``, waiting up to ``timeout``."""
        got = []
        deadline = time.monotonic() + timeout
        quiet_since = None
        while time.monotonic() < deadline:
            message = self.channel.basic_get(self.queue_name, no_ack=True)
            if message is not None:
                got.append(message)
                quiet_since = None
                continue
            if len(got) >= expected:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= settle:
                    break
            time.sleep(0.02)
        return got

    def close(self) -> None:
        self.channel.queue_delete(self.queue_name)
        for name in self.exchanges:
            self.channel.exchange_delete(name)
        if not self.bus.private:
            for priority in PRIORITIES:
                self.channel.queue_delete(f"{self.bus.topic}.{priority.lower()}")
        self.connection.release()


@pytest.fixture
def tap(bus):
    taps: list[Tap] = []

    def make(exchanges: list[str]) -> Tap:
        taps.append(Tap(bus, exchanges))
        return taps[-1]

    yield make
    for t in taps:
        t.close()


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def record(i: int, priority: str, exchange: str, topic: str, **extra) -> dict:
    return {
        "event_type": f"compute.instance.event{i}",
        "publisher_id": f"nova-compute:host{i}",
        "priority": priority,
        "payload": {"i": i, "nested": {"list": [1, "two", None], "ok": True}},
        "timestamp": f"2024-03-05 10:00:00.{i * 1000:06d}",
        "ctxt": {"request_id": f"req-{i:04d}", "user": "u1", "project_id": "p1"},
        "exchange": exchange,
        "topic": topic,
        **extra,
    }


def write(path, rows) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def replay(*args: str):
    env = {"OSREPLAY_TRANSPORT_URL": ""}
    return CliRunner().invoke(main, ["replay", *args], env=env, prog_name="osreplay")


def inner(message) -> dict:
    body = json.loads(message.body)
    assert body["oslo.version"] == "2.0" and isinstance(body["oslo.message"], str)
    return json.loads(body["oslo.message"])


def test_every_priority_on_several_exchanges_arrives_as_services_send_it(bus, tap, tmp_path):
    exchanges = [unique("nova"), unique("keystone"), unique("glance")]
    rows = [
        record(i, priority, exchanges[i % 3], bus.topic)
        for i, priority in enumerate(PRIORITIES * 2)
    ]
    raw = tap(exchanges)
    result = replay(write(tmp_path / "r.ndjson", rows), "--url", bus.transport_url(), "--rate", "0")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Replayed {len(rows)} of {len(rows)} records")
    messages = raw.drain(len(rows))
    assert len(messages) == len(rows)
    by_index = {}
    for message in messages:
        body = inner(message)
        by_index[body["payload"]["i"]] = (message, body)
    for i, row in enumerate(rows):
        message, body = by_index[i]
        assert message.delivery_info["exchange"] == row["exchange"]
        assert message.delivery_info["routing_key"] == f"{bus.topic}.{row['priority'].lower()}"
        assert message.content_type == "application/json"
        assert body["priority"] == row["priority"]
        assert body["publisher_id"] == row["publisher_id"]
        assert body["event_type"] == row["event_type"]
        assert body["payload"] == row["payload"]
        assert body["_context_request_id"] == row["ctxt"]["request_id"]
        assert body["_context_user"] == "u1" and body["_context_project_id"] == "p1"
        assert "_context_auth_token" not in body  # never invented
        assert body["message_id"] and body["timestamp"]


def test_the_v1_driver_sends_the_bare_message(bus, tap, tmp_path):
    exchange = unique("nova")
    raw = tap([exchange])
    path = write(tmp_path / "r.ndjson", [record(0, "INFO", exchange, bus.topic)])
    result = replay(path, "--url", bus.transport_url(), "--rate", "0", "--driver", "messaging")
    assert result.exit_code == 0, result.stderr
    (message,) = raw.drain(1)
    body = json.loads(message.body)
    assert "oslo.version" not in body
    assert body["event_type"] == "compute.instance.event0"
    assert body["_context_request_id"] == "req-0000"


def test_exchange_and_topic_overrides(bus, tap, tmp_path):
    target = unique("mirror")
    raw = tap([target])
    rows = [record(i, "INFO", unique("elsewhere"), "elsewhere") for i in range(3)]
    path = write(tmp_path / "r.ndjson", rows)
    args = ["--url", bus.transport_url(), "--rate", "0", "--exchange", target]
    result = replay(path, *args, "--topic", bus.topic)
    assert result.exit_code == 0, result.stderr
    messages = raw.drain(3)
    assert {m.delivery_info["routing_key"] for m in messages} == {f"{bus.topic}.info"}


def test_malformed_input_is_refused_with_nothing_sent(bus, tap, tmp_path):
    exchange = unique("nova")
    raw = tap([exchange])
    rows = [json.dumps(record(0, "INFO", exchange, bus.topic)), "{broken", "[]"]
    path = tmp_path / "r.ndjson"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = replay(str(path), "--url", bus.transport_url(), "--rate", "0")
    assert result.exit_code == 1
    assert "2 unreadable lines, nothing sent" in result.stderr
    assert raw.drain(0, timeout=1.0) == []


def test_an_unreachable_broker_is_reported_before_anything_is_read(bus, tmp_path):
    path = write(tmp_path / "r.ndjson", [record(0, "INFO", "nova", bus.topic)])
    url = bus.transport_url().replace("guest:guest@", "guest:wrong-password@")
    result = replay(path, "--url", url, "--rate", "0")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "Error: cannot connect to " + url.replace("wrong-password", "***") + ": "
    )
    assert "wrong-password" not in result.stderr + result.stdout


def test_a_broker_lost_mid_replay_is_counted_exactly(bus, tap, tmp_path):
    # In-process, the proxy is cut right after the 5th confirmed record: exactly 5 are
    # reported sent, line 6 failed first, and the consumer holds exactly lines 1-5.
    from osreplay.bus.transport import resolve
    from osreplay.replay.pacing import RateSchedule
    from osreplay.replay.replayer import Replayer
    from osreplay.replay.sender import OsloSender
    from osreplay.replay.sources import FileSource

    exchange = unique("nova")
    raw = tap([exchange])
    path = write(tmp_path / "r.ndjson", [record(i, "INFO", exchange, bus.topic) for i in range(10)])
    proxy = Proxy((bus.host, bus.port))
    settings = resolve(url=bus.transport_url(proxy.port, FAST_RETRY), environ={})
    sender = OsloSender(settings, retry=1)

    def cut_after_five(entry, *args):
        if entry.lineno == 5:
            proxy.cut()

    source = FileSource([path])
    source.check()
    try:
        summary = Replayer(sender, RateSchedule(0), observer=cut_after_five).run(source)
    finally:
        sender.close()
    assert (summary.sent, summary.failed, summary.selected) == (5, 1, 10)
    assert summary.stop is not None and summary.stop.kind == "failed"
    assert summary.stop.lineno == 6
    assert "Unable to connect to AMQP server" in summary.stop.reason
    got = sorted(inner(m)["payload"]["i"] for m in raw.drain(5, timeout=3.0))
    assert got == [0, 1, 2, 3, 4]


def cut_when_queued(bus: Bus, raw: Tap, count: int, proxy: Proxy, done: threading.Event):
    import kombu

    with kombu.Connection(bus.amqp()) as connection:
        channel = connection.channel()
        while not done.wait(0.02):
            if channel.queue_declare(raw.queue_name, passive=True).message_count >= count:
                proxy.cut()
                return


def replay_cut_once_queued(bus: Bus, raw: Tap, count: int, *args: str):
    """``osreplay replay *args --url <a proxy to the bus> --retry 1``, the network cut from
    the outside once ``count`` messages are on the broker (mid-replay)."""
    proxy = Proxy((bus.host, bus.port))
    done = threading.Event()
    watcher = threading.Thread(target=cut_when_queued, args=(bus, raw, count, proxy, done))
    watcher.start()
    try:
        url = bus.transport_url(proxy.port, FAST_RETRY)
        return replay(*args, "--url", url, "--retry", "1")
    finally:
        done.set()
        watcher.join()


def test_a_broker_lost_mid_replay_stops_the_cli_with_the_resume_option(bus, tap, tmp_path):
    exchange = unique("nova")
    raw = tap([exchange])
    rows = [record(i, "INFO", exchange, bus.topic) for i in range(200)]
    path = write(tmp_path / "r.ndjson", rows)
    result = replay_cut_once_queued(bus, raw, 10, path, "--rate", "50")
    assert result.exit_code == 1, result.output
    sent = int(result.stdout.split()[1])
    assert 10 <= sent < 200
    assert result.stdout.startswith(f"Replayed {sent} of 200 records in ")
    assert ", 1 failed, max lateness " in result.stdout
    lines = result.stderr.splitlines()
    assert lines[0].startswith(
        f"Error: line {sent + 1} of {path} was not confirmed by the broker: "
        "Unable to connect to AMQP server"
    )
    assert lines[1] == (
        f"{sent} records before it were confirmed; resume with --start-at {sent + 1}"
    )
    got = {inner(m)["payload"]["i"] for m in raw.drain(sent, timeout=3.0)}
    # Every line before the resume line is on the broker; the failed one at most once more.
    assert set(range(sent)) <= got <= set(range(sent + 1))
    # Resuming from there completes the recording.
    result = replay(path, "--url", bus.transport_url(), "--rate", "0", "--start-at", str(sent + 1))
    assert result.exit_code == 0, result.stderr
    got |= {inner(m)["payload"]["i"] for m in raw.drain(200 - sent - 1, timeout=5.0)}
    assert got == set(range(200))


def test_paced_replay_keeps_the_rate(bus, tap, tmp_path):
    exchange = unique("nova")
    raw = tap([exchange])
    path = write(tmp_path / "r.ndjson", [record(i, "INFO", exchange, bus.topic) for i in range(40)])
    started = time.monotonic()
    result = replay(path, "--url", bus.transport_url(), "--rate", "100")
    took = time.monotonic() - started
    assert result.exit_code == 0, result.stderr
    assert took >= 0.39  # 40 records at 100/s: the last is due at 0.39 s
    assert len(raw.drain(40)) == 40


def test_round_trip_record_replay_record_gives_the_same_records(bus, tap, tmp_path):
    """record (this test's own tap) <- replay; the records match but for ids and times."""
    exchanges = [unique("nova"), unique("keystone")]
    tap(exchanges)  # deletes the exchanges afterwards
    rows = [
        record(i, priority, exchanges[i % 2], bus.topic) for i, priority in enumerate(PRIORITIES)
    ]
    rows[0]["ctxt"]["auth_token"] = "***"  # redacted in the original recording: stays so
    source = write(tmp_path / "in.ndjson", rows)
    out = tmp_path / "out.ndjson"
    pool = unique("osreplay-roundtrip")
    command = [sys.executable, "-m", "osreplay", "record", "--url", bus.transport_url()]
    for name in exchanges:
        command += ["--exchange", name]
    command += ["--topic", bus.topic, "--pool", pool, "-o", str(out), "--count", str(len(rows))]
    recorder = subprocess.Popen(
        command,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "OSREPLAY_TRANSPORT_URL": ""},
    )
    try:
        ready = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not ready.startswith("Recording from"):
            ready = recorder.stderr.readline()
            if not ready and recorder.poll() is not None:
                break
        assert ready.startswith("Recording from"), ready + recorder.stderr.read()
        result = replay(source, "--url", bus.transport_url(), "--rate", "0")
        assert result.exit_code == 0, result.stderr
        recorder.wait(timeout=60)
    finally:
        if recorder.poll() is None:
            recorder.kill()
            recorder.wait()
        recorder.stderr.close()
    assert recorder.returncode == 0
    recorded = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]

    def comparable(row: dict) -> dict:
        return {
            key: value
            for key, value in row.items()
            if key not in ("message_id", "timestamp", "recorded_at")
        }

    got = sorted((comparable(r) for r in recorded), key=lambda r: r["payload"]["i"])
    assert got == [comparable(r) for r in rows]


def test_standard_input_is_replayed_as_it_arrives(bus, tap):
    """Like `osreplay record | osreplay replay`: each line goes out before the next comes."""
    exchange = unique("nova")
    raw = tap([exchange])
    replayer = subprocess.Popen(
        [sys.executable, "-m", "osreplay", "replay", "--url", bus.transport_url()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "OSREPLAY_TRANSPORT_URL": ""},
    )
    try:
        for i in range(3):
            line = json.dumps(record(i, "INFO", exchange, bus.topic)) + "\n"
            replayer.stdin.write(line.encode())
            replayer.stdin.flush()
            (message,) = raw.drain(1, timeout=30.0, settle=0.1)  # stdin still open
            assert inner(message)["payload"]["i"] == i
        out, err = replayer.communicate(timeout=30)  # closes stdin: end of the input
    finally:
        if replayer.poll() is None:
            replayer.kill()
            replayer.wait()
        for stream in (replayer.stdin, replayer.stdout, replayer.stderr):
            stream.close()
    assert replayer.returncode == 0, err
    assert out.decode().startswith("Replayed 3 of 3 records in ")


def test_an_exchange_of_another_type_is_refused_before_anything_is_sent(bus, tap, tmp_path):
    # The exchange exists with another type: oslo's declare would be refused
    # (PRECONDITION_FAILED) and the stock Notifier would only log it. A configuration
    # error: one line naming the option, and no resume hint.
    exchange = unique("direct")
    raw = tap([])
    raw.channel.exchange_declare(exchange, "direct", durable=False, auto_delete=False)
    raw.exchanges.append(exchange)
    path = write(tmp_path / "r.ndjson", [record(0, "INFO", exchange, bus.topic)])
    result = replay(path, "--url", bus.transport_url(), "--rate", "0", "--retry", "0")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: exchange {exchange} is a direct exchange: oslo publishes notifications to "
        "topic exchanges only; replay into another one with --exchange NAME\n"
    )


def test_the_summary_names_the_queues_left_with_no_consumer(bus, tmp_path):
    import kombu

    unread, read = unique("unread"), unique("read")
    exchange = unique("nova")
    rows = [record(i, "INFO", exchange, unread) for i in range(3)]
    rows += [record(3, "ERROR", exchange, unread), record(4, "INFO", exchange, read)]
    path = write(tmp_path / "r.ndjson", rows)
    with kombu.Connection(bus.amqp()) as connection:
        channel = connection.channel()
        # A consumer on <read>.info, as a service listening on that topic would be.
        channel.queue_declare(f"{read}.info", auto_delete=False)
        tag = channel.basic_consume(f"{read}.info", callback=lambda message: None)
        try:
            result = replay(path, "--url", bus.transport_url(), "--rate", "0")
            assert result.exit_code == 0, result.stderr
            lines = result.stdout.splitlines()
            assert lines[1:3] == [
                f"  {unread}.error: 1 message waiting, no consumer",
                f"  {unread}.info: 3 messages waiting, no consumer",
            ]
            assert lines[3].startswith("  (oslo's Notifier declares a <topic>.<priority> queue")
            assert read not in result.stdout
        finally:
            channel.basic_cancel(tag)
            cleanup = connection.channel()
            for name in (f"{unread}.info", f"{unread}.error", f"{read}.info"):
                cleanup.queue_delete(name)
            cleanup.exchange_delete(exchange)
