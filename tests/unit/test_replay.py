"""The replayer with a fake sender and a fake clock: selection, routing, pacing, failures."""

from __future__ import annotations

import json

import pytest

from osreplay.console.replay import summary_line
from osreplay.errors import RecordingRefused, UsageError
from osreplay.model.filters import Filters
from osreplay.model.notes import NoteLine
from osreplay.model.notification import Notification
from osreplay.replay.pacing import Pacer, RateSchedule, RecordedSchedule, VirtualClock
from osreplay.replay.replayer import Replayer, ReplaySummary, Stop
from osreplay.replay.sender import PublishError
from osreplay.replay.sources import FileSource, Selection, StartAt, StreamSource


def record(i: int, **extra) -> dict:
    base = {
        "event_type": f"compute.instance.event{i}",
        "publisher_id": f"nova-compute:host{i % 2}",
        "priority": "INFO",
        "payload": {"i": i},
        "timestamp": f"2024-03-05 10:00:{i:02d}.000000",
    }
    base.update(extra)
    return base


def write(path, rows) -> str:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(row if isinstance(row, str) else json.dumps(row))
            handle.write("\n")
    return str(path)


class FakeSender:
    """Records what it is asked to send and when; fails (or is interrupted) on request."""

    def __init__(self, clock: VirtualClock, *, fail_at: int | None = None, cost: float = 0.0):
        self.clock = clock
        self.fail_at = fail_at
        self.interrupt_at: int | None = None
        self.cost = cost
        self.sent: list[tuple[float, str, str, Notification]] = []
        self.closed = False

    def send(self, note: Notification, exchange: str, topic: str) -> None:
        call = len(self.sent) + 1
        if call == self.interrupt_at:
            raise KeyboardInterrupt
        if call == self.fail_at:
            self.fail_at = None
            raise PublishError("Unable to connect to AMQP server on 127.0.0.1:5672 after 3 tries")
        self.clock.now += self.cost
        self.sent.append((self.clock.now, exchange, topic, note))

    def close(self) -> None:
        self.closed = True


def make(schedule=None, **kwargs):
    clock = VirtualClock()
    sender = FakeSender(clock, **{k: kwargs.pop(k) for k in ("fail_at", "cost") if k in kwargs})
    replayer = Replayer(
        sender,
        schedule or RecordedSchedule(),
        pacer=Pacer(clock=clock.clock, sleep=clock.sleep),
        **kwargs,
    )
    return replayer, sender


def checked(paths, selection=None, **kwargs) -> FileSource:
    paths = paths if isinstance(paths, list) else [paths]
    source = FileSource(paths, selection or Selection(), **kwargs)
    source.check()
    return source


def test_records_go_out_in_order_at_their_recorded_offsets(tmp_path):
    path = write(tmp_path / "r.ndjson", [record(0), record(2), record(3)])
    replayer, sender = make()
    summary = replayer.run(checked(path, needs_timestamps=True))
    assert [t for t, *_ in sender.sent] == [0, 2, 3]
    assert [n.event_type for *_, n in sender.sent] == [
        "compute.instance.event0",
        "compute.instance.event2",
        "compute.instance.event3",
    ]
    assert summary.ok and summary.sent == summary.selected == 3 and summary.failed == 0
    assert summary.elapsed == 3 and summary.max_lateness == 0


def test_lateness_is_measured_against_the_fixed_start(tmp_path):
    # Each send takes 1.5 s but records are due every second: lateness grows 0.5 s a
    # record and is reported, the schedule itself does not slip. The schedule starts when
    # the first record is confirmed (its send includes the connection set-up).
    path = write(tmp_path / "r.ndjson", [record(0), record(1), record(2), record(3)])
    replayer, sender = make(cost=1.5)
    summary = replayer.run(checked(path, needs_timestamps=True))
    assert [t for t, *_ in sender.sent] == [1.5, 4.0, 5.5, 7.0]
    assert summary.max_lateness == pytest.approx(1.0)
    assert summary.elapsed == 7.0


def test_rate_zero_never_waits_and_reports_no_lateness(tmp_path):
    path = write(tmp_path / "r.ndjson", [record(0), record(50)])
    replayer, sender = make(RateSchedule(0), cost=0.25)
    summary = replayer.run(checked(path))
    assert [t for t, *_ in sender.sent] == [0.25, 0.5]
    assert summary.max_lateness == 0 and summary.rate == pytest.approx(4.0)


def test_routing_record_then_defaults_then_overrides(tmp_path):
    rows = [record(0, exchange="nova", topic="versioned_notifications"), record(1)]
    path = write(tmp_path / "r.ndjson", rows)
    replayer, sender = make(RateSchedule(0), default_exchange="openstack")
    replayer.run(checked(path))
    assert [(e, t) for _, e, t, _ in sender.sent] == [
        ("nova", "versioned_notifications"),
        ("openstack", "notifications"),
    ]
    replayer, sender = make(RateSchedule(0), exchange="glance", topic="mirror")
    replayer.run(checked(path))
    assert [(e, t) for _, e, t, _ in sender.sent] == [("glance", "mirror"), ("glance", "mirror")]


def test_a_failed_publish_stops_the_replay_and_is_never_counted_as_sent(tmp_path):
    path = write(tmp_path / "r.ndjson", [record(i) for i in range(6)])
    replayer, sender = make(RateSchedule(0), fail_at=4)
    summary = replayer.run(checked(path))
    assert summary.sent == 3 and summary.failed == 1 and summary.selected == 6
    assert summary.stop == Stop(
        "failed",
        path,
        4,
        "Unable to connect to AMQP server on 127.0.0.1:5672 after 3 tries",
        1,
        4,
    )
    assert not summary.ok and len(sender.sent) == 3
    # Every line before the failed one was confirmed: resuming there loses nothing.
    resumed, again = make(RateSchedule(0))
    rest = resumed.run(checked(path, Selection(start_at=StartAt(summary.stop.lineno))))
    assert rest.ok
    sent_lines = [n.payload["i"] for *_, n in sender.sent + again.sent]
    assert sent_lines == list(range(6))


def test_unreadable_lines_refuse_the_file_before_anything_is_sent(tmp_path):
    path = write(
        tmp_path / "r.ndjson",
        [record(0), "{oops", record(2), {"event_type": "x"}, "", record(5)],
    )
    with pytest.raises(RecordingRefused) as excinfo:
        checked(path)
    message = str(excinfo.value)
    assert message.startswith(f"{path}: 2 unreadable lines, nothing sent (--skip-invalid")
    assert "\n  line 2: not valid JSON" in message
    assert "\n  line 4: missing required key(s): publisher_id, priority, payload" in message
    assert excinfo.value.exit_code == 1


def test_skip_invalid_replays_the_readable_ones_and_lists_the_rest(tmp_path):
    path = write(tmp_path / "r.ndjson", [record(0), "[1]", record(2)])
    source = checked(path, skip_invalid=True)
    assert [(e.lineno, e.error) for e in source.skipped] == [
        (2, "not a JSON object (a JSON array)")
    ]
    replayer, sender = make(RateSchedule(0), skip_invalid=True)
    summary = replayer.run(source)
    assert summary.ok and summary.sent == 2 and len(summary.skipped) == 1


def test_records_without_a_timestamp_need_a_rate(tmp_path):
    rows = [record(0), {k: v for k, v in record(1).items() if k != "timestamp"}]
    path = write(tmp_path / "r.ndjson", rows)
    with pytest.raises(UsageError, match=r"line 2 of .* has no timestamp .* --rate N"):
        checked(path, needs_timestamps=True)
    assert checked(path).per_pass == 2  # at a steady rate they are fine


def test_recorded_at_paces_when_there_is_no_timestamp(tmp_path):
    rows = [
        {**record(0), "timestamp": None, "recorded_at": "2024-03-05T10:00:00+00:00"},
        {**record(1), "timestamp": None, "recorded_at": "2024-03-05T10:00:04Z"},
    ]
    path = write(tmp_path / "r.ndjson", rows)
    replayer, sender = make()
    replayer.run(checked(path, needs_timestamps=True))
    assert [t for t, *_ in sender.sent] == [0, 4]


def test_filters_limit_and_start_at(tmp_path):
    rows = [
        record(0, priority="INFO"),
        record(1, priority="ERROR", event_type="identity.authenticate"),
        record(2, priority="warning"),
        record(3, priority="INFO", publisher_id="glance-api:g1"),
        record(4, priority="SAMPLE", event_type="identity.authenticate"),
    ]
    path = write(tmp_path / "r.ndjson", rows)

    def lines(selection):
        replayer, sender = make(RateSchedule(0))
        summary = replayer.run(checked(path, selection))
        assert summary.ok
        return [n.payload["i"] for *_, n in sender.sent]

    assert lines(Selection(Filters(priorities=("warn", "ERROR")))) == [1, 2]
    assert lines(Selection(Filters(event_types=("identity.*",)))) == [1, 4]
    assert lines(Selection(Filters(publishers=("nova-compute:*",)))) == [0, 1, 2, 4]
    assert lines(Selection(Filters(publishers=("glance*", "*host0")))) == [0, 2, 3, 4]
    assert lines(Selection(limit=2)) == [0, 1]
    assert lines(Selection(start_at=StartAt(3))) == [2, 3, 4]
    assert lines(Selection(Filters(event_types=("identity.*",)), limit=2, start_at=StartAt(2))) == [
        1,
        4,
    ]


def test_start_at_a_later_file_skips_the_files_before_it(tmp_path):
    first = write(tmp_path / "a.ndjson", [record(0), record(1)])
    second = write(tmp_path / "b.ndjson", [record(2), record(3), record(4)])
    replayer, sender = make(RateSchedule(0))
    replayer.run(checked([first, second], Selection(start_at=StartAt(2, index=1))))
    assert [n.payload["i"] for *_, n in sender.sent] == [3, 4]


def test_unreadable_lines_before_start_at_or_after_limit_do_not_matter(tmp_path):
    path = write(tmp_path / "r.ndjson", ["{bad", record(1), record(2), "{bad"])
    source = checked(path, Selection(start_at=StartAt(2), limit=2))
    assert source.per_pass == 2 and source.skipped == []


@pytest.mark.parametrize("cache_records", [100, 1])
def test_loop_repeats_the_selection_and_the_timeline_continues(tmp_path, cache_records):
    path = write(tmp_path / "r.ndjson", [record(0), record(1), record(3)])
    replayer, sender = make()
    source = checked(path, needs_timestamps=True, loop=3, cache_records=cache_records)
    summary = replayer.run(source)
    assert summary.ok and summary.sent == summary.selected == 9 and summary.passes == 3
    assert [t for t, *_ in sender.sent] == [0, 1, 3, 3, 4, 6, 6, 7, 9]


def test_stream_source_stops_at_an_unreadable_line(tmp_path):
    path = write(tmp_path / "r.ndjson", [record(0), record(1), "not json", record(3)])
    replayer, sender = make(RateSchedule(0))
    summary = replayer.run(StreamSource(path))
    assert summary.sent == 2 and len(sender.sent) == 2 and not summary.ok
    assert summary.stop is not None and summary.stop.kind == "invalid"
    assert summary.stop.lineno == 3 and summary.stop.reason.startswith("not valid JSON")


def test_stream_source_skips_unreadable_lines_when_asked(tmp_path):
    path = write(tmp_path / "r.ndjson", [record(0), "not json", record(2)])
    replayer, sender = make(RateSchedule(0), skip_invalid=True)
    summary = replayer.run(StreamSource(path))
    assert summary.ok and summary.sent == summary.selected == 2
    assert [e.lineno for e in summary.skipped] == [2]


def test_stream_source_stops_at_a_record_without_timestamp(tmp_path):
    rows = [record(0), {k: v for k, v in record(1).items() if k != "timestamp"}]
    path = write(tmp_path / "r.ndjson", rows)
    replayer, sender = make()
    summary = replayer.run(StreamSource(path))
    assert summary.sent == 1 and summary.stop is not None and summary.stop.kind == "untimed"
    assert summary.stop.lineno == 2


def test_interrupt_reports_the_record_in_flight(tmp_path):
    path = write(tmp_path / "r.ndjson", [record(i) for i in range(5)])
    replayer, sender = make(RateSchedule(0))
    sender.interrupt_at = 3
    summary = replayer.run(checked(path))
    assert summary.sent == 2 and summary.failed == 0
    assert summary.stop == Stop("interrupted", path, 3, "interrupted", 1, 3)


def test_observer_sees_every_confirmed_record(tmp_path):
    path = write(tmp_path / "r.ndjson", [record(0), record(2)])
    seen = []
    replayer, _ = make(observer=lambda e, x, t, off, late: seen.append((e.lineno, x, t, off)))
    replayer.run(checked(path, needs_timestamps=True))
    assert seen == [(1, "openstack", "notifications", 0), (2, "openstack", "notifications", 2)]


def test_summary_line():
    summary = ReplaySummary(total=10, seen=4, sent=3, failed=1, elapsed=1.5, max_lateness=0.0123)
    assert summary_line(summary) == (
        "Replayed 3 of 10 records in 1.5 s (2.0 msg/s), 1 failed, max lateness 12 ms"
    )
    assert not summary.ok
    assert ReplaySummary(total=None, seen=2, sent=2).ok


def test_entry_is_small_and_frozen():
    entry = NoteLine("f", 1, None, "bad")
    with pytest.raises(AttributeError):
        entry.lineno = 2  # type: ignore[misc]


def test_an_endless_loop_over_an_empty_selection_ends_at_once(tmp_path):
    path = write(tmp_path / "r.ndjson", [record(0)])
    replayer, sender = make(RateSchedule(0))
    source = checked(path, Selection(Filters(event_types=("nothing.*",))), loop=0)
    summary = replayer.run(source)
    assert summary.ok and summary.sent == summary.selected == 0 and sender.sent == []


def test_a_long_refusal_lists_twenty_reasons_then_the_other_line_numbers(tmp_path):
    first = write(tmp_path / "a.ndjson", ["{bad"] * 21)
    second = write(tmp_path / "b.ndjson", [record(0), "[]"])
    with pytest.raises(RecordingRefused) as excinfo:
        checked([first, second])
    lines = str(excinfo.value).splitlines()
    assert lines[0] == (
        f"{first}, {second}: 22 unreadable lines, nothing sent "
        "(--skip-invalid replays the readable ones):"
    )
    assert lines[1].startswith(f"  {first}:1: not valid JSON") and len(lines) == 22
    assert lines[-1] == f"  and lines {first}:21, {second}:2"  # the next twenty, no count


def test_the_resume_option_of_a_loop_says_what_is_left():
    from osreplay.console.replay import resume_option

    stop = Stop("interrupted", "day.ndjson", 7, "interrupted", pass_no=2, position=3)
    assert resume_option(stop, ["day.ndjson"], limit=None, loop=3) == (
        "--start-at 7 --loop 1 (pass 2 of 3; then --loop 1 without --start-at for the pass left)"
    )
    assert resume_option(stop, ["day.ndjson"], limit=None, loop=2) == (
        "--start-at 7 --loop 1 (pass 2 of 2, the last)"
    )


def test_the_replay_and_redact_cores_import_neither_click_nor_the_console_nor_the_tap():
    import subprocess
    import sys

    code = (
        "import sys; import osreplay.replay.run, osreplay.secrets.scrub, osreplay.bus.driver; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'click' or "
        "m.startswith(('osreplay.console', 'osreplay.tap')) or m == 'osreplay.cli'))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    assert found.stdout == "[]\n"


def test_a_refusal_of_millions_of_bad_lines_is_short_and_memory_stays_flat(tmp_path):
    # Issue 19: 5 million bad lines in a 43 KB .gz cost 1.5 GB and a 7.9 MB message.
    import gzip
    import tracemalloc

    path = tmp_path / "bad.ndjson.gz"
    with gzip.open(path, "wb", compresslevel=9) as handle:
        for _ in range(4):
            handle.write(b"{bad\n" * 10_000)
    tracemalloc.start()
    try:
        with pytest.raises(RecordingRefused) as excinfo:
            checked([str(path)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    lines = str(excinfo.value).splitlines()
    assert lines[0].endswith("40000 unreadable lines, nothing sent "
                             "(--skip-invalid replays the readable ones):")  # fmt: skip
    assert len(lines) == 22
    assert lines[-1] == "  and lines " + ", ".join(map(str, range(21, 41))) + " and 39960 more"
    assert peak < 4_000_000, peak  # about 300 bytes a line before: 12 MB here


def test_records_without_timestamps_are_counted_not_kept_before_the_refusal(tmp_path):
    import tracemalloc

    from osreplay.errors import UsageError

    untimed = json.dumps({"event_type": "e", "publisher_id": "p", "priority": "INFO",
                          "payload": {"blob": "x" * 200}})  # fmt: skip
    path = tmp_path / "untimed.ndjson"
    path.write_text((untimed + "\n") * 20_000)
    source = FileSource([str(path)], needs_timestamps=True)
    tracemalloc.start()
    try:
        with pytest.raises(UsageError) as excinfo:
            source.check()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "(and 19999 more) has no timestamp" in str(excinfo.value)
    assert peak < 5_000_000, peak


def test_a_stream_of_bad_lines_skipped_is_counted_not_kept(tmp_path):
    from osreplay.replay.replayer import KEPT_SKIPPED

    path = write(tmp_path / "s.ndjson", ["{bad"] * (KEPT_SKIPPED + 50) + [record(0)])
    seen: list[int] = []
    replayer, sender = make(
        RateSchedule(0), skip_invalid=True, on_skip=lambda entry: seen.append(entry.lineno)
    )
    summary = replayer.run(StreamSource(str(path)))
    assert summary.sent == 1 and len(sender.sent) == 1
    assert summary.skipped_total == KEPT_SKIPPED + 50 == len(seen)
    assert len(summary.skipped) == KEPT_SKIPPED
