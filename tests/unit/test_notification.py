"""The record model: the shapes people have on disk all read as one Notification."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from osreplay.model.notification import (
    Notification,
    RecordError,
    is_bare_cadf,
    normalise,
    parse_timestamp,
    unreadable_reason,
)

RECORD = {
    "event_type": "instance.create.end",
    "publisher_id": "nova-compute:compute-1",
    "priority": "INFO",
    "payload": {"nova_object.name": "InstanceCreatePayload"},
}


def test_a_documentation_sample_is_a_record_as_it_is():
    notification = Notification.from_dict(dict(RECORD))
    assert notification.to_dict() == RECORD


def test_priority_is_accepted_in_any_case_and_written_uppercase():
    assert Notification.from_dict({**RECORD, "priority": "info"}).priority == "INFO"
    assert Notification.from_dict({**RECORD, "priority": "warning"}).priority == "WARN"
    assert (
        json.loads(Notification.from_dict({**RECORD, "priority": "Error"}).to_line())["priority"]
        == "ERROR"
    )


def test_unknown_top_level_keys_round_trip_in_place():
    record = {**RECORD, "message_id": "m-1", "x-team": {"owner": "qa"}}
    assert json.loads(Notification.from_dict(record).to_line()) == record


def test_v1_wire_body_context_keys_become_ctxt_and_unique_id_is_dropped():
    body = {
        **RECORD,
        "message_id": "m-1",
        "timestamp": "2014-01-17 11:30:41.456481",
        "_unique_id": "abc",
        "_context_request_id": "req-1",
        "_context_user_id": "u-1",
    }
    notification = Notification.from_dict(body)
    assert notification.ctxt == {"request_id": "req-1", "user_id": "u-1"}
    assert "_unique_id" not in notification.to_dict()
    assert notification.message_id == "m-1"


def test_v2_wire_body_is_unwrapped():
    inner = {**RECORD, "_context_request_id": "req-2", "_unique_id": "x"}
    body = {"oslo.version": "2.0", "oslo.message": json.dumps(inner)}
    notification = Notification.from_dict(body)
    assert notification.event_type == "instance.create.end"
    assert notification.ctxt == {"request_id": "req-2"}


@pytest.mark.parametrize("message", ["not json", "[1, 2]", 42])
def test_a_v2_body_whose_message_is_not_an_object_is_a_record_error(message):
    with pytest.raises(RecordError, match="oslo.message"):
        normalise({"oslo.version": "2.0", "oslo.message": message})


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"event_type": None}, "event_type must be a string, not null"),
        ({"publisher_id": 3}, "publisher_id must be a string or null, not 3"),
        ({"exchange": ["nova"]}, "exchange must be a string, not an array"),
        ({"priority": "LOUD"}, 'priority "LOUD" is not one of AUDIT'),
        ({"ctxt": ["a"]}, "ctxt must be a JSON object"),
    ],
)
def test_from_dict_refuses_a_bad_record_with_a_message_naming_the_key(change, error):
    with pytest.raises(RecordError, match=error):
        Notification.from_dict({**RECORD, **change})


def test_from_dict_names_every_missing_key():
    with pytest.raises(RecordError, match="missing required key\\(s\\): publisher_id, payload"):
        Notification.from_dict({"event_type": "x", "priority": "INFO"})


def test_a_bare_cadf_event_is_recognised():
    event = {"typeURI": "http://schemas.dmtf.org/cloud/audit/1.0/event", "id": "e"}
    assert is_bare_cadf(event)
    assert not is_bare_cadf({**RECORD, "payload": event})
    assert unreadable_reason(event) == (
        "a bare CADF event, not a notification (no event_type, publisher_id, …)"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2014-01-17 11:30:41.456481", datetime(2014, 1, 17, 11, 30, 41, 456481, timezone.utc)),
        ("2014-01-17 11:30:41", datetime(2014, 1, 17, 11, 30, 41, tzinfo=timezone.utc)),
        ("2014-02-14T01:20:47.932842", datetime(2014, 2, 14, 1, 20, 47, 932842, timezone.utc)),
        ("2014-02-14T01:20:47+0100", datetime(2014, 2, 14, 0, 20, 47, tzinfo=timezone.utc)),
        ("2014-02-14T01:20:47+00:00", datetime(2014, 2, 14, 1, 20, 47, tzinfo=timezone.utc)),
        ("2014-02-14T01:20:47Z", datetime(2014, 2, 14, 1, 20, 47, tzinfo=timezone.utc)),
        (" 2014-02-14T01:20:47Z ", datetime(2014, 2, 14, 1, 20, 47, tzinfo=timezone.utc)),
        ("2014-02-14", datetime(2014, 2, 14, tzinfo=timezone.utc)),
        ("0001-01-01T00:00:00+01:00", None),  # before year 1 in UTC
        ("2014-02-30 11:30:41", None),
        ("yesterday", None),
        ("", None),
        (None, None),
        (1392340847, None),
    ],
)
def test_timestamps_in_oslo_and_iso_formats(text, expected):
    parsed = parse_timestamp(text)
    assert parsed == expected
    if parsed is not None:  # always aware UTC, whichever path read it
        assert parsed.tzinfo is timezone.utc


def test_sent_at_falls_back_to_recorded_at():
    notification = Notification.from_dict({**RECORD, "recorded_at": "2024-01-01T00:00:01+00:00"})
    assert notification.sent_at == datetime(2024, 1, 1, 0, 0, 1, tzinfo=timezone.utc)


def test_a_line_is_one_line_of_utf8_json_without_nan():
    notification = Notification.from_dict({**RECORD, "payload": {"name": "héllo\nworld"}})
    line = notification.to_line()
    assert line.endswith("\n") and line.count("\n") == 1
    assert "héllo" in line
    with pytest.raises(ValueError):
        Notification.from_dict({**RECORD, "payload": float("nan")}).to_line()


def test_a_null_publisher_and_a_string_payload_are_a_notification_as_oslo_sends_them():
    # oslo-messaging-send-notification without --publisher-id: both as on the wire.
    obj = {**RECORD, "publisher_id": None, "payload": "plain text"}
    assert unreadable_reason(obj) is None
    notification = Notification.from_dict(obj)
    assert notification.publisher_id is None and notification.payload == "plain text"
    assert json.loads(notification.to_line()) == obj


def test_a_lone_surrogate_is_written_as_its_json_escape():
    # Valid JSON text that Python decodes to a string UTF-8 cannot encode.
    obj = json.loads('{"event_type": "x", "publisher_id": "p", "priority": "INFO", '
                     '"payload": {"name": "caf\\u00e9 \\udcff"}}')  # fmt: skip
    line = Notification.from_dict(obj).to_line()
    assert line.encode("utf-8").endswith(b'"payload": {"name": "caf\\u00e9 \\udcff"}}\n')
    assert json.loads(line) == obj
