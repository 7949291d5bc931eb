"""The exchange rule on the real broker: a recorder never breaks the services' publishing.

``record`` uses an existing exchange as it is and declares a missing one as the services
are configured (oslo's default: transient), whatever its own tap queues are; two recorders
cannot share a pool; ``--config-file`` adds the service's ``control_exchange``. Every name
is unique to the run and every exchange a test causes is deleted by the ``bus`` fixture.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import kombu
import pytest
from test_record_broker import Recording, bus, read_records, unique  # noqa: F401  (bus: fixture)

from osreplay.bus.transport import resolve
from osreplay.errors import UsageError
from osreplay.pytest_plugin import rabbitmqctl
from osreplay.tap.pool import LOCK_SUFFIX, TapQueues

pytestmark = pytest.mark.broker

RUN = [sys.executable, "-m", "osreplay"]
ENV = {k: v for k, v in os.environ.items() if k != "OSREPLAY_TRANSPORT_URL"}
ENV["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])


@pytest.fixture
def vhost_url(broker_url):
    """A virtual host of the test's own (record's default exchanges are declared in it)."""
    vhost = f"osreplay-rule-{uuid.uuid4().hex[:8]}"
    if not rabbitmqctl("add_vhost", vhost):
        pytest.skip("needs rabbitmqctl on the broker's machine")
    try:
        assert rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield broker_url.rstrip("/") + "/" + vhost
    finally:
        rabbitmqctl("delete_vhost", vhost)


def amqp(url: str) -> str:
    return url.replace("rabbit://", "amqp://")


def declared_as(url: str, exchange: str, *, durable: bool, auto_delete: bool = False) -> bool:
    """True when ``exchange`` exists with these flags (a declare that matches changes nothing;
    one that does not is refused). The exchange must exist: checked passively first."""
    with kombu.Connection(amqp(url)) as conn:
        channel = conn.channel()
        channel.exchange_declare(exchange, "topic", passive=True)
        channel = conn.channel()
        try:
            channel.exchange_declare(exchange, "topic", durable=durable, auto_delete=auto_delete)
        except Exception as exc:  # noqa: BLE001 - the refusal is the answer
            assert "PRECONDITION_FAILED" in str(exc)
            return False
        return True


def declare(url: str, exchange: str, *, durable: bool) -> None:
    """``exchange`` as oslo declares it (auto_delete false)."""
    with kombu.Connection(amqp(url)) as conn:
        conn.channel().exchange_declare(exchange, "topic", durable=durable, auto_delete=False)


def queue_types(url: str) -> dict[str, str]:
    done = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "name", "type", "durable"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    rows = [line.split("\t") for line in done.stdout.splitlines() if "\t" in line]
    return {row[0]: f"{row[1]} durable={row[2]}" for row in rows}


def send_as_a_service(bus, exchange: str, topic: str, count: int) -> None:  # noqa: F811
    """oslo's own Notifier with oslo's defaults (amqp_durable_queues = false), as a service
    sends: it logs and drops what the broker refuses."""
    notifier = bus.notifier(exchange, topic)
    for i in range(count):
        notifier.info({}, "test.event", {"n": i})


@pytest.mark.parametrize("tap", [["--queue-type", "quorum"], ["--durable"]])
def test_a_durable_tap_declares_a_missing_exchange_as_the_services_would(bus, tmp_path, tap):  # noqa: F811
    exchange, topic, pool = unique("nova"), unique("topic"), unique("pool")
    bus.forget(f"{pool}.{exchange}")
    bus.notifier(exchange, topic)  # registers the exchange and queues for clean-up only
    out = tmp_path / "rec.ndjson"
    rec = Recording(
        ["--url", bus.url, "--exchange", exchange, "--topic", topic, "--pool", pool, *tap,
         "--count", "3", "-o", str(out)]
    )  # fmt: skip
    rec.wait_ready()
    # The exchange is transient, as every service with oslo's defaults declares it ...
    assert declared_as(bus.url, exchange, durable=False)
    # ... while the tap queue is what was asked for.
    expected = "quorum durable=true" if "quorum" in tap else "classic durable=true"
    assert queue_types(bus.url)[f"{pool}.{exchange}"] == expected
    send_as_a_service(bus, exchange, topic, 3)
    code, _ = rec.finish(timeout=60)
    assert code == 0, rec.stderr
    assert [r["payload"]["n"] for r in read_records(out)] == [0, 1, 2]
    # The tap's bindings die with the transient exchange: the ready line says so.
    assert rec.stderr[1] == (
        f"The tap's bindings will not survive a broker restart: exchange {exchange} is "
        "transient (as the services declared them), and a restart drops them with their "
        "bindings until osreplay reconnects and binds again"
    )
    assert declared_as(bus.url, exchange, durable=False)  # still as the services have it


@pytest.mark.parametrize("tap", [[], ["--durable"], ["--queue-type", "quorum"]])
def test_an_existing_durable_exchange_is_used_as_it_is(bus, tmp_path, tap):  # noqa: F811
    # The production case for clusters: oslo declared it durable (auto_delete false).
    exchange, topic, pool = unique("nova"), unique("topic"), unique("pool")
    bus.durable_exchange(exchange)
    bus.forget(f"{pool}.{exchange}", *(f"{topic}.{p}" for p in ("info",)))
    out = tmp_path / "rec.ndjson"
    rec = Recording(
        ["--url", bus.url, "--exchange", exchange, "--topic", topic, "--pool", pool, *tap,
         "--count", "2", "-o", str(out)]
    )  # fmt: skip
    ready = rec.wait_ready()
    assert ready.startswith("Recording from ")
    assert not any("will not survive" in line for line in rec.stderr)
    replay = tmp_path / "in.ndjson"
    replay.write_text(
        "".join(
            f'{{"event_type": "e", "priority": "INFO", "payload": {{"n": {i}}}, '
            f'"publisher_id": "p", "exchange": "{exchange}", "topic": "{topic}"}}\n'
            for i in range(2)
        )
    )
    # Services configured durable publish into it: osreplay replay with their option.
    sent = subprocess.run(
        [*RUN, "replay", "--url", bus.url + "?amqp_durable_queues=true", "--rate", "0",
         str(replay)],
        capture_output=True, text=True, timeout=120, env=ENV,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    code, _ = rec.finish(timeout=60)
    assert code == 0, rec.stderr
    assert [r["payload"]["n"] for r in read_records(out)] == [0, 1]
    assert declared_as(bus.url, exchange, durable=True)


def test_a_config_file_that_says_durable_declares_a_missing_exchange_durable(bus, tmp_path):  # noqa: F811
    exchange, topic, pool = unique("nova"), unique("topic"), unique("pool")
    bus.durable_exchange(exchange)  # for clean-up; deleted again at once below
    with kombu.Connection(amqp(bus.url)) as conn:
        conn.channel().exchange_delete(exchange)
    conf = tmp_path / "nova.conf"
    conf.write_text(
        f"[DEFAULT]\ntransport_url = {bus.url}\n"
        "[oslo_messaging_rabbit]\namqp_durable_queues = true\n"
    )
    rec = Recording(
        ["--config-file", str(conf), "--exchange", exchange, "--topic", topic, "--pool", pool,
         "--duration", "0.5", "-o", str(tmp_path / "rec.ndjson")],
        env=ENV,
    )  # fmt: skip
    assert rec.finish()[0] == 0, rec.stderr
    assert declared_as(bus.url, exchange, durable=True)


def test_a_config_files_control_exchange_is_recorded(vhost_url, tmp_path):
    import oslo_messaging

    from osreplay.bus.transport import get_transport

    exchange, topic, pool = unique("keystone"), unique("topic"), unique("pool")
    conf = tmp_path / "keystone.conf"
    conf.write_text(
        f"[DEFAULT]\ntransport_url = {vhost_url}\ncontrol_exchange = {exchange}\n"
        f"[oslo_messaging_notifications]\ntopics = {topic}\n"
    )
    out = tmp_path / "rec.ndjson"
    rec = Recording(
        ["--config-file", str(conf), "--pool", pool, "--count", "1", "-o", str(out)], env=ENV
    )
    ready = rec.wait_ready()
    assert f"Exchange {exchange} from {conf} [DEFAULT] control_exchange" in rec.stderr
    assert ready.startswith("Recording from rabbit://guest:***@127.0.0.1:5672/")
    assert ready.endswith(f" on 16 exchanges, topic {topic} (pool {pool})")
    transport = get_transport(resolve(config_files=[str(conf)], environ={}))
    try:  # keystone as configured: its control_exchange, oslo's defaults
        notifier = oslo_messaging.Notifier(transport, driver="messagingv2", topics=[topic])
        notifier.info({}, "identity.user.created", {"n": 0})
        code, _ = rec.finish(timeout=60)
    finally:
        transport.cleanup()
    assert code == 0, rec.stderr
    assert [(r["exchange"], r["topic"]) for r in read_records(out)] == [(exchange, topic)]


def test_a_pool_is_locked_before_its_first_consumer_exists(bus):  # noqa: F811
    exchange, pool = unique("nova"), unique("pool")
    bus.durable_exchange(exchange)
    settings = resolve(url=bus.url)
    first = TapQueues(settings, connect_timeout=15, on_cleanup_failed=lambda *a: None)
    second = TapQueues(settings, connect_timeout=15, on_cleanup_failed=lambda *a: None)
    try:
        first.prepare([exchange], ["notifications"], pool=pool, append=False)
        # The first has not started listening: no consumer yet, and still refused.
        with pytest.raises(UsageError) as refused:
            second.prepare([exchange], ["notifications"], pool=pool, append=False)
        assert str(refused.value) == (
            f"pool {pool} is in use by another osreplay record; choose another --pool"
        )
        first.release()
        second.prepare([exchange], ["notifications"], pool=pool, append=False)
    finally:
        first.release()
        second.release()
    assert bus.inspect(pool + LOCK_SUFFIX) is None  # the lock goes with its connection


def test_two_recorders_started_in_the_same_instant_never_share_a_pool(bus, tmp_path):  # noqa: F811
    exchange, topic = unique("nova"), unique("topic")
    bus.notifier(exchange, topic)
    for trial in range(3):
        pool = unique("pool")
        bus.forget(f"{pool}.{exchange}")
        args = ["--url", bus.url, "--exchange", exchange, "--topic", topic, "--pool", pool,
                "--duration", "3"]  # fmt: skip
        recs = [Recording([*args, "-o", str(tmp_path / f"{trial}-{n}.ndjson")]) for n in (1, 2)]
        codes = sorted(rec.finish(timeout=90)[0] for rec in recs)
        stderr = [line for rec in recs for line in rec.stderr]
        assert codes == [0, 2], stderr
        assert (
            f"Error: pool {pool} is in use by another osreplay record; choose another --pool"
            in (stderr)
        )
