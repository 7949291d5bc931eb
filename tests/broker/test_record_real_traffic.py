"""`osreplay record` and `replay` against the shapes real clouds send (issue 7).

Two notification topics, a null publisher and a string payload, a poison message holding
an escaped lone surrogate, and secrets planted where real services put them. Each test
uses its own exchange, topics and pools on the shared broker and removes them.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
import test_record_broker
from planted_secrets import ORDINARY, PLANTED, planted_context, planted_payloads, value_at
from test_record_broker import ROOT, Recording, line_count, read_records, unique, wait_for

pytestmark = pytest.mark.broker

bus = test_record_broker.bus  # the fixture: notifiers, a queue admin, clean-up


def osreplay(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "osreplay", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def two_topic_notifier(bus, exchange: str, topics: list[str], publisher_id: str | None):
    """A Notifier configured with several topics, as nova with `topics = a,b` is."""
    import oslo_messaging

    from osreplay.bus.transport import get_transport, resolve

    bus.notifier(exchange, topics[0])  # registers the exchange and queues for clean-up
    for topic in topics[1:]:
        bus.notifier(exchange, topic)
    transport = get_transport(resolve(url=bus.url), exchange=exchange)
    return oslo_messaging.Notifier(
        transport, publisher_id=publisher_id, driver="messagingv2", topics=topics, retry=3
    )


def test_a_service_with_two_topics_is_recorded_twice_and_replayed_to_each_topic(bus, tmp_path):
    exchange, pool, again = unique("nova"), unique("pool"), unique("pool")
    t_a, t_b = unique("ta"), unique("tb")
    out, replayed = tmp_path / "rec.ndjson", tmp_path / "again.ndjson"
    common = ["--url", bus.url, "--exchange", exchange, "--topic", t_a, "--topic", t_b]
    rec = Recording([*common, "--pool", pool, "--count", "60", "-o", str(out)])
    rec.wait_ready()
    notifier = two_topic_notifier(bus, exchange, [t_a, t_b], "compute.host1")
    for i in range(30):
        notifier.info({}, "compute.instance.update", {"n": i})
    code, _ = rec.finish()
    assert code == 0, rec.stderr
    records = read_records(out)
    by_topic = {
        t: sorted(r["payload"]["n"] for r in records if r["topic"] == t) for t in (t_a, t_b)
    }
    assert by_topic == {t_a: list(range(30)), t_b: list(range(30))}
    # one message_id per message, heard once on each topic
    assert len({r["message_id"] for r in records}) == 30
    assert "duplicates skipped 0" in "\n".join(rec.stderr)

    second = Recording([*common, "--pool", again, "--count", "60", "-o", str(replayed)])
    second.wait_ready()
    done = osreplay("replay", "--url", bus.url, "--rate", "0", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Replayed 60 of 60 records")
    assert second.finish()[0] == 0, second.stderr
    copies = read_records(replayed)
    assert sorted((r["topic"], r["payload"]["n"]) for r in copies) == sorted(
        (r["topic"], r["payload"]["n"]) for r in records
    )


def test_a_null_publisher_and_a_string_payload_are_recorded_validated_and_replayed_as_sent(
    bus, tmp_path
):
    # What oslo-messaging-send-notification sends without --publisher-id.
    exchange, topic = unique("nova"), unique("topic")
    out, replayed = tmp_path / "rec.ndjson", tmp_path / "again.ndjson"
    common = ["--url", bus.url, "--exchange", exchange, "--topic", topic]
    rec = Recording([*common, "--pool", unique("pool"), "--count", "2", "-o", str(out)])
    rec.wait_ready()
    notifier = two_topic_notifier(bus, exchange, [topic], None)
    notifier.info({}, "test.text", "a plain string payload")
    notifier.prepare(publisher_id="svc.host1").info({}, "test.object", {"n": 1})
    assert rec.finish()[0] == 0, rec.stderr
    records = sorted(read_records(out), key=lambda r: r["event_type"])
    assert [(r["publisher_id"], r["payload"]) for r in records] == [
        ("svc.host1", {"n": 1}),
        (None, "a plain string payload"),
    ]

    # Read as a notification that breaks the envelope schema: invalid, not unreadable.
    checked = osreplay("validate", str(out))
    lineno = 1 + [r["event_type"] for r in read_records(out)].index("test.text")
    assert checked.returncode == 1
    assert checked.stdout.splitlines() == [
        f"{out}:{lineno}: test.text: $.publisher_id: null is not of type 'string'",
        "2 records: 0 valid, 1 invalid, 1 without payload schema, 0 unreadable",
    ]

    dry = osreplay("replay", "--dry-run", "--rate", "0", str(out))
    assert dry.returncode == 0, dry.stderr
    second = Recording([*common, "--pool", unique("pool"), "--count", "2", "-o", str(replayed)])
    second.wait_ready()
    done = osreplay("replay", "--url", bus.url, "--rate", "0", str(out))
    assert done.returncode == 0, done.stderr
    assert second.finish()[0] == 0, second.stderr
    again = sorted(read_records(replayed), key=lambda r: r["event_type"])
    assert [(r["publisher_id"], r["payload"]) for r in again] == [
        (r["publisher_id"], r["payload"]) for r in records
    ]


def test_a_lone_surrogate_among_ordinary_messages_is_written_and_sigint_still_stops(bus, tmp_path):
    exchange, topic = unique("nova"), unique("topic")
    out = tmp_path / "rec.ndjson"
    rec = Recording(
        ["--url", bus.url, "--exchange", exchange, "--topic", topic, "--pool", unique("pool"),
         "-o", str(out)]
    )  # fmt: skip
    rec.wait_ready()
    notifier = bus.notifier(exchange, topic)
    for i in range(5):
        notifier.info({}, "test.before", {"n": i})
    # oslo sends it as the JSON escape "\udcff": valid JSON that UTF-8 cannot encode.
    notifier.info({}, "test.poison", {"name": "caf\u00e9 \udcff"})
    for i in range(5):
        notifier.info({}, "test.after", {"n": i})
    wait_for(lambda: line_count(out) >= 11)
    rec.proc.send_signal(signal.SIGINT)
    started = time.monotonic()
    code, _ = rec.finish()
    assert code == 0, rec.stderr
    assert time.monotonic() - started < 20
    lines = out.read_bytes().splitlines()
    poison = [line for line in lines if b"test.poison" in line]
    assert len(lines) == 11 and len(poison) == 1
    assert b'"name": "caf\\u00e9 \\udcff"' in poison[0]
    assert json.loads(poison[0])["payload"]["name"] == "caf\u00e9 \udcff"
    assert osreplay("replay", "--dry-run", "--rate", "0", str(out)).returncode == 0


class PlantedContext:
    """A context object as an older service sends it: every key, token included."""

    def __init__(self, values: dict) -> None:
        self.values = values

    def redacted_copy(self):
        return self

    def to_dict(self) -> dict:
        return dict(self.values)


def test_secrets_planted_where_services_put_them_never_reach_the_file(bus, tmp_path):
    exchange, topic = unique("keystone"), unique("topic")
    out = tmp_path / "rec.ndjson"
    payloads = planted_payloads()
    rec = Recording(
        ["--url", bus.url, "--exchange", exchange, "--topic", topic, "--pool", unique("pool"),
         "--count", str(len(payloads)), "-o", str(out)]
    )  # fmt: skip
    rec.wait_ready()
    notifier = bus.notifier(exchange, topic)
    for n, payload in enumerate(payloads):
        notifier.info(PlantedContext(planted_context()), f"test.secret{n}", payload)
    code, _ = rec.finish()
    assert code == 0, rec.stderr
    text = out.read_text()
    assert [secret for secret in PLANTED if secret in text] == []
    records = sorted(read_records(out), key=lambda r: r["event_type"])
    for path, value in ORDINARY:
        assert value_at(records, path) == value, path


def test_durable_on_a_transient_exchange_records_and_the_ready_line_says_what_a_restart_does(
    bus, tmp_path
):
    import kombu

    exchange, pool = unique("nova"), unique("pool")
    with kombu.Connection(bus.url.replace("rabbit://", "amqp://")) as conn:
        channel = conn.channel()
        kombu.Exchange(exchange, type="topic", durable=False)(channel).declare()
        channel.close()
    try:
        rec = Recording(
            ["--url", bus.url, "--exchange", exchange, "--pool", pool, "--durable",
             "--duration", "1", "-o", str(tmp_path / "rec.ndjson")]
        )  # fmt: skip
        code, _ = rec.finish()
        assert code == 0, rec.stderr
        assert rec.stderr[1] == (
            f"The tap's bindings will not survive a broker restart: exchange {exchange} is "
            "transient (as the services declared them), and a restart drops them with their "
            "bindings until osreplay reconnects and binds again"
        )
        assert bus.inspect(f"{pool}.{exchange}") is None
    finally:
        with kombu.Connection(bus.url.replace("rabbit://", "amqp://")) as conn:
            channel = conn.channel()
            channel.exchange_delete(exchange)
            channel.close()


def test_bodies_oslo_cannot_decode_are_counted_and_named_never_lost(bus, tmp_path):
    # Issue 19: oslo decodes a body before an endpoint sees it, and rejects one it cannot
    # decode with a log line only. Each must be counted and named in the summary.
    import kombu

    exchange, topic = unique("nova"), unique("topic")
    out = tmp_path / "rec.ndjson"
    rec = Recording(
        ["--url", bus.url, "--exchange", exchange, "--topic", topic, "--pool", unique("pool"),
         "--count", "2", "-o", str(out)]
    )  # fmt: skip
    rec.wait_ready()
    notifier = bus.notifier(exchange, topic)
    notifier.info({}, "test.before", {"n": 1})
    good = json.dumps({"event_type": "x", "publisher_id": "p", "priority": "INFO", "payload": {}})
    deep = "[" * 990 + "]" * 990
    bodies = [
        (b"this is not JSON", "application/json"),
        (json.dumps({"oslo.version": "2.0", "oslo.message": '{"event_type": '}).encode(),
         "application/json"),
        (good[:-1].encode() + b', "n": ' + b"9" * 5000 + b"}", "application/json"),
        (json.dumps({"oslo.version": "2.0",
                     "oslo.message": good[:-1] + ', "d": ' + deep + "}"}).encode(),
         "application/json"),
        (bytes(range(256)) * 4, "application/json"),
        # decoded, but oslo's dispatcher drops an unknown priority (a non-text one broke
        # the whole batch)
        (good.replace('"INFO"', '"bogus", "message_id": "m-1"').encode(), "application/json"),
        (good.replace('"INFO"', '5, "message_id": "m-2"').encode(), "application/json"),
    ]  # fmt: skip
    with kombu.Connection(bus.url.replace("rabbit://", "amqp://")) as conn:
        producer = kombu.Producer(conn.channel())
        for body, content_type in bodies:
            producer.publish(
                body,
                exchange=exchange,
                routing_key=f"{topic}.info",
                content_type=content_type,
                content_encoding="utf-8",
            )
    notifier.info({}, "test.after", {"n": 2})
    code, _ = rec.finish()
    assert code == 0, rec.stderr
    assert sorted(r["event_type"] for r in read_records(out)) == ["test.after", "test.before"]
    text = "\n".join(rec.stderr)
    notices = [line for line in rec.stderr if "body oslo cannot decode" in line]
    assert len(notices) == 5, text
    dropped = [line for line in rec.stderr if "oslo would drop it" in line]
    assert len(dropped) == 2, text
    counts = [line for line in rec.stderr if "undecodable skipped 7" in line]
    assert len(counts) == 1, text
    assert "cannot be decoded" not in text  # each body's fault named
    for words in ("not JSON (", "oslo.message is not JSON", "4300 digits", "nesting deeper",
                  "not UTF-8", 'priority "bogus" is not', "priority 5 is not"):  # fmt: skip
        assert words in counts[0], counts[0]
    assert "Traceback" not in text
