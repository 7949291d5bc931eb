"""Rewriting records on replay: --fresh-ids, --retime, --set (osreplay.replay.rewrite)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from osreplay.errors import UsageError
from osreplay.model.notification import Notification
from osreplay.replay.rewrite import RewriteError, Rewriter, parse_set, shift_datetime

HOUR = timedelta(hours=1, microseconds=250)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("2014-01-17 11:30:41.456481", "2014-01-17 12:30:41.456731"),
        ("2014-02-14T01:20:47.932842+0000", "2014-02-14T02:20:47.933092+0000"),
        ("2014-02-14T01:20:47.932842+00:00", "2014-02-14T02:20:47.933092+00:00"),
        ("2012-10-29T13:42:11Z", "2012-10-29T14:42:11Z"),
        ("2012-10-29T13:42:11.12Z", "2012-10-29T14:42:11.12Z"),
        ("2012-10-29 23:42", "2012-10-30 00:42"),
        ("2012-10-29T13:42:11-05:00", "2012-10-29T14:42:11-05:00"),
        ("2012-10-29", "2012-10-29"),  # a date alone stays
        ("not 2012-10-29T13:42:11Z", "not 2012-10-29T13:42:11Z"),
        ("2012-13-29T13:42:11Z", "2012-13-29T13:42:11Z"),  # no such month
    ],
)
def test_a_date_time_moves_and_keeps_its_format(before, after):
    assert shift_datetime(before, HOUR) == after


def test_set_values_are_json_when_they_parse_else_strings():
    assert parse_set("$.payload.tenant_id=test-project").value == "test-project"
    assert parse_set("$.payload.count=5").value == 5
    assert parse_set('$.payload.tags=["a"]').value == ["a"]
    assert parse_set("$.payload['nova_object.data'].host=h").path == (
        "payload",
        "nova_object.data",
        "host",
    )
    assert parse_set("$.payload.list[1]=x").path == ("payload", "list", 1)
    # Written as diff --ignore writes paths: the `$.` is optional.
    assert parse_set("payload.x=1").path == parse_set("$.payload.x=1").path == ("payload", "x")
    assert parse_set("payload['a.b'][0]=1").path == ("payload", "a.b", 0)
    assert parse_set("['payload'].x=1").path == ("payload", "x")
    with pytest.raises(UsageError, match=r"^--set =1: name a field below \$"):
        parse_set("=1")
    with pytest.raises(UsageError, match=r"^--set \$.payload: give JSONPATH=VALUE"):
        parse_set("$.payload")


def note(i: int, **payload) -> Notification:
    return Notification.from_dict(
        {
            "event_type": "compute.instance.update",
            "publisher_id": "compute.host1",
            "priority": "INFO",
            "payload": {"id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "list": [1, 2], **payload},
            "timestamp": f"2024-03-05 10:00:0{i}.000000",
            "ctxt": {"request_id": "req-14a1f71e-78a4-484f-94c5-5d6233533772"},
        }
    )


def test_fresh_ids_are_consistent_within_a_pass_and_new_in_the_next():
    rewrite = Rewriter(fresh_ids=True)
    first, second = note(0), note(1)
    a1, a2 = rewrite(first, 1), rewrite(second, 1)
    b1 = rewrite(first, 2)
    assert a1.payload["id"] == a2.payload["id"] != first.payload["id"]
    assert b1.payload["id"] not in (a1.payload["id"], first.payload["id"])
    assert a1.ctxt["request_id"].startswith("req-") and a1.ctxt != first.ctxt
    assert first.payload["id"] == "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"  # never changed


def test_retime_moves_every_record_by_the_first_records_offset_per_pass():
    clock = [datetime(2030, 1, 1, tzinfo=timezone.utc)]
    rewrite = Rewriter(retime=True, now=lambda: clock[0])
    out = [rewrite(note(i, at="2024-03-05T09:59:59Z"), 1) for i in range(3)]
    assert [n.timestamp for n in out] == [
        "2030-01-01 00:00:00.000000",
        "2030-01-01 00:00:01.000000",
        "2030-01-01 00:00:02.000000",
    ]
    assert out[0].payload["at"] == "2029-12-31T23:59:59Z"
    clock[0] = datetime(2031, 1, 1, tzinfo=timezone.utc)
    assert rewrite(note(0), 2).timestamp == "2031-01-01 00:00:00.000000"


def test_set_overwrites_only_where_the_path_exists():
    rewrite = Rewriter.from_options(
        sets=["$.payload.list[1]=9", "$.payload.missing.x=1", "$.ctxt.request_id=r"]
    )
    original = note(0)
    out = rewrite(original, 1)
    assert out.payload["list"] == [1, 9] and "missing" not in out.payload
    assert out.ctxt == {"request_id": "r"}
    assert original.payload["list"] == [1, 2]
    with pytest.raises(RewriteError, match=r"^--set \$.priority=x makes a record unreadable: "):
        Rewriter.from_options(sets=["$.priority=x"])(original, 1)
