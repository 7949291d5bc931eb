"""Issue 19: no command echoes a secret or a terminal control, and redact scrubs every key.

The commands run in subprocesses (what a person sees on a terminal): an unreadable line
holding a token is quoted with the token masked, a dry run shows the copy it would send,
and C1 or bidirectional controls in data are escaped.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
TOKEN = "gAAAAABnTOKEN-never-shown"
GOOD = {
    "event_type": "compute.\u202eevil\u2066.\x9b31m",
    "publisher_id": "compute.host1",
    "priority": "INFO",
    "payload": {"note": "x\u202ey"},
    "timestamp": "2024-05-01 12:00:00",
    "ctxt": {"auth_token": TOKEN, "request_id": "req-1"},
}
BAD_LINE = '{"ctxt": {"auth_token": "' + TOKEN + '", "user": broken\n'


def osreplay(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "osreplay", *args],
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        text=True,
        encoding="utf-8",
        errors="surrogateescape",
    )


@pytest.fixture
def leaky(tmp_path: Path) -> Path:
    path = tmp_path / "leaky.ndjson"
    path.write_text(json.dumps(GOOD) + "\n" + BAD_LINE, encoding="utf-8")
    return path


RAW_CONTROLS = ("\u202e", "\u2066", "\x9b")


@pytest.mark.parametrize(
    "command",
    [
        ["validate"],
        ["validate", "--format", "json"],
        ["stats"],
        ["trace"],
        ["replay", "--dry-run"],
        ["replay", "--dry-run", "--fresh-ids"],
        ["redact", "-o", "{tmp}/out.ndjson"],
    ],
)
def test_an_unreadable_line_is_quoted_without_its_token(command, leaky, tmp_path):
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in command]
    result = osreplay(*args, str(leaky))
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert "auth_token" in output and "***" in output, output  # the line is quoted...
    assert TOKEN not in output  # ...without its token
    assert not any(control in output for control in RAW_CONTROLS), output


def test_a_dry_run_with_fresh_ids_shows_the_copy_it_would_send(tmp_path):
    path = tmp_path / "one.ndjson"
    path.write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    result = osreplay("replay", "--dry-run", "--fresh-ids", str(path))
    assert result.returncode == 0, result.stderr
    assert TOKEN not in result.stdout
    assert not any(control in result.stdout for control in RAW_CONTROLS), result.stdout
    shown = json.loads(result.stdout.splitlines()[2])
    assert shown["ctxt"]["auth_token"] == "***"
    assert shown["event_type"] == GOOD["event_type"]  # escaped as JSON, the same value


def test_redact_scrubs_every_top_level_key_and_counts_the_line(tmp_path):
    record = {
        "event_type": "e", "publisher_id": "p", "priority": "INFO", "payload": {},
        "context": {"auth_token": "S-1", "user": "u"},
        "headers": {"X-Auth-Token": "S-2"},
        "notes": "login failed: password=S-3 user=bob",
    }  # fmt: skip
    source = tmp_path / "top.ndjson"
    source.write_text(json.dumps(record) + "\n", encoding="utf-8")
    out = tmp_path / "clean.ndjson"
    result = osreplay("redact", str(source), "-o", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert [s for s in ("S-1", "S-2", "S-3") if s in text] == []
    assert json.loads(text)["notes"] == "login failed: password=*** user=bob"
    assert "1 with secrets masked" in result.stderr


def test_validate_never_quotes_a_secret_value_in_a_problem(tmp_path):
    cadf = {
        "typeURI": "http://schemas.dmtf.org/cloud/audit/1.0/event", "id": "x",
        "eventType": "activity", "eventTime": "2024-05-01T12:00:00.000000+0000",
        "action": "authenticate", "outcome": "password=S3CRET-PW",
        "initiator": {"id": "u", "typeURI": "service/security/account/user",
                      "credential": {"token": 12345678}},
        "target": {"id": "t", "typeURI": "service/security/account/user"},
        "observer": {"id": "o", "typeURI": "service/security"},
    }  # fmt: skip
    record = {"event_type": "identity.authenticate", "publisher_id": "identity.h",
              "priority": "INFO", "payload": cadf}  # fmt: skip
    path = tmp_path / "v.ndjson"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    result = osreplay("validate", str(path))
    assert result.returncode == 1, result.stderr
    assert "S3CRET" not in result.stdout and "12345678" not in result.stdout
    assert '$.payload.initiator.credential.token: "***" is not of type' in result.stdout
    assert '$.payload.outcome: "password=***" is not one of' in result.stdout
