"""``osreplay schema infer`` and ``osreplay schema diff`` on fixtures/drift."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from osreplay.cli import main

DRIFT = Path(__file__).resolve().parents[2] / "fixtures" / "drift"
A, RERUN, B = (
    str(DRIFT / name) for name in ("release-a.ndjson", "release-a-rerun.ndjson", "release-b.ndjson")
)


def invoke(*args: str):
    return CliRunner().invoke(main, ["schema", *args], prog_name="osreplay")


def test_infer_writes_one_schema_per_event_type_and_version(tmp_path):
    out = tmp_path / "schemas"
    result = invoke("infer", A, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "compute.instance.create.end.schema.json",
        "image.delete.schema.json",
        "instance.update@1.9.schema.json",
        "volume.create.end.schema.json",
    ]
    assert result.stdout.splitlines()[-1] == f"4 schemas from 4 records written to {out}"
    update = json.loads((out / "instance.update@1.9.schema.json").read_text())
    assert update["x-osreplay"] == {
        "event_type": "instance.update",
        "object": "InstanceUpdatePayload",
        "version": "1.9",
        "records": 1,
    }
    data = update["properties"]["nova_object.data"]
    assert data["properties"]["host"] == {"type": "string"}
    assert sorted(data["required"]) == ["host", "state", "updated_at", "uuid"]


def test_infer_json_and_an_output_that_is_a_file(tmp_path):
    result = invoke("infer", A, "-o", str(tmp_path / "s"), "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["records"] == 4 and len(doc["schemas"]) == 4
    assert doc["schemas"][0] == {
        "event_type": "compute.instance.create.end",
        "object": None,
        "version": None,
        "records": 1,
        "path": str(tmp_path / "s" / "compute.instance.create.end.schema.json"),
    }
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = invoke("infer", A, "-o", str(blocker))
    assert result.exit_code == 2
    assert result.stderr == f"Error: -o {blocker}: exists and is not a folder\n"


def test_a_rerun_with_new_ids_times_and_hosts_shows_no_drift():
    result = invoke("diff", A, RERUN)
    assert result.exit_code == 0
    assert result.stdout == "No drift (4 event types in A, 4 in B)\n"


EXPECTED = """\
  instance.update: payload version 1.9 in A, 1.10 in B
! image.delete: event type removed
  image.deactivate: event type added
! compute.instance.create.end: $.payload.flavor.vcpus: field removed (was integer)
  compute.instance.create.end: $.payload.image_ref: became nullable: string -> null
  compute.instance.create.end: $.payload.locked: field added (boolean)
! compute.instance.create.end: $.payload.memory_mb: type changed: integer -> string
  instance.update: $.payload['nova_object.data'].shares: field added (array)
! volume.create.end: $.payload.size: type changed: integer -> number
8 changes, 4 breaking (4 event types in A, 4 in B)
"""


def test_drift_between_releases_is_reported_and_breaking_changes_exit_1():
    result = invoke("diff", A, B)
    assert result.exit_code == 1
    assert result.stdout == EXPECTED


def test_schema_folders_compare_like_the_recordings(tmp_path):
    assert invoke("infer", A, "-o", str(tmp_path / "a")).exit_code == 0
    assert invoke("infer", B, "-o", str(tmp_path / "b")).exit_code == 0
    result = invoke("diff", str(tmp_path / "a"), str(tmp_path / "b"))
    assert (result.exit_code, result.stdout) == (1, EXPECTED)
    mixed = invoke("diff", str(tmp_path / "a"), RERUN)
    assert mixed.exit_code == 0


def test_diff_json():
    doc = json.loads(invoke("diff", A, B, "--format", "json").stdout)
    assert doc["breaking"] == 4
    assert doc["versions"] == {"instance.update": {"a": ["1.9"], "b": ["1.10"]}}
    assert doc["changes"][2] == {
        "event_type": "compute.instance.create.end",
        "kind": "field removed",
        "path": "$.payload.flavor.vcpus",
        "a": ["integer"],
        "b": None,
        "breaking": True,
    }


def test_only_additions_exit_0(tmp_path):
    result = invoke("diff", RERUN, A)
    assert result.exit_code == 0
    lines = Path(B).read_text().splitlines()
    grown = tmp_path / "grown.ndjson"
    grown.write_text(Path(A).read_text() + lines[2] + "\n")  # image.deactivate added
    result = invoke("diff", A, str(grown))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "  image.deactivate: event type added"


def test_a_schema_folder_with_a_foreign_schema(tmp_path):
    (tmp_path / "x.schema.json").write_text('{"type": "object"}')
    result = invoke("diff", str(tmp_path), A)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {tmp_path}/x.schema.json: no x-osreplay.event_type (write schemas with "
        "osreplay schema infer)\n"
    )


def test_schema_commands_have_help():
    for name in ("infer", "diff"):
        command = main.commands["schema"].commands[name]
        assert command.help
        assert all(
            p.help for p in command.params if hasattr(p, "help") and p.param_type_name == "option"
        )
        result = invoke(name, "--help")
        assert result.exit_code == 0 and f"Usage: osreplay schema {name}" in result.output


def test_event_types_that_share_a_file_name_keep_a_schema_each(tmp_path):
    recording = tmp_path / "r.ndjson"
    lines = [
        json.dumps(
            {"event_type": name, "publisher_id": "p", "priority": "INFO", "payload": {"k": 1}}
        )
        for name in ("a/b", "a_b", "../up")
    ]
    recording.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    assert invoke("infer", str(recording), "-o", str(out)).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        ".._up.schema.json",
        "a_b-2.schema.json",
        "a_b.schema.json",
    ]
    titles = {json.loads(p.read_text())["title"] for p in out.iterdir()}
    assert titles == {"a/b", "a_b", "../up"}
