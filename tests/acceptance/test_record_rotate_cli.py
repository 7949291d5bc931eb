"""``osreplay record --rotate`` asked something it cannot do: one line, exit 2, nothing
touched. Nothing here reaches a broker: the URL points at a closed port, and each of these
is refused before a connection is tried."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import osreplay.replay.replayer  # noqa: F401  # oslo imported now, while osreplay silences eventlet
from osreplay.cli import main

NOWHERE = "rabbit://guest:guest@127.0.0.1:1/"


def record(*args: str):
    return CliRunner().invoke(
        main, ["record", "--url", NOWHERE, "--duration", "1", *args], prog_name="osreplay"
    )


REFUSED = [
    (
        ["--rotate", "1h"],
        "Error: --rotate needs -o naming a folder or a file pattern with {n}, e.g. -o "
        "cap-{n:05d}.ndjson.gz (standard output cannot be rotated)",
    ),
    (
        ["--rotate", "256MB", "-o", "-", "--append"],
        "Error: --rotate needs -o naming a folder or a file pattern with {n}, e.g. -o "
        "cap-{n:05d}.ndjson.gz (standard output cannot be rotated)",
    ),
    (
        ["--rotate", "1h", "-o", "cap.ndjson.gz"],
        "Error: -o cap.ndjson.gz: --rotate needs -o naming an existing folder or a file "
        "pattern with {n}, e.g. -o cap-{n:05d}.ndjson.gz",
    ),
    (
        ["--rotate", "256", "-o", "cap-{n}.ndjson"],
        "Error: --rotate 256: give a size with its unit (100KB, 256MB, 1GiB) or a duration "
        "(90s, 30m, 1h, 1d), more than zero",
    ),
    (
        ["--rotate", "1 hour", "-o", "cap-{n}.ndjson"],
        "Error: --rotate 1 hour: give a size with its unit (100KB, 256MB, 1GiB) or a duration "
        "(90s, 30m, 1h, 1d), more than zero",
    ),
    (
        ["--rotate", "1GB", "--rotate", "100MB", "-o", "cap-{n}.ndjson"],
        "Error: --rotate 100MB: give at most one size and one duration",
    ),
    (
        ["--rotate", "1h", "-o", "cap-{id}.ndjson"],
        "Error: -o cap-{id}.ndjson: unknown field {id}: use {n} (the file's number, e.g. "
        "{n:05d}) and {time} (when it was opened, UTC, e.g. {time:%Y%m%d-%H%M%S})",
    ),
    (
        ["--rotate", "1h", "-o", "no-such-folder/cap-{n}.ndjson"],
        "Error: -o no-such-folder/cap-{n}.ndjson: no such folder no-such-folder",
    ),
]


@pytest.mark.parametrize(("args", "error"), REFUSED)
def test_what_rotate_cannot_do_is_one_line_and_exit_2(args, error, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = record(*args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", error + "\n")
    assert list(tmp_path.iterdir()) == []


def test_an_earlier_capture_is_never_overwritten(tmp_path: Path):
    earlier = tmp_path / "cap-00001.ndjson.gz"
    earlier.write_bytes(b"earlier capture")
    (tmp_path / "cap-00002.ndjson.gz").write_bytes(b"earlier capture")
    pattern = str(tmp_path / "cap-{n:05d}.ndjson.gz")
    result = record("--rotate", "1h", "-o", pattern)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"Error: -o {pattern}: {earlier} already exists (and 1 more): remove it, choose "
        f"another -o, or add --append to go on after {tmp_path}/cap-00002.ndjson.gz\n"
    )
    assert earlier.read_bytes() == b"earlier capture"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cap-00001.ndjson.gz",
        "cap-00002.ndjson.gz",
    ]


def test_a_folder_holding_an_earlier_capture_is_refused_the_same_way(tmp_path: Path):
    (tmp_path / "osreplay-00001.ndjson").write_text("")
    result = record("--rotate", "30m", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"Error: -o {tmp_path}: {tmp_path}/osreplay-00001.ndjson already exists: remove it"
    )


def test_an_unreachable_broker_leaves_no_file_behind(tmp_path: Path):
    # Past the refusals: the connection check fails before the first file is opened.
    result = record("--rotate", "1h", "-o", str(tmp_path / "cap-{n}.ndjson"))
    assert result.exit_code == 2 and result.stderr.startswith("Error: cannot connect")
    assert list(tmp_path.iterdir()) == []
