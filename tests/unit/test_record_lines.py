"""What record writes for one message: the record model's line, masked by the one set of
rules (``redact_record``), whatever the shortcuts the recorder takes to get there."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from osreplay.bus.transport import RECEIVED_CONTEXT_KEYS
from osreplay.model.notification import PRIORITIES, dumps_line, unreadable_reason
from osreplay.secrets import oslo_keys
from osreplay.secrets.rules import Redactor, redact_record
from osreplay.tap.lines import _skip_reason, build_line

SECRETS = ["password=s3", "rabbit://u:p@h:5672/", "Bearer abc", "\udcff", "é", ""]
KEYS = ["password", "adminPass", "token", "credential", "X-Auth-Token", "name", "id", "key_name"]
text = st.one_of(st.text(max_size=10), st.sampled_from(SECRETS))
keys = st.one_of(st.text(max_size=8), st.sampled_from(KEYS))
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), text
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=12,
)
messages = st.fixed_dictionaries(
    {
        "ctxt": st.one_of(
            st.none(),
            st.dictionaries(
                st.one_of(keys, st.sampled_from(sorted(RECEIVED_CONTEXT_KEYS))),
                json_values,
                max_size=4,
            ),
        ),
        "publisher_id": st.one_of(st.none(), text),
        "event_type": text,
        "payload": json_values,
        "metadata": st.fixed_dictionaries(
            {"message_id": st.one_of(st.none(), st.uuids().map(str)), "timestamp": text}
        ),
    }
)


def expected_line(message: dict, priority: str, redact: bool) -> str:
    """The record as the record model writes it, masked by redact_record (or not)."""
    ctxt = message["ctxt"]
    if isinstance(ctxt, dict):
        ctxt = {k: v for k, v in ctxt.items() if not (k in RECEIVED_CONTEXT_KEYS and v is None)}
    record = {
        "event_type": message["event_type"],
        "publisher_id": message["publisher_id"],
        "priority": priority,
        "payload": message["payload"],
        "message_id": message["metadata"]["message_id"],
        "timestamp": message["metadata"]["timestamp"],
        "ctxt": ctxt or None,
        "exchange": "keystone",
        "topic": "notifications",
        "recorded_at": "2024-05-01T12:00:00.000001+00:00",
    }
    record = {key: value for key, value in record.items() if value is not None or key in (
        "publisher_id", "payload")}  # fmt: skip
    return dumps_line(redact_record(record, enabled=redact))


@settings(max_examples=300, deadline=None)
@given(message=messages, priority=st.sampled_from(PRIORITIES), redact=st.booleans())
def test_a_recorded_line_is_the_record_models_line_masked_by_redact_record(
    message, priority, redact
):
    message = json.loads(json.dumps(message))  # as oslo hands it over, after JSON transit
    entry = build_line(
        message,
        priority=priority,
        exchange="keystone",
        topic="notifications",
        recorded_at="2024-05-01T12:00:00.000001+00:00",
        redactor=Redactor(enabled=redact),
    )
    assert entry.line == expected_line(message, priority, redact)
    assert entry.message_id == message["metadata"]["message_id"]


def test_a_keystone_event_is_masked_where_its_secrets_are_and_nowhere_else():
    message = {
        "ctxt": {"auth_token": "gAAAAAB-tok", "request_id": "req-1", "msg_id": None},
        "publisher_id": "identity.keystone-1",
        "event_type": "identity.authenticate",
        "payload": {
            "typeURI": "http://schemas.dmtf.org/cloud/audit/1.0/event",
            "initiator": {"credential": {"token": "gAAAAAB-tok", "identity_status": "Confirmed"}},
            "observer": {"typeURI": "service/security", "id": "keystone"},
        },
        "metadata": {"message_id": "m1", "timestamp": "2024-05-01 12:00:00.000001"},
    }
    entry = build_line(
        message,
        priority="INFO",
        exchange="keystone",
        topic="notifications",
        recorded_at="2024-05-01T12:00:00.000001+00:00",
        redactor=Redactor(),
    )
    record = json.loads(entry.line)
    assert record["ctxt"] == {"auth_token": "***", "request_id": "req-1"}
    assert record["payload"]["initiator"]["credential"] == {
        "token": "***",
        "identity_status": "Confirmed",
    }
    assert record["payload"]["observer"] == {"typeURI": "service/security", "id": "keystone"}
    assert "gAAAAAB" not in entry.line


odd_values = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.none()))


@given(
    event_type=odd_values,
    publisher_id=odd_values,
    priority=st.one_of(st.sampled_from(PRIORITIES), st.sampled_from(["info", "WARNING", ""])),
)
def test_the_quick_notification_check_says_what_unreadable_reason_says(
    event_type, publisher_id, priority
):
    message = {"event_type": event_type, "publisher_id": publisher_id, "payload": {}}
    record = {**message, "priority": priority}
    assert _skip_reason(message, priority) == unreadable_reason(record)


def test_olsos_sensitive_keys_are_read_from_source_as_the_module_defines_them():
    strutils = pytest.importorskip("oslo_utils.strutils")
    expected = tuple(key.lower() for key in strutils._SANITIZE_KEYS)
    assert oslo_keys._from_source() == list(strutils._SANITIZE_KEYS)
    assert oslo_keys.sensitive_keys() == expected
    assert "admin_password" in expected


def test_sensitive_keys_come_from_the_module_when_its_source_has_no_plain_list(
    tmp_path, monkeypatch
):
    source = tmp_path / "strutils.py"
    source.write_text("_SANITIZE_KEYS = sorted(['password', 'token'])\n")

    class Spec:
        origin = str(source)

    monkeypatch.setattr(oslo_keys.importlib.util, "find_spec", lambda name: Spec())
    assert oslo_keys._from_source() is None
    monkeypatch.setattr(oslo_keys, "_from_import", lambda: ["Password", "Token"])
    assert oslo_keys.sensitive_keys() == ("password", "token")


def test_a_listener_that_has_worked_stops_in_a_fraction_of_a_second():
    # futurist's idle pool threads used to notice a stop only after a whole second.
    import threading
    import time

    import oslo_messaging
    from oslo_config import cfg

    from osreplay.tap.listeners import start_listener, stop_listeners

    transport = oslo_messaging.get_notification_transport(cfg.ConfigOpts(), url="kombu+memory:////")
    heard = threading.Event()

    class Endpoint:
        def info(self, messages):
            heard.set()

    listener = start_listener(
        transport, "openstack", "notifications", "osreplay-test.openstack", Endpoint(),
        batch_size=10, batch_timeout=0.05, workers=1,
    )  # fmt: skip
    try:
        notifier = oslo_messaging.Notifier(
            transport, driver="messagingv2", topics=["notifications"], publisher_id="test"
        )
        notifier.info({}, "compute.instance.update", {"n": 1})
        assert heard.wait(10)
    finally:
        started = time.monotonic()
        stop_listeners([listener])
        stopped_in = time.monotonic() - started
        transport.cleanup()
    assert stopped_in < 0.7
