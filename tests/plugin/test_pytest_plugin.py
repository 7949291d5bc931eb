"""The pytest plugin, used the way a consumer's test suite uses it (pytester).

Each test writes a consumer's test file, with an oslo notification listener and an
endpoint of its own, and runs it in a pytest of its own process: the plugin is loaded
from its ``pytest11`` entry point, as it is for anyone who installs osreplay.
"""

from __future__ import annotations

import json

import pytest

RECORDS = [
    {
        "event_type": f"compute.instance.{step}",
        "publisher_id": "nova-compute:compute-1",
        "priority": "INFO",
        "payload": {"instance_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "step": i},
        "timestamp": f"2024-03-05 10:00:0{i}.000000",
        "ctxt": {"request_id": "req-14a1f71e-78a4-484f-94c5-5d6233533772"},
        "exchange": "nova",
        "topic": "plugin-test",
    }
    for i, step in enumerate(["create.start", "update", "create.end"])
]

CONSUMER = '''
import threading
import time

import pytest

import oslo_messaging
from oslo_config import cfg

ORIGINAL = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


class Meter:
    """The consumer under test: counts instance events per instance."""

    def __init__(self):
        self.events = []
        self.done = threading.Event()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self.events.append((event_type, payload["instance_id"], ctxt.get("request_id")))
        if len(self.events) == EXPECTED:
            self.done.set()


def listen(url, exchange, topic):
    transport = oslo_messaging.get_notification_transport(cfg.ConfigOpts(), url=url)
    meter = Meter()
    listener = oslo_messaging.get_notification_listener(
        transport, [oslo_messaging.Target(topic=topic, exchange=exchange)], [meter],
        executor="threading",
    )
    listener.start()
    return meter, listener, transport


def stop(listener, transport):
    listener.stop()
    listener.wait()
    transport.cleanup()
'''

MEMORY_TEST = """
EXPECTED = 3


def test_the_meter_sees_the_whole_scenario(osreplay_replay):
    meter, listener, transport = listen("kombu+memory:////", "nova", "plugin-test")
    try:
        summary = osreplay_replay(RECORDING)
        assert meter.done.wait(10)
    finally:
        stop(listener, transport)
    assert (summary.sent, summary.failed, summary.ok) == (3, 0, True)
    assert [event for event, _, _ in meter.events] == [
        "compute.instance.create.start", "compute.instance.update", "compute.instance.create.end"
    ]
    assert {instance for _, instance, _ in meter.events} == {ORIGINAL}


def test_fresh_ids_give_the_meter_a_new_instance(osreplay_replay):
    meter, listener, transport = listen("kombu+memory:////", "nova-fresh", "plugin-fresh")
    try:
        summary = osreplay_replay(
            RECORDING, exchange="nova-fresh", topics=["plugin-fresh"], fresh_ids=True
        )
        assert meter.done.wait(10)
    finally:
        stop(listener, transport)
    assert summary.sent == 3
    instances = {instance for _, instance, _ in meter.events}
    assert len(instances) == 1 and ORIGINAL not in instances
    assert len({request for _, _, request in meter.events}) == 1
"""

BROKER_TEST = """
EXPECTED = 3


def test_a_private_vhost_on_the_broker(osreplay_replay, osreplay_vhost):
    assert "/osreplay-test-" in osreplay_vhost
    meter, listener, transport = listen(osreplay_vhost, "nova", "plugin-test")
    try:
        summary = osreplay_replay(RECORDING, url=osreplay_vhost)
        assert meter.done.wait(20)
    finally:
        stop(listener, transport)
    assert (summary.sent, summary.failed) == (3, 0)
"""

BROKEN_TEST = """
EXPECTED = 1


def test_an_unreadable_recording_is_refused(osreplay_replay, tmp_path):
    from osreplay.errors import RecordingRefused

    bad = tmp_path / "bad.ndjson"
    bad.write_text("{oops\\n")
    with pytest.raises(RecordingRefused, match="1 unreadable line, nothing sent"):
        osreplay_replay(bad)
"""


def consumer_suite(pytester: pytest.Pytester, body: str) -> None:
    recording = pytester.path / "scenario.ndjson"
    recording.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    pytester.makepyfile(
        test_consumer=CONSUMER + f"\nRECORDING = {str(recording)!r}\n" + body,
    )


def test_the_fixture_replays_into_a_listener_on_the_memory_transport(pytester):
    consumer_suite(pytester, MEMORY_TEST + BROKEN_TEST.replace("EXPECTED = 1", ""))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=3)


@pytest.mark.broker
def test_the_vhost_fixture_gives_a_private_virtual_host_on_the_broker(pytester, broker_url):
    consumer_suite(pytester, BROKER_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-rs", timeout=120)
    result.assert_outcomes(passed=1)


def test_the_vhost_fixture_skips_without_a_broker(pytester, monkeypatch):
    monkeypatch.setenv("OSREPLAY_TEST_URL", "rabbit://guest:guest@127.0.0.1:1/")
    consumer_suite(pytester, BROKER_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*no RabbitMQ answers at 127.0.0.1:1 (set OSREPLAY_TEST_URL)*"])


def test_warnings_as_errors_in_the_consumers_suite(pytester):
    # Nothing imported oslo before the fixture: eventlet's import-time warning must not
    # fail a suite that turns warnings into errors.
    recording = pytester.path / "scenario.ndjson"
    recording.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    pytester.makepyfile(
        test_quiet=f"""
def test_replay_only(osreplay_replay):
    summary = osreplay_replay({str(recording)!r}, topics=["nobody-listens"])
    assert (summary.sent, summary.failed) == (3, 0)
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-W", "error")
    result.assert_outcomes(passed=1)


# --- osreplay_collect, and osreplay_vhost through the management API -------------------

COLLECT_BROKER_TEST = """
import shutil


def test_collect_in_a_vhost_made_without_rabbitmqctl(
    osreplay_replay, osreplay_collect, osreplay_vhost
):
    assert shutil.which("rabbitmqctl") is None
    collected = osreplay_collect(exchange="nova", topics=["plugin-test"])
    summary = osreplay_replay(RECORDING)  # into the test's vhost, as the collector listens
    assert (summary.sent, summary.failed) == (3, 0)
    ends = collected.wait_for(event_type="*.create.end", timeout=30)
    assert [r["event_type"] for r in ends] == ["compute.instance.create.end"]
    collected.wait_for(count=3, timeout=30)
    first = collected.records[0]
    assert first["exchange"] == "nova" and first["topic"] == "plugin-test"
    assert first["payload"]["instance_id"] == ORIGINAL
    assert first["ctxt"]["request_id"] == "req-14a1f71e-78a4-484f-94c5-5d6233533772"
"""


def _path_without_rabbitmqctl() -> str:
    import os
    import shutil

    keep = [
        folder
        for folder in os.environ.get("PATH", "").split(os.pathsep)
        if folder and not shutil.which("rabbitmqctl", path=folder)
    ]
    return os.pathsep.join(keep)


@pytest.mark.broker
def test_the_vhost_fixture_uses_the_management_api_without_rabbitmqctl(
    pytester, broker_url, monkeypatch
):
    monkeypatch.setenv("PATH", _path_without_rabbitmqctl())
    consumer_suite(pytester, COLLECT_BROKER_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-rs", timeout=180)
    result.assert_outcomes(passed=1)


VHOST_NAME_TEST = """
def test_note_the_vhost(osreplay_vhost):
    with open(NOTE, "w") as note:
        note.write(osreplay_vhost.rsplit("/", 1)[1])
"""


@pytest.mark.broker
def test_the_vhost_is_deleted_after_the_test(pytester, broker_url):
    import json as _json
    import urllib.request

    note = pytester.path / "vhost.txt"
    consumer_suite(pytester, f"NOTE = {str(note)!r}\n" + VHOST_NAME_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=120)
    result.assert_outcomes(passed=1)
    vhost = note.read_text()
    assert vhost.startswith("osreplay-test-")
    request = urllib.request.Request("http://127.0.0.1:15672/api/vhosts")
    request.add_header("Authorization", "Basic Z3Vlc3Q6Z3Vlc3Q=")  # guest:guest
    with urllib.request.urlopen(request, timeout=10) as response:
        names = {v["name"] for v in _json.load(response)}
    assert vhost not in names


COLLECT_TIMEOUT_TEST = """
def test_waits_in_vain(osreplay_replay, osreplay_collect):
    collected = osreplay_collect(exchange="nova", topics=["plugin-timeout"])
    osreplay_replay(RECORDING, topics=["plugin-timeout"])
    collected.wait_for(count=3, timeout=30)
    collected.wait_for(event_type="compute.instance.delete.end", timeout=0.5)
"""


def test_wait_for_fails_the_test_saying_what_arrived(pytester):
    consumer_suite(pytester, COLLECT_TIMEOUT_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*osreplay_collect: waited 0.5 s for 1 record of compute.instance.delete.end on "
            "exchange nova, topics plugin-timeout; received 3 records (compute.instance.create.end,"
            " compute.instance.create.start, compute.instance.update)*"
        ]
    )


SNAPSHOT_TEST = """
def test_the_producer_emits_the_boot(osreplay_replay, osreplay_collect):
    collected = osreplay_collect(exchange="nova", topics=["plugin-snapshot"])
    osreplay_replay(RECORDING, topics=["plugin-snapshot"], fresh_ids=True)
    collected.wait_for(count=3, timeout=30)
    collected.assert_matches_recording(GOLDEN, ignore=["payload.step"])
"""


def test_a_golden_recording_is_written_by_update_and_then_compared(pytester):
    golden = pytester.path / "golden" / "boot.ndjson"
    consumer_suite(pytester, f"GOLDEN = {str(golden)!r}\n" + SNAPSHOT_TEST)

    missing = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    missing.assert_outcomes(failed=1)
    missing.stdout.fnmatch_lines([f"*no golden recording at {golden}: run pytest --osreplay-*"])

    update = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "--osreplay-update")
    update.assert_outcomes(passed=1)
    written = [json.loads(line) for line in golden.read_text().splitlines()]
    assert [r["event_type"] for r in written] == [r["event_type"] for r in RECORDS]

    # Fresh ids each run, and the ignored step: the same scenario matches.
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q").assert_outcomes(passed=1)

    written[2]["payload"]["instance_id"] = "not-an-id"
    written[1]["publisher_id"] = "nova-compute:elsewhere"
    golden.write_text("".join(json.dumps(r) + "\n" for r in written))
    changed = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    changed.assert_outcomes(failed=1)
    changed.stdout.fnmatch_lines(
        [
            f"*what arrived differs from {golden} (A) beyond volatile fields*",
            "*compute.instance.create.end: $.payload.instance_id: \"not-an-id\" in A*",
            "*compute.instance.update: $.publisher_id: *",
        ]
    )


# --- the README's consumer test, as written --------------------------------------------

BILLING_SERVICE = '''
import threading

import oslo_messaging
import pytest
from oslo_config import cfg

RUNNING = []


class Billing:
    """The code under test: closes the bill of a deleted instance, and says so."""

    def __init__(self, notifier):
        self.notifier = notifier

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        if event_type == "compute.instance.delete.end":
            self.notifier.info(
                {},
                "billing.instance.closed",
                {"instance": payload["instance_id"], "state": "closed"},
            )


def start_billing_service(url):
    conf = cfg.ConfigOpts()
    listening = oslo_messaging.get_notification_transport(conf, url=url)
    conf.set_override("control_exchange", "billing")
    sending = oslo_messaging.get_notification_transport(conf, url=url)
    notifier = oslo_messaging.Notifier(
        sending, publisher_id="billing", driver="messagingv2", topics=["notifications"]
    )
    listener = oslo_messaging.get_notification_listener(
        listening,
        [oslo_messaging.Target(topic="notifications", exchange="nova")],
        [Billing(notifier)],
        executor="threading",
        pool="billing",
    )
    listener.start()
    RUNNING.append((listener, listening, sending))


@pytest.fixture(autouse=True)
def stop_billing():
    yield
    for listener, listening, sending in RUNNING:
        listener.stop()
        listener.wait()
        listening.cleanup()
        sending.cleanup()
'''


def test_the_readme_consumer_test_runs_as_written(pytester):
    import re
    from pathlib import Path

    readme = Path(__file__).parents[2].joinpath("README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    (example,) = [block for block in blocks if "osreplay_collect" in block]
    deleted = {
        "event_type": "compute.instance.delete.end",
        "publisher_id": "nova-compute:compute-1",
        "priority": "INFO",
        "payload": {"instance_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"},
        "timestamp": "2024-03-05 10:00:00.000000",
        "exchange": "nova",
        "topic": "notifications",
    }
    recordings = pytester.path / "tests" / "recordings"
    recordings.mkdir(parents=True)
    (recordings / "delete.ndjson").write_text(json.dumps(deleted) + "\n", encoding="utf-8")
    pytester.makepyfile(test_billing=BILLING_SERVICE + "\n" + example)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)
