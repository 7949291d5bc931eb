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
