"""The recorder's parts without a broker: filters, the single writer, pools, resuming."""

from __future__ import annotations

import gzip
import io
import json
import logging
import threading
from datetime import datetime, timezone

import pytest
from disks import NearlyFullDisk

from osreplay.bus.queues import QueueState
from osreplay.bus.reconnect import ConnectionLost, ReconnectWatcher
from osreplay.console.record import RecordConsole, progress_line, summary_lines
from osreplay.errors import InputError, UsageError
from osreplay.model.filters import Filters
from osreplay.model.repair import prepare_append
from osreplay.model.writer import RecordingWriter
from osreplay.tap.options import RecordSummary
from osreplay.tap.pool import default_pool, plan_pool, queue_names
from osreplay.tap.sink import DedupWindow, LineSink, MessageLine, RecordStats, WriteFailed


def entry(message_id: str, event_type: str = "a.b", topic: str = "notifications") -> MessageLine:
    line = json.dumps({"message_id": message_id, "event_type": event_type, "topic": topic})
    return MessageLine(message_id, line + "\n", event_type, "nova", topic)


# --- queue names and filters ---------------------------------------------------------


def test_one_queue_per_exchange_and_per_topic_when_several():
    assert queue_names("p", ["nova", "glance"], ["notifications"]) == {
        ("nova", "notifications"): "p.nova",
        ("glance", "notifications"): "p.glance",
    }
    assert queue_names("p", ["nova"], ["notifications", "versioned"]) == {
        ("nova", "notifications"): "p.nova.notifications",
        ("nova", "versioned"): "p.nova.versioned",
    }


def test_default_pool_is_stable_per_host(monkeypatch):
    monkeypatch.setattr("socket.gethostname", lambda: "ctl-1")
    assert default_pool() == "osreplay-ctl-1"


def test_filters_match_globs_and_priorities():
    filters = Filters(event_types=("identity.*",), publishers=("*host1",), priorities=("info",))
    assert filters.match("identity.authenticate", "identity.host1", "INFO")
    assert not filters.match("compute.instance.create", "identity.host1", "INFO")
    assert not filters.match("identity.authenticate", "identity.host2", "INFO")
    assert not filters.match("identity.authenticate", "identity.host1", "ERROR")
    assert not filters.match(None, "identity.host1", "INFO")
    assert Filters().match(None, None, "AUDIT") and not Filters().active


def test_filters_accept_warning_and_refuse_unknown_priorities():
    assert Filters(priorities=("warning",)).priorities == ("WARN",)
    with pytest.raises(UsageError, match="unknown priority 'LOUD'"):
        Filters(priorities=("loud",))


# --- the single writer ---------------------------------------------------------------


def test_sink_writes_whole_lines_from_many_threads(tmp_path):
    path = tmp_path / "out.ndjson"
    stats = RecordStats()
    with RecordingWriter(str(path)) as writer:
        sink = LineSink(writer, stats)
        results = []

        def submit(n: int) -> None:
            results.append(sink.submit([entry(f"{n}-{i}") for i in range(50)]))

        threads = [threading.Thread(target=submit, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sink.close()
    lines = path.read_text().splitlines()
    assert results == [True] * 16
    assert len(lines) == 800 == stats.written
    assert len({json.loads(line)["message_id"] for line in lines}) == 800
    assert stats.event_types["a.b"] == 800 and stats.exchanges["nova"] == 800


def test_sink_stops_exactly_at_the_count_and_says_the_batch_is_incomplete(tmp_path):
    path = tmp_path / "out.ndjson"
    reached = threading.Event()
    with RecordingWriter(str(path)) as writer:
        sink = LineSink(writer, RecordStats(), limit=5, on_limit=reached.set)
        assert sink.submit([entry("a"), entry("b"), entry("c")]) is True
        assert sink.submit([entry("d"), entry("e"), entry("f")]) is False
        assert sink.submit([entry("g")]) is False
        sink.close()
    assert reached.is_set() and sink.limit_reached
    assert [json.loads(x)["message_id"] for x in path.read_text().splitlines()] == list("abcde")


def test_sink_skips_message_ids_already_written(tmp_path):
    path = tmp_path / "out.ndjson"
    stats = RecordStats()
    with RecordingWriter(str(path)) as writer:
        sink = LineSink(writer, stats, seen=DedupWindow(initial=[("old", "nova", "notifications")]))
        assert sink.submit([entry("old"), entry("new"), entry("new")]) is True
        assert sink.submit([entry("new")]) is True
        sink.close()
    assert path.read_text().count("\n") == 1
    assert stats.written == 1 and stats.duplicates == 3


def test_the_same_message_on_two_topics_is_two_records_and_only_redeliveries_are_skipped(
    tmp_path,
):
    # oslo publishes one message_id once per configured topic: two deliveries, two records.
    path = tmp_path / "out.ndjson"
    stats = RecordStats()
    with RecordingWriter(str(path)) as writer:
        sink = LineSink(writer, stats)
        assert sink.submit([entry("m1", topic="tA"), entry("m1", topic="tB")]) is True
        assert sink.submit([entry("m1", topic="tB"), entry("m1", topic="tA")]) is True
        sink.close()
    assert [json.loads(line)["topic"] for line in path.read_text().splitlines()] == ["tA", "tB"]
    assert stats.written == 2 and stats.duplicates == 2


class BrokenWriter:
    name = "broken.ndjson"

    def write(self, lines):
        raise InputError("cannot write broken.ndjson: no space left on device")

    def flush(self):
        pass


def test_a_failed_write_fails_every_waiting_batch_and_later_ones():
    errors = []
    sink = LineSink(BrokenWriter(), RecordStats(), on_error=errors.append)
    with pytest.raises(WriteFailed, match="no space left"):
        sink.submit([entry("a")])
    with pytest.raises(WriteFailed):
        sink.submit([entry("b")])
    sink.close()
    assert len(errors) == 1 and isinstance(sink.error, InputError)


class SurprisingWriter(BrokenWriter):
    def write(self, lines):
        "".join(lines).encode("utf-8")  # what a file does with a lone surrogate
        raise AssertionError("unreachable")


def test_an_unexpected_writer_error_ends_the_run_and_never_leaves_a_batch_waiting():
    errors = []
    sink = LineSink(SurprisingWriter(), RecordStats(), on_error=errors.append)
    waiting = []

    def submit(message_id):
        try:
            sink.submit([MessageLine(message_id, '"\udcff"\n', "a.b", "nova")])
        except WriteFailed as exc:
            waiting.append(str(exc))

    threads = [threading.Thread(target=submit, args=(f"m{i}",)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not any(thread.is_alive() for thread in threads)
    sink.close()  # returns: the thread is not a zombie
    assert len(waiting) == 5 and len(errors) == 1
    assert str(sink.error).startswith(
        "cannot write broken.ndjson: unexpected UnicodeEncodeError: 'utf-8' codec can't encode"
    )
    assert str(sink.error).endswith("; recording stopped")
    assert sink.error.exit_code == 2




def test_a_disk_full_mid_batch_leaves_only_acknowledged_lines_and_counts_them(tmp_path):
    path = tmp_path / "rec.ndjson"
    stats = RecordStats()
    writer = RecordingWriter(str(path))
    writer._out.close()
    writer._out = NearlyFullDisk(str(path), "wb")
    writer._out.room = 250  # the first batch fits, the second only in part
    sink = LineSink(writer, stats)
    assert sink.submit([entry(f"a{i}") for i in range(2)]) is True
    with pytest.raises(WriteFailed, match="no space left on device"):
        sink.submit([entry(f"b{i}") for i in range(4)])
    sink.close()
    writer.close()
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""  # no partial line
    assert [json.loads(line)["message_id"] for line in lines[:-1]] == ["a0", "a1"]
    assert stats.written == 2  # the summary counts what is in the file


def test_dedup_window_is_bounded():
    window = DedupWindow(size=3, initial=["a", "b", "c", "d"])
    assert len(window) == 3 and "a" not in window and "d" in window


# --- the pool ------------------------------------------------------------------------


class FakeAdmin:
    def __init__(self, queues: dict[str, QueueState]) -> None:
        self.queues = dict(queues)
        self.purged: list[str] = []

    def inspect(self, name):
        return self.queues.get(name)

    def purge(self, name):
        self.purged.append(name)
        self.queues[name] = QueueState(0, 0)


@pytest.fixture
def host(monkeypatch):
    monkeypatch.setattr("socket.gethostname", lambda: "h")


def test_a_fresh_default_pool_is_used_as_is(host):
    plan = plan_pool(FakeAdmin({}), ["nova", "glance"], ["notifications"], pool=None, append=False)
    assert plan.pool == "osreplay-h" and plan.resumed == [] and plan.purged == []
    assert sorted(plan.queues.values()) == ["osreplay-h.glance", "osreplay-h.nova"]


def test_a_dead_recorders_default_pool_is_purged_and_reused(host):
    admin = FakeAdmin({"osreplay-h.nova": QueueState(120, 0)})
    plan = plan_pool(admin, ["nova", "glance"], ["notifications"], pool=None, append=False)
    assert plan.pool == "osreplay-h" and admin.purged == ["osreplay-h.nova"]


def test_a_dead_recorders_default_pool_is_resumed_with_append(host):
    admin = FakeAdmin({"osreplay-h.nova": QueueState(120, 0)})
    plan = plan_pool(admin, ["nova"], ["notifications"], pool=None, append=True)
    assert plan.resumed == ["osreplay-h.nova"] and admin.purged == []


def test_a_live_recorders_default_pool_is_left_alone(host):
    admin = FakeAdmin({"osreplay-h.nova": QueueState(0, 1), "osreplay-h-2.nova": QueueState(5, 1)})
    plan = plan_pool(admin, ["nova"], ["notifications"], pool=None, append=False)
    assert plan.pool == "osreplay-h-3" and admin.purged == []


def test_a_named_pool_is_resumed_but_never_shared_with_a_live_recorder():
    admin = FakeAdmin({"mine.nova": QueueState(7, 0)})
    plan = plan_pool(admin, ["nova"], ["notifications"], pool="mine", append=False)
    assert plan.resumed == ["mine.nova"] and admin.purged == []
    admin.queues["mine.nova"] = QueueState(7, 1)
    with pytest.raises(UsageError, match=r"pool mine is in use: queue mine.nova has 1 consumer"):
        plan_pool(admin, ["nova"], ["notifications"], pool="mine", append=False)


# --- resuming a file ------------------------------------------------------------------


def test_prepare_append_cuts_a_partial_last_line_and_returns_the_ids(tmp_path):
    path = tmp_path / "rec.ndjson"
    path.write_text('{"message_id": "m1"}\n{"message_id": "m2"}\n{"message_id": "m3", "pa')
    assert prepare_append(str(path)) == [("m1", None, None), ("m2", None, None)]
    assert path.read_text() == '{"message_id": "m1"}\n{"message_id": "m2"}\n'


def test_prepare_append_keeps_only_the_most_recent_ids(tmp_path):
    path = tmp_path / "rec.ndjson"
    path.write_text("".join(f'{{"message_id": "m{i}"}}\n' for i in range(10)))
    assert [key[0] for key in prepare_append(str(path), window=3)] == ["m7", "m8", "m9"]


def test_prepare_append_keys_each_record_by_message_id_exchange_and_topic(tmp_path):
    path = tmp_path / "rec.ndjson"
    path.write_text(
        '{"message_id": "m1", "exchange": "nova", "topic": "tA"}\n'
        '{"message_id": "m1", "exchange": "nova", "topic": "tB"}\n'
    )
    assert prepare_append(str(path)) == [("m1", "nova", "tA"), ("m1", "nova", "tB")]


def test_prepare_append_repairs_a_truncated_gzip_file(tmp_path):
    path = tmp_path / "rec.ndjson.gz"
    with gzip.open(path, "wb") as out:
        out.write(b'{"message_id": "m1"}\n')
    with gzip.open(path, "ab") as out:  # a second member, as an earlier --append writes
        out.write(b'{"message_id": "m2"}\n{"message_id": "m3"}\n')
    data = path.read_bytes()
    path.write_bytes(data[:-12])  # killed before the member's trailer was written
    ids = [key[0] for key in prepare_append(str(path))]
    assert ids[0] == "m1" and set(ids) <= {"m1", "m2", "m3"}
    assert gzip.decompress(path.read_bytes()).endswith(b"\n")


def test_prepare_append_on_a_missing_file_or_stdout_is_empty(tmp_path):
    assert prepare_append(str(tmp_path / "new.ndjson")) == []
    assert prepare_append("-") == []


# --- notices and rendering -------------------------------------------------------------


def test_reconnect_log_records_become_one_masked_line_each_way():
    stream = io.StringIO()
    console = RecordConsole(stream)

    def heard(change):
        if isinstance(change, ConnectionLost):
            console.connection_lost(change)
        else:
            console.reconnected(change, durable=False)

    times = iter([datetime(2024, 5, 1, 12, 0, 1, tzinfo=timezone.utc),
                  datetime(2024, 5, 1, 12, 0, 9, 500000, tzinfo=timezone.utc)])  # fmt: skip
    watcher = ReconnectWatcher("rabbit://guest:***@h:5672/", heard, now=lambda: next(times))
    watcher.attach()
    log = logging.getLogger("oslo.messaging._drivers.impl_rabbit")
    try:
        for conn in ("c1", "c2"):
            log.error(
                "[%(connection_id)s] AMQP server on %(hostname)s:%(port)s is unreachable: "
                "%(err_str)s. Trying again in %(sleep_time)d seconds.",
                {
                    "connection_id": conn,
                    "hostname": "h",
                    "port": 5672,
                    "err_str": "amqp://guest:guest@h:5672// refused",
                    "sleep_time": 1,
                },
            )
        for conn in ("c1", "c2"):
            log.info(
                "[%(connection_id)s] Reconnected to AMQP server on %(hostname)s:%(port)s",
                {"connection_id": conn, "hostname": "h", "port": 5672},
            )
    finally:
        watcher.detach()
    assert stream.getvalue() == (
        "Connection to rabbit://guest:***@h:5672/ lost (amqp://guest:***@h:5672// refused); "
        "reconnecting\n"
        "Reconnected to rabbit://guest:***@h:5672/\n"
        "  messages published while the tap was away (12:00:01–12:00:09 UTC, 8.5 s) may be "
        "missing: a broker restart drops non-durable tap queues; record with --durable to "
        "keep them\n"
    )
    summary = RecordSummary(
        written=3, filtered=0, duplicates=0, requeued=0, unencodable=0, elapsed=1.0,
        output="o.ndjson", pool="p", stopped_by="signal", top_event_types=[], exchanges={},
        deleted_queues=[], kept_queues=[], gaps=watcher.gaps,
    )  # fmt: skip
    assert summary_lines(summary)[-1] == (
        "  reconnected 1 time: messages published while the tap was away may be missing "
        "(12:00:01–12:00:09 UTC); record with --durable to keep them"
    )


def test_progress_and_summary_lines():
    stats = RecordStats(written=10, started=0.0)
    stats.event_types.update({"a": 7, "b": 3})
    assert progress_line(stats, now=2.0) == "10 records, 5.0/s; top: a 7, b 3"
    summary = RecordSummary(
        written=10,
        filtered=2,
        duplicates=1,
        requeued=0,
        unencodable=0,
        elapsed=2.0,
        output="out.ndjson",
        pool="p",
        stopped_by="count",
        top_event_types=[("a", 7)],
        exchanges={"nova": 10},
        deleted_queues=[],
        kept_queues=["p.nova"],
    )
    lines = summary_lines(summary)
    assert lines[0] == "Recorded 10 records in 2.0 s (5.0/s) to out.ndjson (stopped by count)"
    assert lines[1] == "  filtered out 2, duplicates skipped 1, requeued 0"
    assert "resume with: osreplay record --pool p --append -o FILE" in lines[-1]


def test_the_summary_rate_counts_the_time_receiving_not_the_wait():
    # 25 records that came within 0.8 s of a 23.6 s run (waiting for traffic, then --count).
    summary = RecordSummary(
        written=25,
        filtered=0,
        duplicates=0,
        requeued=0,
        unencodable=0,
        elapsed=23.6,
        receiving=0.8,
        output="out.ndjson",
        pool="p",
        stopped_by="count",
        top_event_types=[],
        exchanges={},
        deleted_queues=["p.nova"],
        kept_queues=[],
    )
    assert summary_lines(summary)[0] == (
        "Recorded 25 records in 23.6 s (31.2/s while receiving, 0.8 s) to out.ndjson "
        "(stopped by count)"
    )
    summary.receiving = 0.01  # one batch: no rate worth giving
    assert "(all in one batch)" in summary_lines(summary)[0]
    summary.receiving, summary.elapsed = 1.6, 2.0  # receiving nearly all along
    assert "in 2.0 s (15.6/s) to" in summary_lines(summary)[0]


def test_a_kept_durable_pool_is_resumed_with_durable():
    summary = RecordSummary(
        written=1, filtered=0, duplicates=0, requeued=0, unencodable=0, elapsed=1.0,
        output="o.ndjson", pool="p", stopped_by="signal", top_event_types=[], exchanges={},
        deleted_queues=[], kept_queues=["p.nova"], durable=True,
    )  # fmt: skip
    assert summary_lines(summary)[-1] == (
        "  kept tap queues p.nova: they keep collecting; "
        "resume with: osreplay record --pool p --append -o FILE --durable"
    )


def test_the_summary_explains_what_count_requeued():
    summary = RecordSummary(
        written=50, filtered=0, duplicates=0, requeued=60, unencodable=0, elapsed=1.0,
        output="logins.ndjson", pool="p", stopped_by="count", top_event_types=[],
        exchanges={}, deleted_queues=["p.keystone"], kept_queues=[],
    )  # fmt: skip
    assert summary_lines(summary)[1] == (
        "  filtered out 0, duplicates skipped 0, requeued 60 "
        "(the batch that crossed --count; dropped with the tap queues)"
    )


def test_a_full_disk_at_a_gz_files_trailer_is_one_error_not_a_traceback(tmp_path):
    # Issue 19: a single .gz on a disk that fills up gave an OSError at close.
    import gzip

    from osreplay.errors import OsreplayError

    path = tmp_path / "rec.ndjson.gz"
    writer = RecordingWriter(str(path))
    writer._out.close()
    writer._raw.close()
    full = NearlyFullDisk(str(path), "wb")
    full.room = 10_000
    writer._raw = writer._file.handle = full
    writer._out = gzip.GzipFile(fileobj=full, mode="wb")
    writer.write([json.dumps({"n": i}) + "\n" for i in range(3)])
    writer.flush()
    full.room = 0  # nothing left for the trailer
    with pytest.raises(OsreplayError) as excinfo:
        writer.close()
    assert str(excinfo.value) == (
        f"cannot write {path}: no space left on device (its gzip trailer is missing: the "
        "lines written before are all there, and gzip -dc reads them with a warning)"
    )
    import zlib

    with gzip.open(path) as data, pytest.raises(EOFError):
        data.read()  # no trailer...

    text = zlib.decompressobj(31).decompress(path.read_bytes())
    assert text.splitlines() == [b'{"n": 0}', b'{"n": 1}', b'{"n": 2}']  # ...every line


def test_a_channel_closed_by_the_consumer_timeout_is_told_both_ways_without_a_traceback(
    capsys,
):
    # Issue 19: oslo's poll loop logs a traceback through oslo_utils.excutils, consumes
    # again on a new channel without a word, and the redeliveries looked like duplicates.
    stream = io.StringIO()
    console = RecordConsole(stream)

    def heard(change):
        if isinstance(change, ConnectionLost):
            console.connection_lost(change)
        else:
            console.reconnected(change, durable=False)

    times = iter([datetime(2024, 5, 1, 12, 0, 1, tzinfo=timezone.utc),
                  datetime(2024, 5, 1, 12, 0, 4, tzinfo=timezone.utc)])  # fmt: skip
    watcher = ReconnectWatcher("rabbit://guest:***@h:5672/", heard, now=lambda: next(times))
    root = logging.getLogger()
    handler = logging.StreamHandler()  # what the CLI installs: WARNING and up to stderr
    root.addHandler(handler)
    watcher.attach()
    failure = RuntimeError(
        "Unable to connect to AMQP server on h:5672 after inf tries: (0, 0): (406) "
        "PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. Timeout "
        "value used: 1800000 ms. This timeout value can be configured, see consumers doc"
    )
    try:
        watcher.delivered()  # nothing lost: nothing said
        try:
            raise failure
        except RuntimeError:
            logging.getLogger("oslo_utils.excutils").exception(
                "Unexpected exception occurred %d time(s)... retrying.", 1
            )
        assert watcher.awaiting_delivery
        watcher.delivered()
        watcher.delivered()
        try:
            raise ValueError("something else")
        except ValueError:
            logging.getLogger("oslo_utils.excutils").exception("Unexpected exception")
    finally:
        watcher.detach()
        root.removeHandler(handler)
    err = capsys.readouterr().err
    assert "PRECONDITION_FAILED" not in err and "something else" in err  # others pass
    assert stream.getvalue() == (
        "Connection to rabbit://guest:***@h:5672/ lost (the broker closed the channel: a "
        "delivery was not acknowledged within its consumer_timeout (1800000 ms), the output "
        "was too slow); reconnecting\n"
        "Reconnected to rabbit://guest:***@h:5672/: consuming again on a new channel; the "
        "broker redelivers what was not acknowledged, and what is already in the file is "
        "skipped as a duplicate (nothing is missing: the tap queues kept it all)\n"
    )
    assert [(gap.seconds, gap.channel) for gap in watcher.gaps] == [(3.0, True)]
    summary = RecordSummary(
        written=10, filtered=0, duplicates=100, requeued=0, unencodable=0, elapsed=5.0,
        output="-", pool="p", stopped_by="signal", top_event_types=[], exchanges={},
        deleted_queues=[], kept_queues=[], gaps=watcher.gaps,
    )  # fmt: skip
    text = "\n".join(summary_lines(summary))
    assert "duplicates skipped 100 (redelivered after a reconnect: already in the file)" in text
    assert (
        "reconnected 1 time after the broker closed the channel (12:00:01–12:00:04 UTC): a "
        "delivery was not acknowledged within the broker's consumer_timeout (the output was "
        "too slow); the tap queues kept every message"
    ) in text
