"""`osreplay validate` as a user runs it, over the project's fixtures folder."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from osreplay.cli import main

ROOT = Path(__file__).parents[2]

INVALID_REPORT = """\
fixtures/invalid/every-error.ndjson:1: not valid JSON: Expecting property name enclosed in double quotes: \
line 1 column 59 (char 58) ('{"event_type": "compute.instance.create.end", "payload": {oo…')
fixtures/invalid/every-error.ndjson:2: not a JSON object (a JSON array)
fixtures/invalid/every-error.ndjson:3: invalid UTF-8 at byte 68
fixtures/invalid/every-error.ndjson:4: not valid JSON: NaN is not JSON
fixtures/invalid/every-error.ndjson:6: missing required key(s): publisher_id, priority
fixtures/invalid/every-error.ndjson:7: priority "NOTICE" is not one of AUDIT, DEBUG, INFO, WARN, ERROR, \
CRITICAL, SAMPLE
fixtures/invalid/every-error.ndjson:8: identity.authenticate: $.payload.reason.reasonCode: 401 is not of \
type 'string'
fixtures/invalid/every-error.ndjson:9: identity.authenticate: $.payload.initiatorId: not allowed together \
with 'initiator'
fixtures/invalid/every-error.ndjson:10: identity.authenticate: $.payload.eventTime: must be an ISO 8601 time \
with a UTC offset, e.g. 2024-05-01T12:00:00.000000+0000
fixtures/invalid/every-error.ndjson:10: identity.authenticate: $.payload.outcome: "denied" is not one of \
"success", "failure", "pending", "unknown"
fixtures/invalid/every-error.ndjson:11: identity.authenticate: $.payload.target: a resource needs a 'typeURI' \
unless its id refers to 'target', 'initiator' or 'observer'
fixtures/invalid/every-error.ndjson:11: identity.authenticate: $.payload: a control event needs a 'reason'
fixtures/invalid/every-error.ndjson:12: identity.authenticate: $.payload: a monitor event needs 'measurements'
fixtures/invalid/every-error.ndjson:13: instance.create.end: $.payload.nova_object.version: must be a \
version 'MAJOR.MINOR', e.g. '1.0'
fixtures/invalid/every-error.ndjson:14: instance.create.end: $.payload.nova_object.data.flavor: \
'nova_object.namespace' is a required property
fixtures/invalid/every-error.ndjson:15: truncated last line (no newline at end of file, not valid JSON)
note: InstanceCreatePayload 1.0 is older than the schemas (from 1.13): checked against 1.13, without \
requiring the fields added since
payload schemas: cadf-event (5 records), nova (2 records, 1 object version)
14 records: 0 valid, 7 invalid, 0 without payload schema, 7 unreadable
"""


@pytest.fixture(autouse=True)
def in_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def osreplay(*args: str, input: bytes | None = None):  # noqa: A002 - click's name
    return CliRunner().invoke(main, list(args), input=input, prog_name="osreplay")


@pytest.mark.parametrize(
    ("fixture", "families", "summary"),
    [
        (
            "keystone-login-failure.ndjson",
            "cadf-event (3 records)",
            "3 records: 3 valid, 0 invalid",
        ),
        (
            "nova-server-boot.ndjson",
            "nova (4 records, 3 object versions)",
            "4 records: 4 valid, 0 invalid",
        ),
        (
            "legacy.ndjson",
            "cadf-event (1 record), ironic (1 record, 1 object version), keystone-basic (1 record)",
            "5 records: 3 valid, 0 invalid, 2 without payload schema",
        ),
    ],
)
def test_valid_fixtures_pass(fixture: str, families: str, summary: str) -> None:
    result = osreplay("validate", f"fixtures/{fixture}")

    assert result.exit_code == 0, result.output
    first, last = result.stdout.splitlines()
    assert first == f"payload schemas: {families}"
    assert last.startswith(summary)
    assert result.stderr == ""


def test_invalid_fixture_reports_every_problem_with_its_line() -> None:
    result = osreplay("validate", "fixtures/invalid/every-error.ndjson")

    assert result.exit_code == 1
    assert result.stdout == INVALID_REPORT
    assert result.stderr == ""


def test_several_files_one_summary() -> None:
    result = osreplay(
        "validate",
        "fixtures/keystone-login-failure.ndjson",
        "fixtures/nova-server-boot.ndjson",
        "fixtures/legacy.ndjson",
    )

    assert result.exit_code == 0
    assert result.stdout == (
        "payload schemas: cadf-event (4 records), ironic (1 record, 1 object version), "
        "keystone-basic (1 record), nova (4 records, 3 object versions)\n"
        "12 records: 10 valid, 0 invalid, 2 without payload schema, 0 unreadable\n"
    )


def test_strict_fails_payloads_without_schema() -> None:
    result = osreplay("validate", "--strict", "fixtures/legacy.ndjson")

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "fixtures/legacy.ndjson:1: compute.instance.create.end: $.payload: "
        "no payload schema for this event type",
        "fixtures/legacy.ndjson:2: port.create.end: $.payload: "
        "no payload schema for this event type",
        "payload schemas: cadf-event (1 record), ironic (1 record, 1 object version), "
        "keystone-basic (1 record)",
        "5 records: 3 valid, 0 invalid, 2 without payload schema, 0 unreadable",
    ]


def test_quiet_prints_only_the_summary() -> None:
    result = osreplay("validate", "-q", "fixtures/invalid/every-error.ndjson")

    assert result.exit_code == 1
    assert (
        result.stdout == "14 records: 0 valid, 7 invalid, 0 without payload schema, 7 unreadable\n"
    )


def test_json_report() -> None:
    result = osreplay("validate", "--format", "json", "fixtures/invalid/every-error.ndjson")

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["summary"] == {
        "records": 14,
        "valid": 0,
        "invalid": 7,
        "no_schema": 0,
        "unreadable": 7,
    }
    assert report["by_schema"] == {
        "cadf-event": {"valid": 0, "invalid": 5},
        "nova-versioned": {"valid": 0, "invalid": 1},  # a version no schema can be picked by
        "nova:InstanceCreatePayload@1.13": {"valid": 0, "invalid": 1},
    }
    assert report["notes"] == [
        {
            "family": "nova",
            "object": "InstanceCreatePayload",
            "version": "1.0",
            "kind": "older",
            "checked_against": "1.13",
            "message": "InstanceCreatePayload 1.0 is older than the schemas (from 1.13): "
            "checked against 1.13, without requiring the fields added since",
        }
    ]
    assert len(report["problems"]) == 16
    assert report["problems"][6] == {
        "file": "fixtures/invalid/every-error.ndjson",
        "line": 8,
        "status": "invalid",
        "event_type": "identity.authenticate",
        "json_path": "$.payload.reason.reasonCode",
        "message": "401 is not of type 'string'",
    }
    assert report["problems"][1] == {
        "file": "fixtures/invalid/every-error.ndjson",
        "line": 2,
        "status": "unreadable",
        "event_type": None,
        "json_path": None,
        "message": "not a JSON object (a JSON array)",
    }


def test_json_report_of_a_valid_file() -> None:
    result = osreplay("validate", "--format", "json", "fixtures/nova-server-boot.ndjson")

    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "problems": [],
        "summary": {"records": 4, "valid": 4, "invalid": 0, "no_schema": 0, "unreadable": 0},
        "by_schema": {
            "nova:InstanceCreatePayload@1.13": {"valid": 2, "invalid": 0},
            "nova:InstanceUpdatePayload@2.1": {"valid": 1, "invalid": 0},
            "nova:RequestSpecPayload@1.1": {"valid": 1, "invalid": 0},
        },
        "notes": [],
    }


def test_missing_file_is_a_one_line_error() -> None:
    result = osreplay("validate", "fixtures/keystone-login-failure.ndjson", "no-such.ndjson")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "Error: cannot open no-such.ndjson: no such file\n"


def test_stdin_and_gzip(tmp_path: Path) -> None:
    data = (ROOT / "fixtures" / "nova-server-boot.ndjson").read_bytes()
    gz = tmp_path / "boot.ndjson.gz"
    gz.write_bytes(gzip.compress(data))

    from_stdin = osreplay("validate", "-", input=data)
    from_gzip = osreplay("validate", str(gz))

    assert from_stdin.exit_code == from_gzip.exit_code == 0
    assert (
        from_stdin.stdout
        == from_gzip.stdout
        == (
            "payload schemas: nova (4 records, 3 object versions)\n"
            "4 records: 4 valid, 0 invalid, 0 without payload schema, 0 unreadable\n"
        )
    )


def test_user_schema_option(tmp_path: Path) -> None:
    schema = tmp_path / "success-only.json"
    schema.write_text(json.dumps({"properties": {"outcome": {"const": "success"}}}))

    result = osreplay(
        "validate", "--schema", f"identity.auth*={schema}", "fixtures/keystone-login-failure.ndjson"
    )

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "fixtures/keystone-login-failure.ndjson:1: identity.authenticate: $.payload.outcome: "
        '"failure" should be "success"',
        "fixtures/keystone-login-failure.ndjson:2: identity.authenticate: $.payload.outcome: "
        '"failure" should be "success"',
        f"payload schemas: cadf-event (3 records), {schema} (3 records)",
        "3 records: 1 valid, 2 invalid, 0 without payload schema, 0 unreadable",
    ]


def test_bad_schema_option_is_a_usage_error() -> None:
    result = osreplay("validate", "--schema", "identity.*", "fixtures/legacy.ndjson")

    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --schema 'identity.*': expected EVENT_TYPE_GLOB=PATH")
    assert "Traceback" not in result.output


def test_every_bad_input_class_is_reported_and_the_run_continues(tmp_path: Path) -> None:
    good = (ROOT / "fixtures" / "nova-server-boot.ndjson").read_bytes().splitlines(True)[0]
    path = tmp_path / "bad.ndjson"
    path.write_bytes(
        b"{not json\n"
        + b"42\n"
        + b'{"event_type": "\xc3\x28"}\n'
        + b'{"load": -Infinity}\n'
        + b"[" * 100_000
        + b"\n"
        + b'{"event_type": "x.y", "publisher_id": "p", "priority": "INFO", "payload": "'
        + b"y" * 4_000_000
        + b'"}\n'
        + good
        + b'{"event_type": "cut'
    )

    result = osreplay("validate", str(path))

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[-2] == "payload schemas: nova (1 record, 1 object version)"
    assert [line.split(": ")[0] for line in lines[:-2]] == [
        f"{path}:1",
        f"{path}:2",
        f"{path}:3",
        f"{path}:4",
        f"{path}:5",
        f"{path}:8",
    ]
    assert lines[1] == f"{path}:2: not a JSON object (a JSON number)"
    assert lines[2].startswith(f"{path}:3: invalid UTF-8")
    assert "Infinity" in lines[3]
    assert "nesting deeper than 200 levels" in lines[4]
    assert lines[5] == f"{path}:8: truncated last line (no newline at end of file, not valid JSON)"
    assert lines[-1] == "8 records: 1 valid, 0 invalid, 1 without payload schema, 6 unreadable"
