"""stats, trace, diff, timeline and redact on records holding what real buses send:
escaped lone surrogates, control characters, null publishers. One clear result, never a
traceback; text escaped so data cannot forge a line; JSON that parses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
HOSTILE = (
    '{"event_type":"compute.instance.create.start\\udcff","publisher_id":null,'
    '"priority":"INFO","payload":{"nova_object.data":{"uuid":"\\ud800x"}},'
    '"ctxt":{"request_id":"req-\\udcff"},"timestamp":"2024-01-01 00:00:00"}\n'
    '{"event_type":"x\\u001b[31m\\nFAKE: line","publisher_id":"p\\ud800","priority":"ERROR",'
    '"payload":{"user_name":"b\\udcffob"},"timestamp":"2024-01-01 00:00:01"}\n'
)


def osreplay(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "osreplay", *args], capture_output=True, cwd=ROOT, timeout=60
    )


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.ndjson"
    path.write_text(HOSTILE)
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["stats"],
        ["trace"],
        ["trace", "--by", "resource"],
    ],
)
def test_text_reports_escape_what_the_records_hold(hostile: Path, command: list[str]) -> None:
    done = osreplay(*command, str(hostile))
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in done.stderr
    text = done.stdout.decode("utf-8")  # strict: no raw surrogate reached the output
    assert "\x1b" not in text
    assert "\nFAKE: line" not in text
    assert "\\udcff" in text or "\\ud800" in text or "x\\x1b" in text


@pytest.mark.parametrize(
    "command", [["stats", "--format", "json"], ["trace", "--by", "resource", "--format", "json"]]
)
def test_json_reports_parse_and_keep_the_escapes(hostile: Path, command: list[str]) -> None:
    done = osreplay(*command, str(hostile))
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    document = json.loads(done.stdout.decode("utf-8"))
    assert "\\ud800" in json.dumps(document) or "\\udcff" in json.dumps(document)


def test_diff_of_hostile_recordings_reports_without_a_traceback(hostile: Path) -> None:
    done = osreplay("diff", str(hostile), "fixtures/nova-server-boot.ndjson")
    assert done.returncode == 1
    assert b"Traceback" not in done.stderr
    done.stdout.decode("utf-8")
    as_json = osreplay("diff", "--format", "json", str(hostile), str(hostile))
    assert as_json.returncode == 0, as_json.stderr.decode("utf-8", "replace")
    json.loads(as_json.stdout.decode("utf-8"))


def test_timeline_writes_a_page_for_hostile_records(hostile: Path, tmp_path: Path) -> None:
    page = tmp_path / "t.html"
    done = osreplay("timeline", str(hostile), "-o", str(page))
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    html = page.read_text("utf-8")
    assert "\\udcff" in html
    assert "\x1b" not in html


def test_redact_pseudonymises_values_holding_lone_surrogates(hostile: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.ndjson"
    done = osreplay("redact", str(hostile), "-o", str(out), "--pseudonymise", "--seed", "s")
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert done.stderr.decode("utf-8").startswith("Redacted 2 records from")
    written = out.read_text("utf-8")
    assert "bob" not in written.replace("\\udcff", "")
    assert len(written.splitlines()) == 2
