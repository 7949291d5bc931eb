"""OsloSender on oslo's in-process ``kombu+memory`` transport (the full rabbit driver).

oslo_messaging is imported inside the tests: osreplay, imported first, silences the
deprecation warning eventlet raises on import (pytest turns warnings into errors).
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from osreplay.bus.driver import ConfirmingDriver
from osreplay.bus.transport import get_transport, resolve
from osreplay.errors import ConfigError, UsageError
from osreplay.model.notification import PRIORITIES, Notification
from osreplay.replay.context import ReplayContext, replay_context
from osreplay.replay.sender import OsloSender, PublishError

MEMORY = "kombu+memory:////"


class Collector:
    """A notification endpoint with a method per priority; remembers every call."""

    def __init__(self) -> None:
        self.got: list[tuple[str, dict, str, str, object]] = []
        self.lock = threading.Lock()

    def __getattr__(self, name: str):
        if name.upper() not in PRIORITIES:
            raise AttributeError(name)

        def endpoint(ctxt, publisher_id, event_type, payload, metadata):
            with self.lock:
                self.got.append((name, ctxt, publisher_id, event_type, payload))

        return endpoint


@pytest.fixture
def settings():
    return resolve(url=MEMORY, environ={})


@pytest.fixture
def exchange():
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def topic():
    # Queues are named <topic>.<priority> whatever the exchange, and the memory transport
    # is shared by the whole test process: a topic of its own keeps each test's messages.
    return f"topic-{uuid.uuid4().hex[:8]}"


def listen(settings, exchange, topic):
    import oslo_messaging

    collector = Collector()
    transport = get_transport(settings, exchange=exchange)
    listener = oslo_messaging.get_notification_listener(
        transport,
        [oslo_messaging.Target(topic=topic, exchange=exchange)],
        [collector],
        executor="threading",
    )
    listener.start()
    return collector, listener, transport


def wait_for(collector, count, timeout=10.0):
    deadline = time.monotonic() + timeout
    while len(collector.got) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return collector.got


def stop(listener, transport):
    listener.stop()
    listener.wait()
    transport.cleanup()


def note(priority="INFO", **extra) -> Notification:
    return Notification.from_dict(
        {
            "event_type": "compute.instance.create.end",
            "publisher_id": "nova-compute:host1",
            "priority": priority,
            "payload": {"instance_id": "abc", "n": [1, 2]},
            **extra,
        }
    )


@pytest.mark.parametrize("driver", ["messagingv2", "messaging"])
def test_every_priority_reaches_a_listener_unchanged(settings, exchange, topic, driver):
    collector, listener, transport = listen(settings, exchange, topic)
    sender = OsloSender(settings, driver=driver, retry=0)
    try:
        for priority in PRIORITIES:
            sender.send(note(priority, publisher_id=f"pub-{priority}"), exchange, topic)
        got = wait_for(collector, len(PRIORITIES))
    finally:
        sender.close()
        stop(listener, transport)
    assert sorted(g[0] for g in got) == sorted(p.lower() for p in PRIORITIES)
    for method, _ctxt, publisher_id, event_type, payload in got:
        assert publisher_id == f"pub-{method.upper()}"
        assert event_type == "compute.instance.create.end"
        assert payload == {"instance_id": "abc", "n": [1, 2]}


def test_context_reaches_the_consumer_redacted_keys_stay_and_nothing_is_invented(
    settings, exchange, topic
):
    collector, listener, transport = listen(settings, exchange, topic)
    sender = OsloSender(settings, retry=0)
    recorded = {
        "request_id": "req-1",
        "global_request_id": "req-g",
        "user": "u1",
        "project_id": "p1",
        "roles": ["member"],
        "auth_token": "***",
        "remote_address": "10.0.0.1",  # a nova-only key RequestContext does not know
        "client_timeout": None,
    }
    try:
        sender.send(note(ctxt=recorded), exchange, topic)
        sender.send(note(ctxt={"user": "u2", "auth_token": "gAAAAA-live-token"}), exchange, topic)
        sender.send(note(ctxt={"user": "u3"}), exchange, topic)
        sender.send(note(), exchange, topic)
        got = wait_for(collector, 3)
    finally:
        sender.close()
        stop(listener, transport)
    contexts = {g[1].get("user"): g[1] for g in got}
    first = contexts["u1"]
    assert first["request_id"] == "req-1" and first["global_request_id"] == "req-g"
    assert first["project_id"] == "p1" and first["roles"] == ["member"]
    assert first["auth_token"] == "***" and first["remote_address"] == "10.0.0.1"
    assert "request_id" not in contexts["u3"] and "auth_token" not in contexts["u3"]
    assert [set(g[1]) - {"client_timeout"} for g in got if "user" not in g[1]] == [set()]


def test_a_live_token_is_never_sent():
    recorded = {"user": "u", "auth_token": "secret", "service_token": "s2", "trust_id": None}
    context = replay_context(recorded)
    assert isinstance(context, ReplayContext)
    assert context.to_dict() == {
        "user": "u",
        "auth_token": "***",
        "service_token": "***",
        "trust_id": None,
    }
    assert recorded["auth_token"] == "secret"  # the record itself is not modified
    assert context.redacted_copy().to_dict() == context.to_dict()
    assert context.user_id == "u"
    assert replay_context(None) == {} and replay_context({}) == {}


def test_a_failed_send_raises_with_the_password_masked(settings, exchange, topic, monkeypatch):
    import oslo_messaging

    def refuse(self, target, ctxt, message, version, retry=None):
        raise oslo_messaging.MessageDeliveryFailure(
            "Unable to connect to rabbit://guest:s3cret@h:5672/ after 3 tries"
        )

    monkeypatch.setattr(oslo_messaging.transport.Transport, "_send_notification", refuse)
    sender = OsloSender(settings, retry=0)
    try:
        with pytest.raises(PublishError) as excinfo:
            sender.send(note(), exchange, topic)
    finally:
        sender.close()
    assert str(excinfo.value) == "Unable to connect to rabbit://guest:***@h:5672/ after 3 tries"


def test_a_notifier_that_never_calls_the_driver_is_a_failure(
    settings, exchange, topic, monkeypatch
):
    monkeypatch.setattr(ConfirmingDriver, "notify", lambda *args: None)
    sender = OsloSender(settings, retry=0)
    try:
        with pytest.raises(PublishError, match="did not run osreplay's driver"):
            sender.send(note(), exchange, topic)
    finally:
        sender.close()


def test_an_unregistered_driver_is_a_clear_error(settings, exchange, topic, monkeypatch):
    import importlib.metadata

    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **kwargs: [])
    monkeypatch.setattr(ConfirmingDriver, "notify", lambda *args: None)  # as if not loaded
    sender = OsloSender(settings)
    try:
        with pytest.raises(
            ConfigError,
            match=r"is not registered on the oslo.messaging.notify.drivers entry point: "
            r"install osreplay \(pip install \.\)",
        ):
            sender.send(note(), exchange, topic)
    finally:
        sender.close()


def test_unknown_driver(settings):
    with pytest.raises(UsageError):
        OsloSender(settings, driver="log")


def test_transports_and_notifiers_are_cached(settings, exchange, topic):
    sender = OsloSender(settings, retry=0)
    try:
        for i in range(5):
            sender.send(note(publisher_id=f"p{i % 2}"), exchange, topic)
            sender.send(note(), exchange + "-b", topic)
        assert len(sender._transports) == 2 and len(sender._notifiers) == 2
    finally:
        sender.close()
