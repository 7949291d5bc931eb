"""Every command that reads recordings takes several files, folders and quoted globs.

A rotated capture (``cap-00001.ndjson.gz``, ``cap-00002.ndjson.gz``, …) is read as one
recording; messages still name the real FILE:LINE.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from osreplay.cli import main

ROOT = Path(__file__).parents[2]
BEFORE = ROOT / "fixtures/scenario/boot-before.ndjson"
AFTER = ROOT / "fixtures/scenario/boot-after.ndjson"


def osreplay(*args: str, input: str | None = None):
    env = {"OSREPLAY_TRANSPORT_URL": ""}
    return CliRunner().invoke(main, list(args), input=input, env=env, prog_name="osreplay")


def record(i: int, second: float, **extra) -> dict:
    row = {
        "event_type": f"compute.instance.event{i}",
        "publisher_id": "nova-compute:host1",
        "priority": "INFO",
        "payload": {"i": i},
        "timestamp": f"2024-03-05 10:00:{second:09.6f}",
        "ctxt": {"request_id": f"req-{i}"},
    }
    row.update(extra)
    return row


def write(path: Path, rows: list) -> str:
    text = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def split(source: Path, first: Path, second: Path, at: int) -> None:
    """``source`` cut in two files at line ``at`` (a capture rotated there)."""
    lines = source.read_text(encoding="utf-8").splitlines()
    write(first, lines[:at])
    write(second, lines[at:])


READERS = [
    ["validate"],
    ["stats"],
    ["trace"],
    ["timeline", "-o", "-"],
    ["replay", "--dry-run"],
    ["redact"],
]


@pytest.mark.parametrize("command", READERS, ids=lambda command: command[0])
def test_a_glob_matching_nothing_is_an_error_naming_it(tmp_path, command):
    pattern = str(tmp_path / "cap-*.ndjson.gz")
    result = osreplay(*command, pattern)
    assert result.exit_code == 2
    assert result.stderr == f"Error: no file matches {pattern}\n"
    assert result.stdout == ""


@pytest.mark.parametrize("command", READERS, ids=lambda command: command[0])
def test_a_folder_without_recordings_is_an_error(tmp_path, command):
    (tmp_path / "notes.txt").write_text("not a recording\n")
    result = osreplay(*command, str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {tmp_path} is a folder without recordings "
        "(no *.ndjson or *.ndjson.gz file in it)\n"
    )


def test_diff_names_the_side_whose_glob_matches_nothing(tmp_path):
    result = osreplay("diff", str(BEFORE), str(tmp_path / "after-*.ndjson"))
    assert result.exit_code == 2
    assert result.stderr == f"Error: no file matches {tmp_path}/after-*.ndjson\n"


def test_validate_reads_a_folder_and_names_the_real_file_and_line(tmp_path):
    capture = tmp_path / "capture"
    capture.mkdir()
    good = write(capture / "cap-00001.ndjson.gz", [record(1, 1)])
    bad = write(capture / "cap-00002.ndjson.gz", [record(2, 2), "{oops"])
    write(capture / "README.txt", ["not read"])
    result = osreplay("validate", str(capture))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith(f"{bad}:2: not valid JSON")
    assert result.stdout.splitlines()[-1] == (
        "3 records: 0 valid, 0 invalid, 2 without payload schema, 1 unreadable"
    )
    assert good not in result.stdout


def test_stats_over_a_glob_counts_every_file_and_lists_them(tmp_path):
    files = [
        write(tmp_path / f"cap-{n:05d}.ndjson.gz", [record(n, n), record(n + 10, n + 10)])
        for n in (1, 2, 3)
    ]
    result = osreplay("stats", "--format", "json", str(tmp_path / "cap-*.ndjson.gz"))
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["files"] == files
    assert report["records"] == 6


def test_timeline_reads_a_folder(tmp_path):
    capture = tmp_path / "capture"
    capture.mkdir()
    write(capture / "a.ndjson", [record(1, 1)])
    write(capture / "b.ndjson", [record(2, 2)])
    out = tmp_path / "t.html"
    result = osreplay("timeline", str(capture), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Wrote {out}: 2 records in 2 rows")


def side_by_side(tmp_path: Path) -> tuple[str, str]:
    """Two recorders of one cloud: each holds half of every request."""
    a = write(
        tmp_path / "a.ndjson",
        [
            record(1, 1, event_type="compute.instance.create.start", ctxt={"request_id": "r1"}),
            record(3, 3, event_type="compute.instance.create.start", ctxt={"request_id": "r2"}),
        ],
    )
    b = write(
        tmp_path / "b.ndjson",
        [
            record(2, 2, event_type="compute.instance.create.end", ctxt={"request_id": "r1"}),
            record(4, 4, event_type="compute.instance.create.end", ctxt={"request_id": "r2"}),
        ],
    )
    return a, b


def test_trace_merge_follows_a_request_across_two_files(tmp_path):
    a, b = side_by_side(tmp_path)
    # One after another, one group at a time: each request is cut in two.
    result = osreplay("trace", a, b, "--max-groups", "1", "--format", "json")
    assert result.exit_code == 0, result.stderr
    groups = json.loads(result.stdout)
    assert [(group["key"], len(group["records"])) for group in groups] == [
        ("r1", 1), ("r2", 1), ("r1", 1), ("r2", 1),
    ]  # fmt: skip
    # Merged in time, each request is whole: its start and end are paired.
    result = osreplay("trace", "--merge", str(tmp_path / "*.ndjson"), "--max-groups", "1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "r1: 2 records, 2024-03-05T10:00:01.000000Z to 2024-03-05T10:00:02.000000Z (1.000 s) "
        "[closed early: too many open groups]",
        f"  +0.000 s  {a}:1  INFO   compute.instance.create.start",
        f"  +1.000 s  {b}:1  INFO   compute.instance.create.end",
        "  span compute.instance.create: 1.000 s, end",
        "",
        "r2: 2 records, 2024-03-05T10:00:03.000000Z to 2024-03-05T10:00:04.000000Z (1.000 s)",
        f"  +0.000 s  {a}:2  INFO   compute.instance.create.start",
        f"  +1.000 s  {b}:2  INFO   compute.instance.create.end",
        "  span compute.instance.create: 1.000 s, end",
        "",
        "2 groups by request id, 4 records (0 without a request id); 2 spans, 0 open; "
        "1 groups closed early (raise --max-groups)",
    ]


def test_diff_reads_each_side_as_one_recording_from_a_glob_or_a_folder(tmp_path):
    whole = osreplay("diff", str(BEFORE), str(AFTER))
    assert whole.exit_code == 1
    split(BEFORE, tmp_path / "before-1.ndjson", tmp_path / "before-2.ndjson", at=6)
    after = tmp_path / "after"
    after.mkdir()
    split(AFTER, after / "cap-00001.ndjson.gz", after / "cap-00002.ndjson.gz", at=9)
    result = osreplay("diff", str(tmp_path / "before-*.ndjson"), str(after))
    assert result.exit_code == 1
    assert result.stdout == whole.stdout
    result = osreplay("diff", "--format", "json", str(tmp_path / "before-*"), str(after))
    report = json.loads(result.stdout)
    assert {change["first_a"].rsplit(":", 1)[0] for change in report["changed"]} == {
        str(tmp_path / "before-1.ndjson"),
        str(tmp_path / "before-2.ndjson"),
    }
    assert {change["first_b"].rsplit(":", 1)[0] for change in report["changed"]} == {
        str(after / "cap-00001.ndjson.gz"),
        str(after / "cap-00002.ndjson.gz"),
    }


def test_redact_scrubs_several_inputs_into_one_output_in_order(tmp_path):
    secret = {"auth_token": "SECRET-token"}
    write(tmp_path / "cap-00001.ndjson", [record(1, 1, ctxt=secret)])
    second = write(tmp_path / "cap-00002.ndjson.gz", [record(2, 2), "{oops", record(3, 3)])
    extra = write(tmp_path / "extra.ndjson", [record(4, 4, ctxt=secret)])
    out = tmp_path / "clean.ndjson"
    result = osreplay("redact", str(tmp_path / "cap-*"), extra, "-o", str(out))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Dropped line 2 of {second}: not valid JSON: Expecting property name enclosed in "
        "double quotes: line 1 column 2 (char 1) ('{oops') (unreadable, so it could not be "
        "scrubbed)",
        f"Redacted 4 records from 3 files into {out}: 2 with secrets masked, "
        "1 unreadable line dropped",
    ]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["payload"]["i"] for row in rows] == [1, 2, 3, 4]
    assert "SECRET" not in out.read_text()


def test_redact_refuses_an_output_that_is_one_of_the_inputs(tmp_path):
    first = write(tmp_path / "a.ndjson", [record(1, 1)])
    second = write(tmp_path / "b.ndjson", [record(2, 2)])
    result = osreplay("redact", first, second, "-o", second)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: -o {second} is the input file: write the redacted copy elsewhere\n"
    )
    assert Path(second).read_text() == json.dumps(record(2, 2)) + "\n"


def test_redact_names_a_missing_input_before_writing_anything(tmp_path):
    first = write(tmp_path / "a.ndjson", [record(1, 1)])
    out = tmp_path / "clean.ndjson"
    result = osreplay("redact", first, str(tmp_path / "gone.ndjson"), "-o", str(out))
    assert result.exit_code == 2
    assert result.stderr == f"Error: cannot open {tmp_path}/gone.ndjson: no such file\n"
    assert not out.exists()


def plan(result) -> list[list[str]]:
    """The --dry-run rows: file, line, offset."""
    assert result.exit_code == 0, result.stderr
    return [row.split("\t")[:3] for row in result.stdout.splitlines()[1:-1]]


def rotated(tmp_path: Path) -> list[str]:
    """A capture rotated into three files, quiet for a while around the first switch; the
    last record of the second and the first of the third were sent at the same time."""
    seconds = [[0, 1], [5, 6], [6, 7]]
    return [
        write(
            tmp_path / f"cap-{n:05d}.ndjson.gz",
            [record(n * 10 + i, s) for i, s in enumerate(times)],
        )
        for n, times in enumerate(seconds, 1)
    ]


def test_a_rotated_capture_replays_as_one_with_merge(tmp_path):
    one, two, three = rotated(tmp_path)
    result = osreplay("replay", "--merge", "--dry-run", str(tmp_path / "cap-*.ndjson.gz"))
    assert plan(result) == [
        [one, "1", "+0.000"],
        [one, "2", "+1.000"],
        [two, "1", "+5.000"],  # the quiet time is kept
        [two, "2", "+6.000"],
        [three, "1", "+6.000"],  # the same time: the earlier file first
        [three, "2", "+7.000"],
    ]
    assert result.stdout.splitlines()[-1] == (
        "Dry run: 6 of 6 records planned over 7.0 s; nothing sent"
    )
    # Without --merge, each file is replayed on its own gaps, right after the one before.
    result = osreplay("replay", "--dry-run", str(tmp_path / "cap-*.ndjson.gz"))
    assert [offset for *_, offset in plan(result)] == [
        "+0.000", "+1.000", "+1.000", "+2.000", "+2.000", "+3.000",
    ]  # fmt: skip


def test_captures_side_by_side_are_merged_in_timestamp_order_from_a_folder(tmp_path):
    a, b = side_by_side(tmp_path)
    result = osreplay("replay", "--merge", "--dry-run", "--rate", "0", str(tmp_path))
    assert [row[:2] for row in plan(result)] == [[a, "1"], [b, "1"], [a, "2"], [b, "2"]]
    # FILE:LINE names a place in the merged order: what comes before it in any file is skipped.
    result = osreplay(
        "replay", "--merge", "--dry-run", "--rate", "0", "--start-at", f"{b}:1", str(tmp_path)
    )
    assert [row[:2] for row in plan(result)] == [[b, "1"], [a, "2"], [b, "2"]]


def test_merge_needs_files():
    result = osreplay("replay", "--merge", "--rate", "0", input=json.dumps(record(1, 1)) + "\n")
    assert result.exit_code == 2
    assert result.stderr == "Error: --merge needs FILE arguments: standard input is one stream\n"


def test_unreadable_lines_of_merged_files_are_named_with_their_file(tmp_path):
    a = write(tmp_path / "a.ndjson", [record(1, 1), "{oops"])
    b = write(tmp_path / "b.ndjson", [record(2, 2)])
    result = osreplay("replay", "--merge", "--dry-run", a, b)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {a}: 1 unreadable line, nothing sent (--skip-invalid replays the readable "
        "ones):\n  line 2: not valid JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1) ('{oops')\n"
    )


def test_a_merged_plan_counts_the_time_between_files(tmp_path):
    morning = write(tmp_path / "cap-00001.ndjson", [record(1, 1)])
    noon = write(tmp_path / "cap-00002.ndjson", [record(2, 1, timestamp="2024-03-05 12:00:01")])
    result = osreplay("replay", "--dry-run", morning, noon)
    assert result.exit_code == 0 and result.stderr == ""  # back to back: no wait
    result = osreplay("replay", "--dry-run", "--merge", morning, noon)
    assert result.exit_code == 0
    assert result.stderr == (
        "Warning: this replay is planned over 2.0 hours (the recorded gaps; the files merged "
        "in one timeline): --max-gap SECONDS caps each wait, --speed X or --rate N changes "
        "the pace\n"
    )
    assert plan(result)[1] == [noon, "1", "+7200.000"]
