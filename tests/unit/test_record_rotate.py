"""``record --rotate``: SIZE and DURATION, file patterns, and the rotating writer behind the
single writer thread (no broker: lines are handed to the sink as the endpoints would)."""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
from datetime import datetime, timezone

import pytest
from disks import NearlyFullDisk

from osreplay.console.record import (
    binary_sizes,
    file_started_notice,
    files_lines,
    rotation_line,
    summary_lines,
)
from osreplay.errors import UsageError
from osreplay.tap.options import FileStarted, RecordedFile, RecordSummary
from osreplay.tap.rotate import (
    FilePattern,
    RotateLimits,
    RotationPlan,
    earlier_deliveries,
    file_pattern,
    parse_rotate,
    plan_rotation,
)
from osreplay.tap.rotating import RotatingWriter
from osreplay.tap.run import Rotation
from osreplay.tap.sink import LineSink, MessageLine, RecordStats, WriteFailed


def entry(message_id: str, pad: int = 0) -> MessageLine:
    # Random, so that gzip cannot shrink it away.
    padding = os.urandom(pad // 2).hex()
    line = json.dumps({"message_id": message_id, "event_type": "a.b", "pad": padding})
    return MessageLine(message_id, line + "\n", "a.b", "nova", "notifications")


def read(path) -> list[str]:
    """The message ids of a recording; a .gz must be complete (gzip raises otherwise)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as handle:
        return [json.loads(line)["message_id"] for line in handle]


# --- SIZE and DURATION ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "size"),
    [
        ("100KB", 100_000),
        ("256MB", 256_000_000),
        ("256mb", 256_000_000),
        ("1GiB", 1024**3),
        ("512 KiB", 512 * 1024),
        ("1.5GB", 1_500_000_000),
        ("2TB", 2 * 1000**4),
        ("4096B", 4096),
    ],
)
def test_sizes_take_decimal_and_binary_units(given, size):
    assert parse_rotate([given]) == RotateLimits(size=size)


@pytest.mark.parametrize(
    ("given", "seconds"),
    [("90s", 90), ("30m", 1800), ("1h", 3600), ("1d", 86400), ("1h30m", 5400), ("0.5h", 1800)],
)
def test_durations_take_s_m_h_d(given, seconds):
    assert parse_rotate([given]) == RotateLimits(seconds=seconds)


def test_one_size_and_one_duration_close_at_whichever_comes_first():
    assert parse_rotate(["1h", "256MB"]) == RotateLimits(size=256_000_000, seconds=3600)
    assert parse_rotate([]) is None


@pytest.mark.parametrize(
    "given", ["12", "", "abc", "10x", "256M", "1H", "0MB", "0s", "-5MB", "1 h"]
)
def test_a_size_or_duration_without_a_known_unit_is_refused_with_examples(given):
    with pytest.raises(UsageError) as caught:
        parse_rotate([given])
    assert str(caught.value) == (
        f"--rotate {given}: give a size with its unit (100KB, 256MB, 1GiB) or a duration "
        "(90s, 30m, 1h, 1d), more than zero"
    )


@pytest.mark.parametrize("given", [["1MB", "2MB"], ["1h", "30m"]])
def test_two_sizes_or_two_durations_are_refused(given):
    with pytest.raises(UsageError, match=f"--rotate {given[1]}: give at most one size and one"):
        parse_rotate(given)


# --- file names -----------------------------------------------------------------------

NOON = datetime(2024, 1, 31, 12, 0, 5, tzinfo=timezone.utc)


def test_a_pattern_numbers_its_files_and_may_name_the_opening_time(tmp_path):
    pattern = file_pattern(str(tmp_path / "cap-{n:05d}.ndjson.gz"))
    assert pattern.path(3, NOON) == str(tmp_path / "cap-00003.ndjson.gz")
    assert file_pattern("cap-{n}.ndjson").path(12, NOON) == "cap-12.ndjson"
    timed = file_pattern("cap-{time:%Y%m%d-%H%M%S}-{n:03d}.ndjson")
    assert timed.path(1, NOON) == "cap-20240131-120005-001.ndjson"
    assert file_pattern("cap-{n}-{time}.ndjson").path(1, NOON) == "cap-1-20240131T120005Z.ndjson"


def test_a_folder_gets_numbered_osreplay_files(tmp_path):
    pattern = file_pattern(str(tmp_path))
    assert pattern == FilePattern(str(tmp_path), "osreplay-{n:05d}.ndjson")
    assert pattern.path(1, NOON) == str(tmp_path / "osreplay-00001.ndjson")


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("-", "--rotate needs -o naming a folder or a file pattern with {n}, e.g. -o "
         "cap-{n:05d}.ndjson.gz (standard output cannot be rotated)"),
        ("cap.ndjson", "-o cap.ndjson: --rotate needs -o naming an existing folder or a file "
         "pattern with {n}, e.g. -o cap-{n:05d}.ndjson.gz"),
        ("cap-{time}.ndjson", "-o cap-{time}.ndjson: --rotate needs -o naming an existing "
         "folder or a file pattern with {n}, e.g. -o cap-{n:05d}.ndjson.gz"),
        ("cap-{x}.ndjson", "-o cap-{x}.ndjson: unknown field {x}: use {n} (the file's number, "
         "e.g. {n:05d}) and {time} (when it was opened, UTC, e.g. {time:%Y%m%d-%H%M%S})"),
        ("cap-{}.ndjson", "-o cap-{}.ndjson: unknown field {}: use {n}"),
        ("cap-{n!r}.ndjson", "-o cap-{n!r}.ndjson: unknown field {n}: use {n}"),
        ("cap-{n:x}.ndjson", "-o cap-{n:x}.ndjson: {n:x}: give {n} a width only, e.g. {n:05d}"),
        ("cap-{n.ndjson", "-o cap-{n.ndjson: expected '}' before end of string (write {{ and }} "
         "for a literal brace)"),
        ("nowhere/cap-{n}.ndjson", "-o nowhere/cap-{n}.ndjson: no such folder nowhere"),
        ("{n}/cap-{n}.ndjson", "-o {n}/cap-{n}.ndjson: put {n} and {time} in the file name, "
         "not the folder"),
        ("cap-{n}-{time:%Y/%m}.ndjson", "-o cap-{n}-{time:%Y/%m}.ndjson: {time} must not put a "
         "/ in the file name"),
        ("nowhere/", "-o nowhere/: no such folder (--rotate writes into an existing one)"),
    ],
)  # fmt: skip
def test_an_output_that_is_no_folder_and_no_pattern_is_refused(output, message, tmp_path,
                                                               monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError) as caught:
        file_pattern(output)
    assert str(caught.value).startswith(message)


def test_existing_files_are_never_overwritten_and_append_goes_on_after_the_highest(tmp_path):
    for n in (1, 2, 10):
        (tmp_path / f"cap-{n:03d}.ndjson").write_text("")
    (tmp_path / "cap-x.ndjson").write_text("")  # not one of the series
    output = str(tmp_path / "cap-{n:03d}.ndjson")
    with pytest.raises(UsageError) as caught:
        plan_rotation(output, ["1MB"], append=False)
    assert str(caught.value) == (
        f"-o {output}: {tmp_path}/cap-001.ndjson already exists (and 2 more): remove it, "
        f"choose another -o, or add --append to go on after {tmp_path}/cap-010.ndjson"
    )
    plan = plan_rotation(output, ["1MB"], append=True)
    assert plan is not None and plan.first == 11
    assert plan.earlier == [str(tmp_path / f"cap-{n:03d}.ndjson") for n in (1, 2, 10)]
    assert plan_rotation(output, [], append=False) is None


def test_append_remembers_the_last_deliveries_across_the_earlier_files(tmp_path):
    (tmp_path / "c-1.ndjson").write_text(
        "".join(json.dumps({"message_id": f"a{i}", "exchange": "nova"}) + "\n" for i in range(3))
    )
    # A killed recorder left the last file with half a line.
    (tmp_path / "c-2.ndjson").write_text('{"message_id": "b0", "exchange": "nova"}\n{"mess')
    plan = plan_rotation(str(tmp_path / "c-{n}.ndjson"), ["1h"], append=True)
    assert plan is not None
    keys = earlier_deliveries(plan, window=3)
    assert keys == [("a1", "nova", None), ("a2", "nova", None), ("b0", "nova", None)]
    assert (tmp_path / "c-2.ndjson").read_text() == '{"message_id": "b0", "exchange": "nova"}\n'


# --- the rotating writer --------------------------------------------------------------


def writer_for(tmp_path, name: str, limits: RotateLimits, **kwargs) -> RotatingWriter:
    plan = RotationPlan(file_pattern(str(tmp_path / name)), limits, first=1, earlier=[])
    return RotatingWriter(plan, **kwargs)


def is_complete(path) -> bool:
    try:
        read(path)
    except EOFError:  # no gzip trailer yet: still open
        return False
    return True


@pytest.mark.parametrize("name", ["cap-{n:03d}.ndjson", "cap-{n:03d}.ndjson.gz"])
def test_each_file_is_closed_whole_at_the_size_and_holds_each_line_once(tmp_path, name):
    started: list[FileStarted] = []
    writer = writer_for(tmp_path, name, RotateLimits(size=3000), on_start=started.append)
    stats = RecordStats()
    sink = LineSink(writer, stats)
    batches = [[entry(f"m{b}-{i}", pad=200) for i in range(5)] for b in range(12)]
    for batch in batches:
        assert sink.submit(batch) is True
    sink.close()
    writer.close()
    files = writer.files
    assert len(files) >= 3 and [f.path for f in files] == [
        str(tmp_path / name.format(n=n)) for n in range(1, len(files) + 1)
    ]
    ids = [message_id for f in files for message_id in read(f.path)]
    assert ids == [e.message_id for batch in batches for e in batch]  # once each, in order
    assert [f.records for f in files] == [len(read(f.path)) for f in files]
    assert sum(f.records for f in files) == stats.written == 60
    batch_bytes = len("".join(e.line for e in batches[0]).encode())
    for f in files[:-1]:
        assert f.size == (tmp_path / f.path).stat().st_size
        assert f.size >= 3000  # full
        if not name.endswith(".gz"):
            assert f.size - batch_bytes < 3000  # over by at most the last batch
    assert [s.path for s in started] == [f.path for f in files[1:]]
    assert [s.previous for s in started] == files[:-1]


def test_a_file_is_closed_when_due_even_while_no_message_comes(tmp_path):
    started: list[FileStarted] = []
    writer = writer_for(tmp_path, "c-{n}.ndjson.gz", RotateLimits(seconds=0.3),
                        on_start=started.append)  # fmt: skip
    sink = LineSink(writer, RecordStats())
    first = tmp_path / "c-1.ndjson.gz"
    time.sleep(0.5)  # an empty file is never closed for its age: a and b go into it
    assert sink.submit([entry("a"), entry("b")]) is True
    deadline = time.monotonic() + 10
    while not is_complete(first) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert read(first) == ["a", "b"]  # closed by the clock, with no message after it
    assert not (tmp_path / "c-2.ndjson.gz").exists()  # the next opens with the next batch
    assert sink.submit([entry("c")]) is True
    sink.close()
    writer.close()
    assert read(tmp_path / "c-2.ndjson.gz") == ["c"]
    assert started == [FileStarted(str(tmp_path / "c-2.ndjson.gz"), writer.files[0])]


def test_a_batch_that_arrives_after_the_deadline_starts_the_next_file(tmp_path):
    now = [0.0]
    writer = writer_for(tmp_path, "c-{n}.ndjson", RotateLimits(seconds=60), clock=lambda: now[0])
    sink = LineSink(writer, RecordStats())
    assert sink.submit([entry("a")]) is True
    now[0] = 59.0
    assert sink.submit([entry("b")]) is True
    now[0] = 61.0
    assert sink.submit([entry("c")]) is True
    sink.close()
    writer.close()
    assert [read(f.path) for f in writer.files] == [["a", "b"], ["c"]]


def test_a_file_made_meanwhile_under_the_next_name_stops_the_run_instead_of_being_overwritten(
    tmp_path,
):
    writer = writer_for(tmp_path, "c-{n}.ndjson", RotateLimits(size=10))
    (tmp_path / "c-2.ndjson").write_text("someone else's\n")
    errors = []
    sink = LineSink(writer, RecordStats(), on_error=errors.append)
    assert sink.submit([entry("a")]) is True
    with pytest.raises(WriteFailed, match="c-2.ndjson: it already exists"):
        sink.submit([entry("b")])
    sink.close()
    writer.close()
    assert (tmp_path / "c-2.ndjson").read_text() == "someone else's\n"
    assert read(tmp_path / "c-1.ndjson") == ["a"]
    assert str(errors[0]) == (
        f"cannot write {tmp_path}/c-2.ndjson: it already exists (a rotated recording never "
        "overwrites a file)"
    )




def test_a_failed_write_is_cut_back_out_of_the_file_that_holds_it(tmp_path):
    writer = writer_for(tmp_path, "c-{n}.ndjson", RotateLimits(size=100))
    stats = RecordStats()
    sink = LineSink(writer, stats)
    assert sink.submit([entry("a0"), entry("a1")]) is True  # file 1, full (110 bytes): closed
    assert sink.submit([entry("b0")]) is True  # file 2, not full
    file = writer._file
    assert file is not None
    file._out.close()
    file._out = NearlyFullDisk(str(tmp_path / "c-2.ndjson"), "ab")
    file._out.room = 20  # part of the next line fits
    with pytest.raises(WriteFailed, match="no space left on device"):
        sink.submit([entry("c0"), entry("c1")])
    sink.close()
    writer.close()
    assert read(tmp_path / "c-1.ndjson") == ["a0", "a1"]
    assert read(tmp_path / "c-2.ndjson") == ["b0"]  # no partial line of the failed batch
    assert [f.records for f in writer.files] == [2, 1] and stats.written == 3


def test_many_threads_across_rotations_write_each_line_in_exactly_one_file(tmp_path):
    writer = writer_for(tmp_path, "c-{n:04d}.ndjson.gz", RotateLimits(size=2000))
    stats = RecordStats()
    sink = LineSink(writer, stats)

    def submit(t: int) -> None:
        for b in range(10):
            assert sink.submit([entry(f"{t}-{b}-{i}", pad=20) for i in range(7)]) is True

    threads = [threading.Thread(target=submit, args=(t,)) for t in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sink.close()
    writer.close()
    ids = [message_id for f in writer.files for message_id in read(f.path)]
    assert len(writer.files) > 2
    assert sorted(ids) == sorted(f"{t}-{b}-{i}" for t in range(6) for b in range(10)
                                 for i in range(7))  # fmt: skip
    assert stats.written == len(ids) == 420


# --- what a person reads --------------------------------------------------------------


def test_the_ready_notice_and_summary_name_the_files():
    rotation = Rotation("cap-00001.ndjson.gz", "cap-{n:05d}.ndjson.gz",
                        RotateLimits(size=256_000_000, seconds=3600), None)  # fmt: skip
    assert rotation_line(rotation) == (
        "Writing cap-00001.ndjson.gz, a new file every 256 MB or 1 h (cap-{n:05d}.ndjson.gz)"
    )
    resumed = Rotation("c-5.ndjson", "c-{n}.ndjson", RotateLimits(size=1024**3), "c-4.ndjson")
    assert rotation_line(resumed) == (
        "Writing c-5.ndjson (after c-4.ndjson), a new file every 1 GiB (c-{n}.ndjson)"
    )
    one = RecordedFile("cap-00001.ndjson.gz", 500, 1_300_000)
    assert file_started_notice(FileStarted("cap-00002.ndjson.gz", one)) == (
        "Closed cap-00001.ndjson.gz (500 records, 1.2 MiB); writing cap-00002.ndjson.gz"
    )
    summary = RecordSummary(
        written=501, filtered=0, duplicates=0, requeued=0, unencodable=0, elapsed=10.0,
        output="cap-{n:05d}.ndjson.gz", pool="p", stopped_by="count", top_event_types=[],
        exchanges={}, deleted_queues=[], kept_queues=[],
        files=[one, RecordedFile("cap-00002.ndjson.gz", 1, 1)], rotate=RotateLimits(1024**3),
    )  # fmt: skip
    lines = summary_lines(summary)
    assert lines[0] == (
        "Recorded 501 records in 10.0 s (50.1/s) to 2 files (cap-{n:05d}.ndjson.gz) "
        "(stopped by count)"
    )
    assert lines[-3:] == [
        "  files:",
        "    cap-00001.ndjson.gz: 500 records, 1.2 MiB",
        "    cap-00002.ndjson.gz: 1 record, 1 byte",
    ]


def test_file_sizes_are_shown_in_the_units_of_the_size_limit():
    # 256MB is decimal: a file of 256,100,000 bytes reads as over it, not as "244.2 MiB".
    assert not binary_sizes(RotateLimits(size=256_000_000))
    assert binary_sizes(RotateLimits(size=1024**3)) and binary_sizes(RotateLimits(seconds=60))
    big = RecordedFile("c-1.ndjson", 9, 256_100_000)
    assert file_started_notice(FileStarted("c-2.ndjson", big), binary=False) == (
        "Closed c-1.ndjson (9 records, 256.1 MB); writing c-2.ndjson"
    )
    assert file_started_notice(FileStarted("c-2.ndjson", big)) == (
        "Closed c-1.ndjson (9 records, 244.2 MiB); writing c-2.ndjson"
    )


def test_a_long_list_of_files_shows_the_first_and_last():
    files = [RecordedFile(f"c-{n}.ndjson", n, 2048) for n in range(1, 101)]
    lines = files_lines(files)
    assert lines[0] == "  files:" and len(lines) == 14
    assert lines[1] == "    c-1.ndjson: 1 record, 2 KiB"
    assert lines[7] == "    … 88 more files …"
    assert lines[-1] == "    c-100.ndjson: 100 records, 2 KiB"


def test_a_run_that_never_listened_leaves_no_empty_file_a_rerun_would_be_refused_for(tmp_path):
    writer = writer_for(tmp_path, "c-{n}.ndjson.gz", RotateLimits(size=100))
    writer.discard()
    assert list(tmp_path.iterdir()) == []
    writer = writer_for(tmp_path, "c-{n}.ndjson", RotateLimits(size=100))
    writer.write([entry("a").line])
    writer.flush()
    writer.discard()  # a file with a record in it stays
    assert read(tmp_path / "c-1.ndjson") == ["a"]
