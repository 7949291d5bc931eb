"""Writing a file never replaces what is at the path (issue 18 §2), for every writer.

``redact -o`` and ``timeline -o`` write here for real; ``record -o`` is refused here
before it connects (its URL points at a closed port), and writes in
tests/broker/test_record_output_paths.py. The device is a real node made with mknod, the
FIFO and the socket are real and read by a thread, the links are real.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from special_files import (
    FifoReader,
    SocketReader,
    assert_still_null_device,
    make_null_device,
    unprivileged,
)

import osreplay.replay.replayer  # noqa: F401  # oslo imported now, while osreplay silences eventlet
from osreplay.cli import main
from osreplay.model.repair import prepare_append
from osreplay.tap.rotate import earlier_deliveries, plan_rotation

NOWHERE = "rabbit://guest:guest@127.0.0.1:1/"
RECORD = {
    "event_type": "compute.instance.create.end",
    "publisher_id": "compute.host1",
    "priority": "INFO",
    "timestamp": "2024-01-31 12:00:00.000000",
    "message_id": "m-1",
    "payload": {"instance_id": "x"},
    "ctxt": {"auth_token": "SECRET-auth-token-1"},
}


def osreplay(*args: str):
    return CliRunner().invoke(main, list(args), prog_name="osreplay")


def source(folder: Path) -> Path:
    path = folder / "in.ndjson"
    path.write_text(json.dumps(RECORD) + "\n")
    path.chmod(0o644)
    return path


def redact(src: Path, out: Path | str):
    return osreplay("redact", str(src), "-o", str(out))


def timeline(src: Path, out: Path | str):
    return osreplay("timeline", "-o", str(out), str(src))


WRITERS = {"redact": redact, "timeline": timeline}


def assert_written(command: str, data: bytes) -> None:
    """What ``command`` writes, whole: the scrubbed record, or the page."""
    text = data.decode("utf-8")
    if command == "redact":
        assert [json.loads(line)["ctxt"]["auth_token"] for line in text.splitlines()] == ["***"]
    else:
        assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")


@pytest.mark.parametrize("command", WRITERS)
def test_a_device_is_written_in_place_and_stays_a_device(command, tmp_path):
    device = make_null_device(tmp_path / "null")
    result = WRITERS[command](source(tmp_path), device)
    assert result.exit_code == 0, result.stderr
    assert_still_null_device(device)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.ndjson", "null"]


@pytest.mark.parametrize("command", WRITERS)
def test_a_fifo_is_written_in_place_and_its_reader_gets_everything(command, tmp_path):
    fifo = FifoReader(tmp_path / "pipe")
    try:
        result = WRITERS[command](source(tmp_path), fifo.path)
        assert result.exit_code == 0, result.stderr
        assert_written(command, fifo.result())
    finally:
        fifo.unblock()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.ndjson", "pipe"]


@pytest.mark.parametrize("command", WRITERS)
def test_a_socket_is_written_in_place_and_stays_a_socket(command, tmp_path):
    listener = SocketReader(tmp_path / "sock")
    try:
        result = WRITERS[command](source(tmp_path), listener.path)
        assert result.exit_code == 0, result.stderr
        assert_written(command, listener.result())
    finally:
        listener.close()


@pytest.mark.parametrize("command", WRITERS)
def test_a_links_target_is_replaced_whole_and_the_link_stays(command, tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    target = there / "out.data"
    target.write_text("an earlier copy\n")
    target.chmod(0o640)
    before = os.stat(target)
    link = here / "out.link"
    link.symlink_to(target)

    result = WRITERS[command](source(tmp_path), link)

    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert_written(command, target.read_bytes())
    after = os.stat(target)
    # Replaced by a rename (a new inode) in the target's folder, with the old permissions.
    assert after.st_ino != before.st_ino
    assert stat.S_IMODE(after.st_mode) == 0o640
    assert [p.name for p in here.iterdir()] == ["out.link"]
    assert [p.name for p in there.iterdir()] == ["out.data"]


def test_a_dangling_link_gets_its_target_made(tmp_path):
    link = tmp_path / "out.ndjson"
    link.symlink_to(tmp_path / "made.ndjson")
    assert redact(source(tmp_path), link).exit_code == 0
    assert link.is_symlink()
    assert_written("redact", (tmp_path / "made.ndjson").read_bytes())


def test_a_failed_redact_leaves_the_links_target_as_it_was(tmp_path):
    cut = tmp_path / "cut.ndjson.gz"
    rows = [{**RECORD, "payload": {"i": i, "pad": "x" * 200}} for i in range(2000)]
    data = gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode())
    cut.write_bytes(data[: len(data) // 2])
    target = tmp_path / "kept.ndjson"
    target.write_text("an earlier copy\n")
    link = tmp_path / "out.ndjson"
    link.symlink_to(target)

    result = redact(cut, link)

    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: cannot read {cut} after line ")
    assert link.is_symlink() and target.read_text() == "an earlier copy\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cut.ndjson.gz",
        "kept.ndjson",
        "out.ndjson",
    ]


def test_record_refuses_a_directory_before_it_connects(tmp_path):
    result = osreplay("record", "--url", NOWHERE, "--duration", "1", "-o", str(tmp_path))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: cannot write {tmp_path}: it is a directory\n"


def test_redact_refuses_a_directory_before_it_writes_anything(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = redact(source(tmp_path), out)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: cannot write {out}: it is a directory\n"
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("command", WRITERS)
def test_a_path_ending_in_a_slash_is_never_made_a_file(command, tmp_path):
    result = WRITERS[command](source(tmp_path), f"{tmp_path}/out/")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: cannot write {tmp_path}/out/: no such directory\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.ndjson"]


def test_timeline_refuses_a_directory_before_it_reads_anything(tmp_path):
    # The input is missing too: the output is checked first, before any file is read.
    result = osreplay("timeline", "-o", str(tmp_path), str(tmp_path / "missing.ndjson"))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: cannot write {tmp_path}: it is a directory\n"


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder an unprivileged user can read but not write (tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="osreplay-outputs-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


UNWRITABLE = {
    "redact": lambda src, out: ["redact", str(src), "-o", str(out)],
    "timeline": lambda src, out: ["timeline", "-o", str(out), str(src)],
    "record": lambda src, out: ["record", "--url", NOWHERE, "--duration", "1", "-o", str(out)],
    "record --rotate": lambda src, out: [
        "record",
        "--url",
        NOWHERE,
        "--duration",
        "1",
        "--rotate",
        "1h",
        "-o",
        str(out.parent / "cap-{n}.ndjson"),
    ],  # fmt: skip
}


@pytest.mark.parametrize("command", UNWRITABLE)
@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
def test_a_path_that_cannot_be_written_is_one_line_before_any_work(
    command, existing, shared_folder
):
    src = source(shared_folder)
    locked = shared_folder / "locked"
    locked.mkdir(mode=0o755)  # root's: the unprivileged user cannot write in it
    out = locked / "out.ndjson"
    if existing:
        out.write_text("an earlier copy\n")
        out.chmod(0o644)

    with unprivileged():
        result = osreplay(*UNWRITABLE[command](src, out))

    shown = str(locked / "cap-{n}.ndjson") if command == "record --rotate" else str(out)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: cannot write {shown}: permission denied\n"
    assert sorted(p.name for p in locked.iterdir()) == (["out.ndjson"] if existing else [])
    if existing:
        assert out.read_text() == "an earlier copy\n"


@pytest.mark.parametrize("command", WRITERS)
def test_a_file_replaced_whole_needs_its_folder_writable(command, shared_folder):
    src = source(shared_folder)
    locked = shared_folder / "locked"
    locked.mkdir(mode=0o755)
    out = locked / "out.ndjson"
    out.write_text("an earlier copy\n")
    out.chmod(0o666)  # writable, but the file beside it that would replace it is not
    with unprivileged():
        result = WRITERS[command](src, out)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: cannot write {out}: its directory is not writable\n"
    assert out.read_text() == "an earlier copy\n"


def test_a_rotated_recording_leaves_a_fifo_or_link_at_its_next_name_alone(tmp_path):
    fifo = tmp_path / "cap-1.ndjson"
    os.mkfifo(fifo)
    link = tmp_path / "cap-2.ndjson"
    link.symlink_to(tmp_path / "elsewhere.ndjson")
    result = osreplay(
        "record", "--url", NOWHERE, "--duration", "1", "--rotate", "1h",
        "-o", str(tmp_path / "cap-{n}.ndjson"),
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: -o {tmp_path}/cap-{{n}}.ndjson: {fifo} already exists")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and link.is_symlink()
    assert not (tmp_path / "elsewhere.ndjson").exists()


def cut_gzip(path: Path) -> None:
    """A recording a killed recorder cut short: one whole line, then half a gzip member."""
    whole = gzip.compress((json.dumps(RECORD) + "\n").encode())
    rest = gzip.compress((json.dumps({**RECORD, "message_id": "m-2"}) + "\n").encode())
    path.write_bytes(whole + rest[: len(rest) // 2])


def test_append_repairs_a_links_target_and_the_link_stays(tmp_path):
    target = tmp_path / "real.ndjson.gz"
    cut_gzip(target)
    target.chmod(0o600)
    link = tmp_path / "rec.ndjson.gz"
    link.symlink_to(target)

    assert prepare_append(str(link)) == [("m-1", None, None)]

    assert link.is_symlink() and os.readlink(link) == str(target)
    assert [json.loads(line)["message_id"] for line in gzip.open(target, "rt")] == ["m-1"]
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real.ndjson.gz", "rec.ndjson.gz"]


def test_rotate_append_repairs_through_a_link_too(tmp_path):
    target = tmp_path / "elsewhere.gz"
    cut_gzip(target)
    (tmp_path / "cap-1.ndjson.gz").symlink_to(target)
    plan = plan_rotation(str(tmp_path / "cap-{n}.ndjson.gz"), ["1h"], append=True)
    assert plan is not None and plan.first == 2
    assert earlier_deliveries(plan) == [("m-1", None, None)]
    assert (tmp_path / "cap-1.ndjson.gz").is_symlink()


def test_append_to_a_fifo_or_device_reads_nothing_back(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    assert prepare_append(str(tmp_path / "pipe")) == []  # would block if it read the FIFO
    assert stat.S_ISFIFO(os.lstat(tmp_path / "pipe").st_mode)
    device = make_null_device(tmp_path / "null")
    assert prepare_append(str(device)) == []
    assert_still_null_device(device)


# --- the other writers: record --from-tap, record --workers, schema infer ---------------

SCENARIO = Path(__file__).resolve().parents[2] / "fixtures" / "scenario" / "boot-before.ndjson"


def test_record_from_a_tap_refuses_a_directory_before_it_connects(tmp_path):
    result = osreplay(
        "record", "--url", NOWHERE, "--from-tap", "t1", "--since", "1h", "-o", str(tmp_path)
    )
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: cannot write {tmp_path}: it is a directory\n"


def test_record_workers_refuse_a_part_that_is_a_directory_before_they_connect(tmp_path):
    (tmp_path / "part-2.ndjson").mkdir()
    result = osreplay(
        "record", "--url", NOWHERE, "--workers", "2", "--duration", "1",
        "-o", str(tmp_path / "part-{n}.ndjson"),
    )  # fmt: skip
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: cannot write {tmp_path}/part-2.ndjson: it is a directory\n"
    assert [p.name for p in tmp_path.iterdir()] == ["part-2.ndjson"]


def test_schema_infer_writes_a_links_target_and_the_link_stays(tmp_path):
    first = tmp_path / "first"
    assert osreplay("schema", "infer", "-o", str(first), str(SCENARIO)).exit_code == 0
    name = sorted(p.name for p in first.iterdir())[0]
    target = tmp_path / "kept" / name
    target.parent.mkdir()
    target.write_text("an earlier schema\n")
    again = tmp_path / "again"
    again.mkdir()
    (again / name).symlink_to(target)

    result = osreplay("schema", "infer", "-o", str(again), str(SCENARIO))

    assert result.exit_code == 0, result.stderr
    assert (again / name).is_symlink() and os.readlink(again / name) == str(target)
    assert json.loads(target.read_text()) == json.loads((first / name).read_text())


def test_schema_infer_refuses_a_folder_it_cannot_write_before_it_reads(shared_folder):
    locked = shared_folder / "locked"
    locked.mkdir(mode=0o755)
    with unprivileged():  # the input is missing too: the folder is checked first
        result = osreplay("schema", "infer", "-o", str(locked), str(locked / "missing.ndjson"))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: cannot write {locked}: permission denied\n"
