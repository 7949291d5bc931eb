"""Stream taps without a broker: windows, decoding, arguments, words and refusals."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from osreplay.bus.codec import BODY_BYTES, undecodable_reason
from osreplay.bus.stream_reader import StreamMessage
from osreplay.bus.streams import TapSpec, stream_arguments
from osreplay.cli import main
from osreplay.console.taps import list_lines, window_text
from osreplay.errors import UsageError
from osreplay.tap.lines import decode, topic_of
from osreplay.tap.taps import Listed, TapInfo, check_age, check_name, parse_size
from osreplay.tap.window import Window, parse_duration, parse_window

NOW = datetime(2026, 12, 7, 14, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("since", "until", "start", "end", "until_now"),
    [
        (None, None, None, NOW, True),
        ("first", "now", None, NOW, True),
        ("2h", None, NOW - timedelta(hours=2), NOW, True),
        ("1h30m", "30m", NOW - timedelta(minutes=90), NOW - timedelta(minutes=30), False),
        ("2026-12-07T13:05:00Z", "2026-12-07 13:06", NOW.replace(hour=13, minute=5),
         NOW.replace(hour=13, minute=6), False),
        ("2026-12-07T14:05:00+01:00", None, NOW.replace(hour=13, minute=5), NOW, True),
    ],
)  # fmt: skip
def test_windows_read_iso_times_durations_first_and_now(since, until, start, end, until_now):
    window = parse_window(since, until, now=NOW)
    assert (window.since, window.until, window.until_now) == (start, end, until_now)


def test_a_window_is_half_open():
    window = Window(NOW - timedelta(seconds=1), NOW)
    assert window.holds(NOW - timedelta(seconds=1))
    assert not window.holds(NOW)
    assert not window.holds(NOW - timedelta(seconds=1, microseconds=1))


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("yesterday", None, "--since 'yesterday': not a time; write ISO 8601"),
        (None, "soon", "--until 'soon': not a time"),
        ("1h", "2h", "--since 1h is not before --until 2h: the window is empty"),
    ],
)
def test_bad_windows_say_what_to_write(since, until, message):
    with pytest.raises(UsageError, match="^" + message.replace("(", r"\(")):
        parse_window(since, until, now=NOW)


def test_durations():
    assert parse_duration("90s") == 90 and parse_duration("1d2h") == 93600
    assert parse_duration("2026") is None


def test_topic_of_a_routing_key():
    assert topic_of("notifications.info") == "notifications"
    assert topic_of("notifications_designate.warn") == "notifications_designate"
    assert topic_of("bare") == "bare"


def test_decode_gives_what_osloss_batch_listener_hands_an_endpoint():
    inner = {
        "message_id": "m1", "publisher_id": "p", "event_type": "e", "priority": "WARN",
        "payload": {"a": 1}, "timestamp": "2026-12-07 13:00:00.5", "_unique_id": "u",
        "_context_user_id": "u1", "_context_auth_token": "t",
    }  # fmt: skip
    body = json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(inner)})
    note, priority = decode(StreamMessage(0, "nova", "notifications.warn", body))
    assert priority == "WARN"
    assert note["metadata"] == {"message_id": "m1", "timestamp": "2026-12-07 13:00:00.5"}
    assert note["ctxt"]["user_id"] == "u1" and note["ctxt"]["auth_token"] == "t"
    assert note["payload"] == {"a": 1} and note["event_type"] == "e"
    # a body that is not an oslo message comes back as the live recorder's stand-in
    for offset, body, why in ((1, b"not json", "not JSON"), (2, b"[1]", "not an oslo message")):
        stand_in, _ = decode(StreamMessage(offset, "nova", "n.info", body))
        assert stand_in["event_type"] is None
        assert why in undecodable_reason(stand_in)
        assert stand_in["payload"][BODY_BYTES] == len(body)


def test_stream_arguments_keep_small_retention_effective():
    assert stream_arguments("7D", 20 * 10**9) == {
        "x-queue-type": "stream", "x-max-age": "7D", "x-max-length-bytes": 20 * 10**9,
        "x-stream-max-segment-size-bytes": 500_000_000,
    }  # fmt: skip
    assert stream_arguments(None, 10**8)["x-stream-max-segment-size-bytes"] == 5_000_000
    assert stream_arguments(None, None) == {"x-queue-type": "stream"}


def test_tap_options_are_checked():
    assert parse_size("20GB") == 20 * 10**9 and parse_size("1GiB") == 2**30
    assert check_age("7D") == "7D"
    with pytest.raises(UsageError, match="--max-age 7 days: give a number and one of"):
        check_age("7 days")
    with pytest.raises(UsageError, match="--max-bytes 20: give a size with its unit"):
        parse_size("20")
    with pytest.raises(UsageError, match="tap name '../x': use letters"):
        check_name("../x")


def test_tap_list_marks_stale_counts_and_estimated_bytes():
    spec = TapSpec("t1", ("nova", "keystone"), ("notifications",), "7D", 20 * 10**9, "")
    fresh = TapInfo("t1", "osreplay.tap.t1", spec, messages=10, broker_messages=10,
                    bytes=12000, first_time=NOW - timedelta(hours=1),
                    last_time=NOW - timedelta(minutes=5), read_at=NOW)  # fmt: skip
    lines = list_lines(Listed("rabbit://guest:***@h:5672/", [fresh]))
    assert lines[1].split() == ["t1", "nova,keystone", "10", "≈12", "KB",
                                "2026-12-07T13:00:00Z", "2026-12-07T13:55:00Z", "7D", "or",
                                "20", "GB"]  # fmt: skip
    assert not any("stale" in line for line in lines)
    lagging = TapInfo("t1", "osreplay.tap.t1", spec, messages=12, broker_messages=10,
                      read_at=NOW)  # fmt: skip
    lines = list_lines(Listed("u", [lagging]))
    assert "12*" in lines[1] and "may be stale" in lines[-1]
    assert list_lines(Listed("u", [])) == ["No taps on u"]


def test_window_text():
    assert window_text(Window(None, NOW, until_now=True)) == "first – 2026-12-07T14:00:00Z (now)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "1h"], "Error: --since reads a stream tap: add --from-tap NAME"),
        (["--from-tap", "t", "--pool", "p"], "Error: --pool is for live recording"),
        (["--from-tap", "t", "--exchange", "nova"], "Error: --exchange is for live recording"),
        (["--from-tap", "t", "--since", "later"], "Error: --since 'later': not a time"),
    ],
)
def test_record_refuses_what_a_tap_read_cannot_do(args, message):
    result = CliRunner().invoke(main, ["record", "--url", "rabbit://127.0.0.1:1/", *args])
    assert result.exit_code == 2
    assert result.stderr.startswith(message), result.stderr


def test_tap_commands_need_rabbitmq():
    result = CliRunner().invoke(main, ["tap", "list", "--url", "kombu+memory:////"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: stream taps need RabbitMQ (3.9 or later)")


def test_sinks_sharing_a_budget_write_exactly_the_count_between_them(tmp_path):
    import multiprocessing

    from osreplay.model.writer import RecordingWriter
    from osreplay.tap.sink import LineSink, MessageLine, RecordStats
    from osreplay.tap.workers import SharedBudget

    budget = SharedBudget(10, multiprocessing.get_context("fork"))
    sinks, writers = [], []
    for n in (1, 2):
        writer = RecordingWriter(str(tmp_path / f"p{n}.ndjson"))
        writers.append(writer)
        sinks.append(LineSink(writer, RecordStats(), budget=budget))

    def lines(first: int, count: int) -> list[MessageLine]:
        return [
            MessageLine(f"m{i}", f'{{"n": {i}}}\n', "e", "x") for i in range(first, first + count)
        ]

    assert sinks[0].submit(lines(0, 4)) is True
    assert sinks[1].submit(lines(100, 4)) is True
    assert sinks[0].submit(lines(4, 4)) is False  # cut at the total: 2 of 4 written
    assert budget.reached and sinks[1].limit_reached
    assert sinks[1].submit(lines(104, 4)) is False  # nothing left
    for sink, writer in zip(sinks, writers, strict=True):
        sink.close()
        writer.close()
    written = [(tmp_path / f"p{n}.ndjson").read_text().count("\n") for n in (1, 2)]
    assert written == [6, 4] and budget.written == 10


@pytest.mark.parametrize("name", ["create", "list", "delete"])
def test_every_tap_command_and_option_has_help_text(name):
    import click

    command = main.commands["tap"].commands[name]  # type: ignore[attr-defined]
    assert command.help
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"osreplay tap {name} {param.opts[0]} has no help text"
    result = CliRunner().invoke(main, ["tap", name, "--help"], prog_name="osreplay")
    assert result.exit_code == 0 and f"Usage: osreplay tap {name}" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "out.ndjson"], "Error: --workers 2 writes one file per worker: give -o a pattern"),
        (["-o", "p{n}", "--rotate", "1h"], "Error: --rotate is not available with --workers"),
        (["--url", "kombu+memory:////", "-o", "p{n}"], "Error: --workers needs a broker the"),
    ],
)
def test_record_workers_refusals(args, message):
    result = CliRunner().invoke(main, ["record", "--workers", "2", *args])
    assert result.exit_code == 2
    assert result.stderr.startswith(message), result.stderr
