"""`osreplay diff` as a CI job runs it: the same scenario recorded before and after a change.

boot-rerun.ndjson is boot-before.ndjson recorded again: every id, UUID (keystone's without
dashes too), request id, time and compute host number differs, nothing else.
boot-after.ndjson is the scenario after an "upgrade": InstanceCreatePayload 1.12 -> 1.13
with a new `shares` field, `audit_period` gone from instance.update, another keystone
client, the power-off now ends, and no neutron port.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from osreplay.cli import main

ROOT = Path(__file__).parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"

AFTER_REPORT = """\
+ instance.power_off.end: only in B (1 record)
- port.create.end: only in A (1 record)
identity.authenticate: $.payload.initiator.host.agent: "python-keystoneclient" in A, \
"python-openstackclient" in B (3 pairs)
instance.create.end: $.payload['nova_object.version']: InstanceCreatePayload version 1.12 in A, \
1.13 in B (1 pair)
instance.create.end: $.payload['nova_object.data'].shares: only in B ([]) (1 pair)
instance.create.error: $.payload['nova_object.version']: InstanceCreatePayload version 1.12 in A, \
1.13 in B (1 pair)
instance.create.start: $.payload['nova_object.version']: InstanceCreatePayload version 1.12 in \
A, 1.13 in B (2 pairs)
instance.create.start: $.payload['nova_object.data'].shares: only in B ([]) (1 pair)
instance.power_off.start: $.payload['nova_object.data'].shares: only in B ([]) (1 pair)
instance.update: $.payload['nova_object.data'].audit_period: only in A \
({"audit_period_beginning": "2024-03-05T10:00:00.000000+0000…) (1 pair)
instance.update: $.payload['nova_object.data'].shares: only in B ([]) (1 pair)
11 differences in 8 event types (14 records in A, 14 in B, 13 pairs compared)
"""


@pytest.fixture(autouse=True)
def in_scenario_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT / "fixtures" / "scenario")


def osreplay(*args: str, input: bytes | None = None):  # noqa: A002 - click's name
    return CliRunner().invoke(main, list(args), input=input, prog_name="osreplay")


def test_a_rerun_differs_only_in_volatile_fields_and_exits_0() -> None:
    result = osreplay("diff", "boot-before.ndjson", "boot-rerun.ndjson")

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "No difference beyond volatile fields (14 records in A, 14 in B, 14 pairs compared)\n"
    )
    assert result.stderr == ""


def test_an_upgrade_reports_every_difference_and_exits_1() -> None:
    result = osreplay("diff", "boot-before.ndjson", "boot-after.ndjson")

    assert result.exit_code == 1
    assert result.stdout == AFTER_REPORT
    assert result.stderr == ""


def test_json_lists_added_removed_and_changed_with_versions_as_such() -> None:
    result = osreplay("diff", "--format", "json", "boot-before.ndjson", "boot-after.ndjson")

    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert (doc["added"], doc["removed"], doc["count_changed"]) == (
        ["instance.power_off.end"],
        ["port.create.end"],
        [],
    )
    assert doc["changed"][1] == {
        "event_type": "instance.create.end",
        "path": "$.payload['nova_object.version']",
        "kind": "version",
        "a": "1.12",
        "b": "1.13",
        "records": 1,
        "first_a": "boot-before.ndjson:7",
        "first_b": "boot-after.ndjson:7",
        "object": "InstanceCreatePayload",
    }
    assert {c["kind"] for c in doc["changed"]} == {"value", "version", "added", "removed"}


def test_ignore_removes_paths_and_a_changed_count_still_fails() -> None:
    result = osreplay(
        "diff", "boot-before.ndjson", "boot-after.ndjson",
        "--ignore", "$..shares", "--ignore", "$.payload.initiator.host",
        "--ignore", "$.payload['nova_object.version']",
        "--ignore", "payload['nova_object.data'].audit_period",
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stdout == (
        "+ instance.power_off.end: only in B (1 record)\n"
        "- port.create.end: only in A (1 record)\n"
        "2 differences in 2 event types (14 records in A, 14 in B, 13 pairs compared)\n"
    )


def test_a_changed_count_and_a_changed_priority(tmp_path: Path) -> None:
    lines = Path("boot-rerun.ndjson").read_text().splitlines(keepends=True)
    failing = json.loads(lines[0])
    failing["priority"] = "WARN"
    changed = tmp_path / "changed.ndjson"
    changed.write_text(json.dumps(failing) + "\n" + "".join(lines[1:]) + lines[10])

    result = osreplay("diff", "boot-before.ndjson", str(changed))

    assert result.exit_code == 1
    assert result.stdout.splitlines()[:2] == [
        "~ identity.authenticate: 3 records in A, 4 in B",
        'identity.authenticate: $.priority: "INFO" in A, "WARN" in B (1 pair)',
    ]


def test_a_bad_ignore_path_and_a_missing_file_exit_2() -> None:
    bad = osreplay("diff", "--ignore", "$.payload[", "boot-before.ndjson", "boot-after.ndjson")
    missing = osreplay("diff", "boot-before.ndjson", "nowhere.ndjson")

    assert (bad.exit_code, missing.exit_code) == (2, 2)
    assert bad.stdout == missing.stdout == ""
    assert bad.stderr == (
        "Error: --ignore '$.payload[' is not a JSON path (at '['); write it like "
        "$.payload.reason or $.payload['nova_object.data'].host\n"
    )
    assert missing.stderr == "Error: cannot open nowhere.ndjson: no such file\n"
    twice = osreplay("diff", "-", "-", input=b"")
    assert twice.exit_code == 2
    assert twice.stderr == (
        "Error: A and B cannot both be - (standard input can be read only once)\n"
    )


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is absent")
def test_the_same_keystone_event_from_two_upstream_documents_does_not_differ() -> None:
    a = CORPUS / "keystone" / "identity.authenticate.success.cadf.json"
    b = CORPUS / "cadf" / "envelopes" / "keystone-identity.authenticate.success.json"
    failure = CORPUS / "keystone" / "identity.authenticate.failure.invalid_password.cadf.json"

    assert osreplay("diff", str(a), str(b)).exit_code == 0
    result = osreplay("diff", "--format", "json", str(a), str(failure))
    assert result.exit_code == 1
    outcome = [c for c in json.loads(result.stdout)["changed"] if c["path"] == "$.payload.outcome"]
    assert outcome[0]["a"] == "success" and outcome[0]["b"] == "failure"
