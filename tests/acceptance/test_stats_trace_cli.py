"""`osreplay stats` and `osreplay trace` as a user runs them, over recordings made for them.

fixtures/scenario/boot-before.ndjson is a small day in a cloud: three keystone logins (two
failures), a nova boot that succeeds (its scheduler records written out of time order), a
boot that fails, a power-off that never ends, a neutron port and an ironic power cycle.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from osreplay.cli import main

ROOT = Path(__file__).parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"
BEFORE = "fixtures/scenario/boot-before.ndjson"
BOOT_REQUEST = "req-9b810e76-6ec9-4286-a3ca-828dd5f4b3b2"
WEB_1 = "78e51061-7311-48a3-82ce-6f447ed4d57b"

STATS_TEXT = """\
14 records, 0 unreadable lines
first  2024-03-05T10:00:00.100000Z
last   2024-03-05T10:01:35.250000Z
span   1 min 35 s
rate   48 buckets of 2 s from 2024-03-05T10:00:00.000000Z, busiest 5 records (2.5/s), average 0.146/s
       |█▂    ▂   ▂ ▂                 ▂ ▂  ▂    ▂      ▂|
busiest second 2024-03-05T10:00:00.000000Z: 4 records

event type                           records
identity.authenticate                      3
instance.create.start                      2
baremetal.node.power_set.end               1
baremetal.node.power_set.start             1
instance.create.end                        1
instance.create.error                      1
instance.power_off.start                   1
instance.update                            1
port.create.end                            1
scheduler.select_destinations.end          1
scheduler.select_destinations.start        1

publisher                records
nova-compute:compute-1         4
identity.keystone-1            2
ironic-conductor.cond-1        2
nova-compute:compute-2         2
nova-scheduler:sched-1         2
identity.keystone-2            1
network.net-1                  1

priority  records
INFO           13
ERROR           1

exchange  records
nova            8
keystone        3
ironic          2
neutron         1

payload version                records
InstanceCreatePayload 1.12           4
NodeSetPowerStatePayload 1.16        2
RequestSpecPayload 1.3               2
InstanceActionPayload 1.8            1
InstanceUpdatePayload 1.9            1

CADF action   outcome  records
authenticate  failure        2
authenticate  success        1
"""

BOOT_TRACE = f"""\
{BOOT_REQUEST}: 5 records, 2024-03-05T10:00:00.800000Z to 2024-03-05T10:00:12.300000Z (11.500 s)
   +0.000 s  {BEFORE}:4  INFO   scheduler.select_destinations.start
   +0.150 s  {BEFORE}:5  INFO   scheduler.select_destinations.end
   +0.200 s  {BEFORE}:3  INFO   instance.create.start
   +2.200 s  {BEFORE}:6  INFO   instance.update
  +11.500 s  {BEFORE}:7  INFO   instance.create.end
  span scheduler.select_destinations: 0.150 s, end
  span instance.create: 11.300 s, end

1 group by request id, 14 records (0 without a request id); 2 spans, 0 open
"""


@pytest.fixture(autouse=True)
def in_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def osreplay(*args: str, input: bytes | None = None):  # noqa: A002 - click's name
    return CliRunner().invoke(main, list(args), input=input, prog_name="osreplay")


# --- stats -------------------------------------------------------------------------------


def test_stats_text_is_a_readable_table() -> None:
    result = osreplay("stats", BEFORE)

    assert result.exit_code == 0, result.output
    assert result.stdout == STATS_TEXT
    assert result.stderr == ""


def test_stats_json_has_every_key_as_plain_integers() -> None:
    result = osreplay("stats", "--format", "json", BEFORE)

    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["records"] == 14 and doc["unreadable"] == 0
    assert (doc["first"], doc["last"]) == (
        "2024-03-05T10:00:00.100000Z",
        "2024-03-05T10:01:35.250000Z",
    )
    assert doc["by_event_type"]["identity.authenticate"] == 3
    assert doc["by_publisher"]["nova-compute:compute-1"] == 4
    assert doc["by_priority"] == {"INFO": 13, "ERROR": 1}
    assert doc["by_exchange"] == {"nova": 8, "keystone": 3, "ironic": 2, "neutron": 1}
    assert doc["cadf"] == {"authenticate": {"failure": 2, "success": 1}}
    assert doc["payload_versions"]["InstanceCreatePayload 1.12"] == 4
    rate = doc["rate"]
    assert rate["bucket_seconds"] == 2 and sum(rate["counts"]) == 14 and len(rate["counts"]) == 48
    assert (rate["busiest_second"], rate["busiest_second_records"]) == (
        "2024-03-05T10:00:00.000000Z",
        4,
    )


def test_stats_reads_several_files_stdin_and_gzip(tmp_path: Path) -> None:
    data = (ROOT / BEFORE).read_bytes()
    packed = tmp_path / "boot.ndjson.gz"
    packed.write_bytes(gzip.compress(data))

    result = osreplay("stats", "--format", "json", "-", str(packed), input=data)

    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["records"] == 28 and doc["by_priority"] == {"INFO": 26, "ERROR": 2}


def test_stats_counts_and_names_unreadable_lines_on_stderr() -> None:
    result = osreplay("stats", "--format", "json", "fixtures/invalid/every-error.ndjson")

    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert (doc["records"], doc["unreadable"]) == (7, 7)
    assert result.stderr.splitlines()[:2] == [
        "fixtures/invalid/every-error.ndjson:1: not valid JSON: Expecting property name enclosed "
        "in double quotes: line 1 column 59 (char 58) "
        '(\'{"event_type": "compute.instance.create.end", "payload": {oo…\') (skipped)',
        "fixtures/invalid/every-error.ndjson:2: not a JSON object (a JSON array) (skipped)",
    ]
    assert "every-error.ndjson:6: missing required key(s): publisher_id, priority (skipped)" in (
        result.stderr
    )


def test_only_the_first_20_unreadable_lines_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"event_type": "x"}\n' * 25 + (ROOT / BEFORE).read_text())

    result = osreplay("stats", "--format", "json", str(bad))

    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert len(lines) == 21
    assert (
        lines[19] == f"{bad}:20: missing required key(s): publisher_id, priority, payload (skipped)"
    )
    assert lines[20] == "25 unreadable lines skipped in all (the first 20 shown)"
    assert json.loads(result.stdout)["unreadable"] == 25


def test_stats_missing_file_is_a_usage_error() -> None:
    result = osreplay("stats", "nowhere.ndjson")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "Error: cannot open nowhere.ndjson: no such file\n"


# --- trace -------------------------------------------------------------------------------


def test_trace_one_request_in_time_order_with_spans() -> None:
    result = osreplay("trace", "--id", BOOT_REQUEST, BEFORE)

    assert result.exit_code == 0, result.output
    assert result.stdout == BOOT_TRACE
    assert result.stderr == ""


def test_trace_flags_errors_and_open_starts() -> None:
    result = osreplay("trace", "--format", "json", BEFORE)

    assert result.exit_code == 0
    groups = json.loads(result.stdout)
    assert len(groups) == 8
    spans = [
        (span["event"], span["outcome"], span["seconds"]) for g in groups for span in g["spans"]
    ]
    assert spans == [
        ("scheduler.select_destinations", "end", 0.15),
        ("instance.create", "end", 11.3),
        ("instance.create", "error", 5.5),
        ("instance.power_off", "open", None),
        ("baremetal.node.power_set", "end", 15.25),
    ]
    boot = groups[2]
    assert boot["key"] == BOOT_REQUEST
    assert [(r["line"], r["event_type"]) for r in boot["records"]] == [
        (4, "scheduler.select_destinations.start"),
        (5, "scheduler.select_destinations.end"),
        (3, "instance.create.start"),
        (6, "instance.update"),
        (7, "instance.create.end"),
    ]
    assert boot["spans"][1] == {
        "event": "instance.create",
        "start": "2024-03-05T10:00:01.000000Z",
        "end": "2024-03-05T10:00:12.300000Z",
        "seconds": 11.3,
        "outcome": "end",
        "start_record": f"{BEFORE}:3",
        "end_record": f"{BEFORE}:7",
    }
    open_span = "span instance.power_off: open (started at fixtures/scenario/boot-before.ndjson:10"
    assert open_span in osreplay("trace", BEFORE).stdout


def test_trace_by_resource_follows_an_instance_across_requests() -> None:
    result = osreplay("trace", "--by", "resource", "--id", WEB_1, "--format", "json", BEFORE)

    assert result.exit_code == 0, result.output
    [group] = json.loads(result.stdout)
    assert [r["event_type"] for r in group["records"]] == [
        "scheduler.select_destinations.start",
        "scheduler.select_destinations.end",
        "instance.create.start",
        "instance.update",
        "instance.create.end",
        "instance.power_off.start",
    ]


def test_trace_unknown_id_exits_1_with_a_hint() -> None:
    result = osreplay("trace", "--id", "req-nope", BEFORE)

    assert result.exit_code == 1
    assert result.stderr == "No record with request id req-nope: check --id and --by.\n"


def test_trace_closes_the_least_recent_group_early_past_max_groups() -> None:
    result = osreplay("trace", "--max-groups", "2", BEFORE)

    assert result.exit_code == 0
    assert "[closed early: too many open groups]" in result.stdout
    assert result.stdout.splitlines()[-1].endswith("groups closed early (raise --max-groups)")


# --- the shared corpus of real notifications ----------------------------------------------

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is absent")


@needs_corpus
def test_stats_over_the_corpus_counts_every_notification() -> None:
    files = sorted(str(path) for path in CORPUS.rglob("*.json") if path.name != "MANIFEST.json")
    result = osreplay("stats", "--format", "json", *files)

    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    bare_cadf = len(list((CORPUS / "cadf").glob("*.json")))
    # octavia's publisher_id is null, as oslo sends it: a notification (issue 7)
    assert doc["records"] == len(files) - bare_cadf
    assert doc["unreadable"] == bare_cadf
    assert doc["by_publisher"]["null"] == 1
    assert doc["payload_versions"]["InstanceActionPayload 1.9"] >= 1
    assert doc["cadf"]["authenticate"]["failure"] >= 2
    assert doc["by_priority"]["ERROR"] >= 1


@needs_corpus
def test_trace_over_the_corpus_pairs_nova_starts_and_ends() -> None:
    # The samples carry no timestamp: they are ordered as given, and all are one instance.
    files = [
        str(CORPUS / "nova" / f"instance-{name}.json")
        for name in ("create-start", "create-error", "create-end", "delete-start", "delete-end")
    ]
    result = osreplay("trace", "--by", "resource", "--format", "json", *files)

    assert result.exit_code == 0, result.stderr
    [group] = json.loads(result.stdout)
    spans = [(span["event"], span["outcome"], span["end_record"]) for span in group["spans"]]
    assert spans == [
        ("instance.create", "error", f"{files[1]}:1"),
        ("instance.delete", "end", f"{files[4]}:1"),
    ]
