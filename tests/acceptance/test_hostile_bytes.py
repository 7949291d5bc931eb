"""Issue 19: bytes that crashed a command, vanished or came back as something else.

Each command in a subprocess, as a person runs it: one nesting limit and one verdict for
every command (never a RecursionError traceback), ``1e400`` refused rather than read as
infinity, a UTF-8 byte-order mark read as one, and standard output on a full disk one line
and exit 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from osreplay.model.notification import MAX_NESTING

ROOT = Path(__file__).parents[2]
FIXTURE = ROOT / "fixtures" / "nova-server-boot.ndjson"
BASE = (
    '{"event_type":"compute.x","publisher_id":"p","priority":"INFO",'
    '"timestamp":"2024-05-01 12:00:00","ctxt":{"request_id":"req-1"},"payload":%s}\n'
)


def osreplay(*args: str, stdout: int | None = subprocess.PIPE) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "osreplay", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        timeout=120,
    )


def nested(levels: int) -> str:
    """A payload that makes the record ``levels`` deep (the record is level 1)."""
    text = "1"
    for _ in range(levels - 1):
        text = "[" + text + "]"
    return text


COMMANDS = [
    ["validate"],
    ["stats"],
    ["trace"],
    ["timeline", "-o", "{tmp}/t.html"],
    ["redact", "-o", "{tmp}/r.ndjson"],
    ["redact", "--pseudonymise", "-o", "{tmp}/p.ndjson"],
    ["replay", "--dry-run"],
    ["replay", "--dry-run", "--fresh-ids"],
    ["replay", "--dry-run", "--retime"],
]


def run_command(command: list[str], path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in command]
    return osreplay(*args, str(path))


@pytest.mark.parametrize("levels", [MAX_NESTING + 1, 495, 990, 5000])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_deep_nesting_is_one_verdict_for_every_command(command, levels, tmp_path):
    path = tmp_path / "deep.ndjson"
    path.write_text(BASE % nested(levels))
    result = run_command(command, path, tmp_path)
    output = (result.stdout + result.stderr).decode()
    assert "Traceback" not in output and "RecursionError" not in output, output
    assert f"nesting deeper than {MAX_NESTING} levels" in output, output


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_the_deepest_accepted_record_goes_through_every_command(command, tmp_path):
    path = tmp_path / "deep.ndjson"
    path.write_text(BASE % nested(MAX_NESTING))
    result = run_command(command, path, tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert b"Traceback" not in result.stderr


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_a_number_beyond_a_double_is_refused_never_infinity(command, tmp_path):
    path = tmp_path / "inf.ndjson"
    path.write_text(BASE % '{"bytes": 1e400}')
    result = run_command(command, path, tmp_path)
    output = (result.stdout + result.stderr).decode()
    assert "Traceback" not in output
    assert "Infinity" not in output
    assert "number 1e400 is too large for a double" in output, output


def test_a_wire_body_holding_1e400_is_unreadable(tmp_path):
    inner = json.loads(BASE % "1")
    body = {"oslo.version": "2.0", "oslo.message": json.dumps(inner)[:-1] + ', "n": 1e400}'}
    path = tmp_path / "wire.ndjson"
    path.write_text(json.dumps(body) + "\n")
    result = osreplay("replay", "--dry-run", "--fresh-ids", str(path))
    assert b"Infinity" not in result.stdout
    assert b"too large for a double" in result.stderr, result.stderr


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_a_byte_order_mark_is_read_as_one(command, gz, tmp_path):
    import gzip

    data = b"\xef\xbb\xbf" + (BASE % "{}").encode()
    path = tmp_path / ("bom.ndjson.gz" if gz else "bom.ndjson")
    path.write_bytes(gzip.compress(data) if gz else data)
    result = run_command(command, path, tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert b"unreadable" not in result.stderr.replace(b"0 unreadable", b"")


def test_a_byte_order_mark_in_a_json_document(tmp_path):
    path = tmp_path / "sample.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(json.loads(BASE % "{}"), indent=2).encode())
    result = osreplay("validate", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    "command",
    [
        ["validate", str(FIXTURE)],
        ["validate", "--format", "json", str(FIXTURE)],
        ["stats", str(FIXTURE)],
        ["stats", "--format", "json", str(FIXTURE)],
        ["trace", str(FIXTURE)],
        ["diff", str(FIXTURE), str(FIXTURE)],
        ["replay", "--dry-run", str(FIXTURE)],
        ["replay", "--dry-run", "--fresh-ids", str(FIXTURE)],
        ["timeline", str(FIXTURE), "-o", "-"],
        ["redact", str(FIXTURE)],
        ["--help"],
        ["validate", "--help"],
        ["--version"],
    ],
    ids=lambda c: " ".join(arg for arg in c if arg != str(FIXTURE)),
)
def test_standard_output_on_a_full_disk_is_one_line_and_exit_2(command):
    with open("/dev/full", "wb") as full:
        result = osreplay(*command, stdout=full.fileno())
    lines = result.stderr.decode().splitlines()
    assert result.returncode == 2, result.stderr.decode()
    assert len(lines) == 1, lines
    assert lines[0].startswith("Error: cannot write ") and "no space left" in lines[0]
