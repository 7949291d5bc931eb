"""Stream taps against the real RabbitMQ: `osreplay tap …` and `record --from-tap`.

Every test makes its own tap, exchange and topic (uuid) and deletes them; the registry
stream ``osreplay.taps`` goes with the last tap. Messages are published by the test's
own kombu producer with publisher confirms (oslo's v2 envelope, timestamps chosen by the
test), or by oslo's Notifier where the record must match a live recording's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import kombu
import pytest
from click.testing import CliRunner
from test_record_broker import (
    PRIORITIES,
    ROOT,
    Recording,
    leaky_context,
    read_records,
    unique,
    wait_for,
)

import osreplay  # noqa: F401
from osreplay.bus.streams import REGISTRY, StreamAdmin, queue_name
from osreplay.bus.transport import get_transport, resolve
from osreplay.cli import main

pytestmark = pytest.mark.broker


def amqp(url: str) -> str:
    return url.replace("rabbit://", "amqp://").rstrip("/") + "//"


def oslo_time(moment: datetime) -> str:
    """oslo's ``str(utcnow())``: naive UTC, the fraction left out when it is zero."""
    return str(moment.astimezone(timezone.utc).replace(tzinfo=None))


def envelope(n: int, moment: datetime, *, message_id: str | None = None, **extra) -> str:
    message = {
        "message_id": message_id or str(uuid.uuid4()),
        "publisher_id": "compute.h1",
        "event_type": "test.tap",
        "priority": "INFO",
        "payload": {"n": n, **extra},
        "timestamp": oslo_time(moment),
    }
    return json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(message)})


class Publisher:
    """Publishes oslo envelopes with confirms; remembers each one's timestamp."""

    def __init__(self, urls: str, exchange: str, topic: str) -> None:
        self.connection = kombu.Connection(urls, transport_options={"confirm_publish": True})
        self.producer = self.connection.Producer()
        self.exchange, self.key = exchange, f"{topic}.info"
        self.sent: dict[int, datetime] = {}

    def send(self, n: int, moment: datetime | None = None, **kwargs) -> None:
        moment = moment or datetime.now(timezone.utc)
        self.producer.publish(
            envelope(n, moment, **kwargs),
            exchange=self.exchange,
            routing_key=self.key,
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
        )
        self.sent[n] = moment

    def close(self) -> None:
        self.connection.release()


def cli(*args: str):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


@pytest.fixture
def tap(broker_url):
    """A tap of its own on a new exchange and topic; deleted with all it made."""
    name, exchange, topic = unique("tap"), unique("tapx"), unique("tapt")
    result = cli("tap", "create", name, "--url", broker_url, "--exchange", exchange,
                 "--topic", topic, "--max-age", "1h", "--max-bytes", "100MB")  # fmt: skip
    assert result.exit_code == 0, result.output

    class Tap:
        url = broker_url

        def __init__(self) -> None:
            self.name, self.exchange, self.topic = name, exchange, topic
            self.publisher = Publisher(amqp(broker_url), exchange, topic)

        def record(self, *args: str, out: Path):
            return cli("record", "--url", broker_url, "--from-tap", name, "-o", str(out), *args)

    made = Tap()
    yield made
    made.publisher.close()
    cli("tap", "delete", name, "--url", broker_url)
    with kombu.Connection(amqp(broker_url)) as conn:
        channel = conn.channel()
        for queue in (f"{topic}.{p}" for p in PRIORITIES):  # an oslo Notifier's own
            try:
                channel.queue_delete(queue)
            except Exception:  # noqa: BLE001 - not declared by this test
                channel = conn.channel()
        channel.exchange_delete(exchange)


def numbers(path: Path) -> list[int]:
    return [record["payload"]["n"] for record in read_records(path)]


def z(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def test_windows_are_exact_in_order_and_by_the_notifications_own_time(tap, tmp_path):
    # Five bursts a second and a bit apart, so the broker's chunks have different times.
    n = 0
    for _ in range(5):
        for _ in range(8):
            tap.publisher.send(n)
            n += 1
        time.sleep(1.1)
    # A late one: stored now, stamped 4 s ago by its publisher (a retry, a slow clock).
    late = datetime.now(timezone.utc) - timedelta(seconds=4)
    tap.publisher.send(n, late)
    sent = tap.publisher.sent
    ordered = sorted(sent, key=lambda k: (sent[k], k))
    windows = [
        (None, None),  # first .. now
        (sent[8], sent[24]),  # exact to the microsecond, the until excluded
        (sent[8].replace(microsecond=0), sent[24].replace(microsecond=0)),  # to the second
        (late, late + timedelta(microseconds=1)),  # the late one alone
        (sent[0] - timedelta(hours=1), sent[0] - timedelta(minutes=30)),  # before anything
    ]
    for index, (since, until) in enumerate(windows):
        out = tmp_path / f"w{index}.ndjson"
        args = []
        if since is not None:
            args += ["--since", z(since), "--until", z(until)]
        result = tap.record(*args, out=out)
        assert result.exit_code == 0, result.output
        expected = [
            k for k in range(n + 1) if (since is None or since <= sent[k]) and
            (until is None or sent[k] < until)
        ]  # fmt: skip
        got = numbers(out)
        # In stream order (the late one last), none missing, none extra.
        assert got == expected, (index, result.output)
        assert sorted(got, key=lambda k: (sent[k], k)) == [k for k in ordered if k in got]
        assert f"Recorded {len(expected)} record" in result.output
    records = read_records(tmp_path / "w0.ndjson")
    assert records[0]["recorded_at"] == sent[0].isoformat(timespec="microseconds")
    assert {r["exchange"] for r in records} == {tap.exchange}
    assert {r["topic"] for r in records} == {tap.topic}


def test_relative_since_and_two_readers_get_the_same_records(tap, tmp_path):
    for n in range(300):
        tap.publisher.send(n)
    outs = [tmp_path / "a.ndjson", tmp_path / "b.ndjson"]
    until = z(datetime.now(timezone.utc))
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "osreplay",
                "record",
                "--url",
                tap.url,
                "--from-tap",
                tap.name,
                "--since",
                "10m",
                "--until",
                until,
                "-o",
                str(out),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for out in outs
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert outs[0].read_bytes() == outs[1].read_bytes()
    assert numbers(outs[0]) == list(range(300))


def test_until_now_returns_once_caught_up_while_publishing_goes_on(tap, tmp_path):
    for n in range(200):
        tap.publisher.send(n)
    stop = threading.Event()
    more = Publisher(amqp(tap.url), tap.exchange, tap.topic)

    def keep_publishing() -> None:
        k = 1000
        while not stop.is_set():
            more.send(k)
            k += 1
            time.sleep(0.01)

    thread = threading.Thread(target=keep_publishing)
    thread.start()
    try:
        time.sleep(0.5)
        out = tmp_path / "now.ndjson"
        began = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "osreplay", "record", "--url", tap.url, "--from-tap",
             tap.name, "--until", "now", "-o", str(out)],
            cwd=ROOT, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        took = time.monotonic() - began
    finally:
        stop.set()
        thread.join(30)
        more.close()
    assert proc.returncode == 0, proc.stderr
    assert "(stopped by caught up)" in proc.stderr
    got = numbers(out)
    assert got[:200] == list(range(200))  # everything published before it started
    assert all(n >= 1000 for n in got[200:])
    print(f"--until now returned after {took:.1f} s with {len(got)} records")


def test_redaction_and_the_record_are_those_of_a_live_recording(tap, broker_url, tmp_path):
    import oslo_messaging

    live = tmp_path / "live.ndjson"
    rec = Recording(["--url", broker_url, "--exchange", tap.exchange, "--topic", tap.topic,
                     "--pool", unique("pool"), "--count", "3", "-o", str(live)])  # fmt: skip
    rec.wait_ready()
    transport = get_transport(resolve(url=broker_url), exchange=tap.exchange)
    notifier = oslo_messaging.Notifier(
        transport, driver="messagingv2", topics=[tap.topic], retry=3
    ).prepare(publisher_id="identity.h1")
    ctx = leaky_context(auth_token="tok-SECRET-123", user_id="u1", project_id="p1")
    for n in range(3):
        payload = {"n": n, "password": "hunter2-SECRET", "note": "password=S3cr3t-SECRET"}
        notifier.info(ctx, "identity.authenticate", payload)
    code, _ = rec.finish()
    transport.cleanup()
    assert code == 0, rec.stderr
    out = tmp_path / "tap.ndjson"
    result = tap.record(out=out)
    assert result.exit_code == 0, result.output
    assert "SECRET" not in out.read_text()
    from_tap, heard = read_records(out), read_records(live)
    assert from_tap[0]["ctxt"]["auth_token"] == "***"
    for record in from_tap + heard:
        del record["recorded_at"]
    assert from_tap == heard


def test_a_publishers_retry_is_written_once(tap, tmp_path):
    twice = str(uuid.uuid4())
    moment = datetime.now(timezone.utc)
    tap.publisher.send(0)
    tap.publisher.send(1, moment, message_id=twice)
    tap.publisher.send(2, moment, message_id=twice)  # the same message again
    out = tmp_path / "once.ndjson"
    result = tap.record(out=out)
    assert result.exit_code == 0, result.output
    assert numbers(out) == [0, 1]
    assert "duplicates skipped 1" in result.output


def test_bodies_that_are_not_oslo_messages_are_named_and_counted(tap, tmp_path):
    tap.publisher.send(0)
    producer = tap.publisher.producer
    for body in (b"not json", b"\xff\xfe binary", b"[" * 5000 + b"]" * 5000, b'"a string"'):
        producer.publish(body, exchange=tap.exchange, routing_key=tap.publisher.key,
                         content_type="application/octet-stream")  # fmt: skip
    tap.publisher.send(1)
    out = tmp_path / "hostile.ndjson"

    result = tap.record("--since", "first", "--until", "now", out=out)

    assert result.exit_code == 0, result.output
    assert numbers(out) == [0, 1]
    assert result.output.count("skipped a message whose body oslo cannot decode: ") == 4
    assert "undecodable skipped 4 (" in result.output
    assert "Traceback" not in result.output


def test_tap_list_shows_what_the_tap_holds(tap, tmp_path):
    for n in range(50):
        tap.publisher.send(n)
    result = cli("tap", "list", "--url", tap.url)
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.startswith(tap.name))
    cells = row.split()
    assert cells[1] == tap.exchange
    assert cells[2].rstrip("*") == "50"
    assert cells[3].startswith("≈") and row.endswith("1h or 100 MB")
    first = tap.publisher.sent[0].replace(microsecond=0)
    assert z(first) in row
    if cells[2].endswith("*"):
        assert "may be stale" in result.output


def test_an_existing_exchange_is_used_as_it_is_and_delete_leaves_nothing(broker_url):
    name, exchange, missing = unique("tap"), unique("durx"), unique("newx")
    with kombu.Connection(amqp(broker_url)) as conn:
        channel = conn.channel()
        # Durable, as services with amqp_durable_queues = true declare it.
        kombu.Exchange(exchange, type="topic", durable=True)(channel).declare()
        try:
            result = cli("tap", "create", name, "--url", broker_url, "--exchange", exchange,
                         "--exchange", missing)  # fmt: skip
            assert result.exit_code == 0, result.output
            assert f"used as they are: {exchange}" in result.output
            assert f"transient (oslo's default): {missing}" in result.output
            # Both unchanged by the tap: redeclaring with the services' flags still works.
            channel = conn.channel()
            kombu.Exchange(exchange, type="topic", durable=True)(channel).declare()
            kombu.Exchange(missing, type="topic", durable=False)(channel).declare()
            again = cli("tap", "create", name, "--url", broker_url, "--exchange", exchange)
            assert again.exit_code == 2 and f"tap {name} exists" in again.output
            result = cli("tap", "delete", name, "--url", broker_url)
            assert result.exit_code == 0 and f"Deleted tap {name}" in result.output
            admin = StreamAdmin(resolve(url=broker_url))
            try:
                assert admin.counts(queue_name(name)) is None
                registered = admin.taps()
                assert name not in registered
                if not registered:  # no other tap on this broker: the registry went too
                    assert admin.counts(REGISTRY) is None
            finally:
                admin.close()
            gone = cli("tap", "delete", name, "--url", broker_url)
            assert gone.exit_code == 0 and "nothing to delete" in gone.output
            missing_tap = cli("record", "--url", broker_url, "--from-tap", name, "-o", "-")
            assert missing_tap.exit_code == 2
            assert f"Error: no tap {name} on rabbit://guest:***@" in missing_tap.output
        finally:
            channel = conn.channel()
            channel.exchange_delete(exchange)
            channel.exchange_delete(missing)


def test_a_missing_exchange_is_declared_durable_when_the_services_say_so(broker_url):
    name, exchange = unique("tap"), unique("durx")
    url = broker_url + "?amqp_durable_queues=true"
    result = cli("tap", "create", name, "--url", url, "--exchange", exchange)
    try:
        assert result.exit_code == 0, result.output
        assert f"declared as the services would, durable: {exchange}" in result.output
        with kombu.Connection(amqp(broker_url)) as conn:
            kombu.Exchange(exchange, type="topic", durable=True)(conn.channel()).declare()
    finally:
        cli("tap", "delete", name, "--url", broker_url)
        with kombu.Connection(amqp(broker_url)) as conn:
            conn.channel().exchange_delete(exchange)


def test_a_connection_lost_mid_read_goes_on_at_the_next_offset(tap, tmp_path):
    from tcpproxy import Proxy

    total = 20_000
    with kombu.Connection(amqp(tap.url)) as conn:  # no confirms: fast; the count says when
        producer = conn.Producer()
        moment = datetime.now(timezone.utc)
        for n in range(total):
            producer.publish(envelope(n, moment), exchange=tap.exchange,
                             routing_key=f"{tap.topic}.info", content_type="application/json",
                             content_encoding="utf-8")  # fmt: skip
    admin = StreamAdmin(resolve(url=tap.url))
    try:
        wait_for(lambda: admin.counts(queue_name(tap.name)).messages >= total, 60)
    finally:
        admin.close()
    proxy = Proxy(("127.0.0.1", 5672))
    out = tmp_path / "cut.ndjson"
    proc = subprocess.Popen(
        [sys.executable, "-m", "osreplay", "record", "--url",
         f"rabbit://guest:guest@127.0.0.1:{proxy.port}/", "--from-tap", tap.name,
         "--batch-size", "100", "-o", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: out.exists() and out.read_bytes().count(b"\n") >= 2000, 120)
        proxy.cut()
        time.sleep(1.0)
        proxy.restore()
        _, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        proxy.cut()
    assert proc.returncode == 0, err
    assert numbers(out) == list(range(total)), err  # none missing, none twice, in order
    assert "Connection lost (" in err and "; reconnecting" in err, err
    assert "reconnected 1 time(s), going on at the next offset" in err, err


def test_a_window_ending_in_the_future_is_followed_live_and_until_idle_stops(tap, tmp_path):
    tap.publisher.send(0)  # before the window: not in it
    time.sleep(0.01)
    since = datetime.now(timezone.utc)
    until = since + timedelta(seconds=3)
    out = tmp_path / "live.ndjson"
    proc = subprocess.Popen(
        [sys.executable, "-m", "osreplay", "record", "--url", tap.url, "--from-tap", tap.name,
         "--since", z(since), "--until", z(until), "-o", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        for n in (1, 2):
            time.sleep(0.5)
            tap.publisher.send(n)
        while datetime.now(timezone.utc) < until + timedelta(seconds=0.5):
            time.sleep(0.1)
        tap.publisher.send(3)  # after the window, while the reader still follows
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert numbers(out) == [1, 2], err
    assert "(stopped by caught up)" in err
    idle = tmp_path / "idle.ndjson"
    began = time.monotonic()
    far = z(datetime.now(timezone.utc) + timedelta(hours=1))
    result = tap.record("--until", far, "--until-idle", "2", out=idle)
    assert result.exit_code == 0, result.output
    assert numbers(idle) == [0, 1, 2, 3] and "(stopped by idle)" in result.output
    assert time.monotonic() - began < 60


def test_a_refusal_by_the_broker_is_one_line_and_leaves_nothing(broker_url):
    name = unique("tap")
    result = CliRunner().invoke(
        main, ["tap", "create", name, "--url", broker_url, "--exchange", "amq.osreplay-test"]
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: cannot create tap {name} on rabbit://guest:***@127.0.0.1:5672/: "
        "Exchange.declare: (403) ACCESS_REFUSED - exchange name 'amq.osreplay-test' contains "
        "reserved prefix 'amq.*'\n"
    )
    admin = StreamAdmin(resolve(url=broker_url))
    try:
        assert admin.counts(queue_name(name)) is None and name not in admin.taps()
    finally:
        admin.close()
