"""``osreplay ceilometer`` on the recording and definitions written for it (fixtures/ceilometer).

The expected events and samples below are what a real Ceilometer 27 notification agent
published when the recording was replayed into it (tests/fidelity/ceilometer_agent.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from osreplay.cli import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ceilometer"
RECORDING = str(FIXTURES / "cloud.ndjson")
EVENTS = str(FIXTURES / "events.yaml")
METERS = str(FIXTURES / "meters.d")


def invoke(*args: str):
    return CliRunner().invoke(main, ["ceilometer", *args], prog_name="osreplay")


def predict(*extra: str) -> dict:
    result = invoke(RECORDING, "--events", EVENTS, "--meters", METERS, "--format", "json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_events_and_their_traits():
    doc = predict()
    assert [e["event_type"] for e in doc["events"]] == [
        "compute.instance.create.start",
        "compute.instance.create.end",
        "compute.instance.create.end",
        "compute.instance.create.error",
        "compute.instance.exists",
        "image.upload",
        "volume.create.end",
        "identity.authenticate",
        "compute.instance.update",
    ]
    create = {t["name"]: (t["type"], t["value"]) for t in doc["events"][1]["traits"]}
    assert create == {
        "service": ("text", "nova-compute:compute-1"),
        "request_id": ("text", "req-6f1c0a52-8d3e-4b7a-9c21-3e5d7f9a1b04"),
        "project_id": ("text", "8e2f4a6c1b3d4e5f9a7c0b2d4e6f8a1c"),
        "user_id": ("text", "5b0c8a4e9f2d4c1ab3e7d6f8a9c0b1d2"),
        "tenant_id": ("text", "8e2f4a6c1b3d4e5f9a7c0b2d4e6f8a1c"),
        "instance_id": ("text", "a1b2c3d4-0001-4e5f-8a9b-0c1d2e3f4a5b"),
        "host": ("text", "compute-1.example.org"),
        "flavor_name": ("text", "m1.small"),
        "memory_mb": ("int", 2048),
        "disk_gb": ("int", 20),
        "launched_at": ("datetime", "2026-03-05 10:00:42.250000"),
        "state_description": ("text", ""),
        "vcpus": ("int", 2),
        "cpu_share": ("float", 0.5),
        "architecture": ("text", "x86_64"),
        "message": (
            "text",
            ("Success: " + "the quick brown fox jumps over the lazy dog; " * 7)[:255],
        ),
        "host_short": ("text", "compute-1"),
        "domain": ("text", "example.org"),
        "boot_seconds": ("float", 42.25),
        "flags": ("int", 3),
    }
    newer = {t["name"]: t["value"] for t in doc["events"][2]["traits"]}
    assert (newer["flavor_name"], newer["memory_mb"], newer["flags"]) == ("m1.large", 8192, 0)
    assert {t["name"] for t in doc["events"][7]["traits"]} == {"service"}  # no ctxt at all


def test_samples():
    doc = predict()
    keys = ("name", "type", "unit", "volume", "resource_id", "user_id", "project_id")
    samples = sorted((tuple(s[k] for k in keys) for s in doc["samples"]), key=repr)
    user, project = "5b0c8a4e9f2d4c1ab3e7d6f8a9c0b1d2", "8e2f4a6c1b3d4e5f9a7c0b2d4e6f8a1c"
    i1, i2 = "a1b2c3d4-0001-4e5f-8a9b-0c1d2e3f4a5b", "a1b2c3d4-0002-4e5f-8a9b-0c1d2e3f4a5b"
    expected = [
        ("compute.instance.booting.time", "gauge", "sec", 42.25, i1, None, project),
        ("compute.instance.booting.time", "gauge", "sec", 90.0, i2, None, project),
        (
            "image.size",
            "gauge",
            "B",
            13287936,
            "0b7e1a2c-3d4e-4f50-8a6b-7c8d9e0f1a2b",
            None,
            project,
        ),
        ("instance.created", "delta", "instance", 1, i1, user, project),
        ("instance.created", "delta", "instance", 1, i1, user, project),
        ("instance.created", "delta", "instance", 1, i2, user, project),
        ("memory", "gauge", "MB", 2048, i1, user, project),
        ("memory", "gauge", "MB", "8192", i2, user, project),  # the string stays a string
        ("storage.pool.free", "gauge", "GB", 1535.5, "pool-ssd-1", None, project),
        ("storage.pool.objects", "gauge", "object", 1200, "pool-ssd-1", None, project),
        ("storage.pool.used", "gauge", "GB", 512.5, "pool-ssd-1", None, project),
        ("vcpus", "gauge", "vcpu", 2, i1, None, None),  # no user_id/project_id in the meter
        ("vcpus", "gauge", "vcpu", 2, i1, None, None),
        ("vcpus", "gauge", "vcpu", 4, i2, None, None),
        ("volume.size", "gauge", "GB", 10, "5d6e7f80-9a0b-4c1d-8e2f-3a4b5c6d7e8f", user, project),
    ]
    assert samples == sorted(expected, key=repr)


def test_summaries_and_coverage_in_json():
    doc = predict()
    by_type = {r["event_type"]: r for r in doc["event_types"]}
    resize = by_type["compute.instance.resize.end"]
    assert (resize["records"], resize["events"]) == (1, 0)
    assert resize["dropped"] == {"ValueError: invalid literal for int() with base 10: '12.5'": 1}
    start = {t["name"]: t for t in by_type["compute.instance.create.start"]["traits"]}
    assert (start["launched_at"]["given"], start["launched_at"]["empty"]) == (0, 1)
    assert by_type["compute.instance.create.end"]["definition"] == f"{EVENTS}:27"
    meters = {m["name"]: m for m in doc["meters"]}
    assert meters["image.size"]["no_sample"] == {"volume is not a number ('unknown')": 1}
    assert meters["memory"]["volume"] == {"min": 2048.0, "max": 8192.0}
    assert doc["coverage"] == {
        "unmatched_event_types": [
            "compute.instance.exists",
            "volume.create.end",
            "identity.authenticate",
        ],
        "unused_event_definitions": [
            {"definition": f"{EVENTS}:88", "event_type": ["network.*", "port.*"]}
        ],
        "unused_meters": [],
        "skipped_meter_definitions": [
            {
                "definition": f"{METERS}/20-storage.yaml:42",
                "reason": "invalid type counter specified",
            },
            {
                "definition": f"{METERS}/20-storage.yaml:36",
                "reason": "required fields ['unit'] not specified",
            },
            {
                "definition": f"{METERS}/20-storage.yaml:29",
                "reason": "duplicate meter memory: skipped",
            },
        ],
        "builtin_sample_event_types": {},
    }
    assert doc["not_heard"] == {"priority WARN": 1, "topic versioned_notifications": 1}
    assert doc["conditions"] == {
        "unmatched": True,
        "empty-trait": True,
        "no-sample": True,
        "dropped": True,
    }


def test_text_report():
    result = invoke(RECORDING, "--events", EVENTS, "--meters", METERS)
    assert result.exit_code == 0
    out = result.stdout
    assert f"compute.instance.create.end: 2 records, 2 events <- {EVENTS}:27" in out
    assert "  launched_at           datetime      0      1  -" in out
    assert (
        "  dropped 1: ValueError: invalid literal for int() with base 10: '12.5', "
        f"first at {RECORDING}:4"
    ) in out
    assert (
        "compute.instance.exists: 1 record, 1 event <- no definition: Ceilometer's catch-all "
        "(default traits only)"
    ) in out
    assert (
        f"  image.size: 1 record gave no sample: volume is not a number ('unknown') "
        f"(first at {RECORDING}:8)"
    ) in out
    assert f"  event definitions that matched nothing: {EVENTS}:88 (network.*, port.*)" in out
    assert out.endswith("15 records: 9 events, 15 samples\n")
    assert result.stderr.splitlines() == [
        f"{METERS}/20-storage.yaml:42: meter skipped by Ceilometer: invalid type counter specified",
        f"{METERS}/20-storage.yaml:36: meter skipped by Ceilometer: required fields ['unit'] "
        "not specified",
        f"{METERS}/20-storage.yaml:29: meter skipped by Ceilometer: duplicate meter memory: "
        "skipped",
    ]


@pytest.mark.parametrize("condition", ["unmatched", "empty-trait", "no-sample", "dropped"])
def test_fail_on_exits_1(condition):
    result = invoke(RECORDING, "--events", EVENTS, "--meters", METERS, "--fail-on", condition)
    assert result.exit_code == 1
    assert result.stdout.endswith(f"15 records: 9 events, 15 samples; failing on: {condition}\n")


def test_fail_on_that_does_not_hold_exits_0(tmp_path):
    recording = tmp_path / "one.ndjson"
    recording.write_text(Path(RECORDING).read_text().splitlines()[6] + "\n")  # image.upload
    result = invoke(
        str(recording), "--events", EVENTS, "--meters", METERS,
        "--fail-on", "unmatched", "--fail-on", "no-sample", "--fail-on", "dropped",
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout


def test_drop_unmatched_and_topics():
    doc = predict("--drop-unmatched")
    assert "compute.instance.exists" not in {e["event_type"] for e in doc["events"]}
    exists = next(r for r in doc["event_types"] if r["event_type"] == "compute.instance.exists")
    assert (exists["definition"], exists["events"], exists["dropped"]) == (None, 0, {})
    assert "compute.instance.exists" in doc["coverage"]["unmatched_event_types"]
    doc = predict("--topic", "versioned_notifications")
    assert doc["not_heard"] == {"topic notifications": 14}


def test_meters_only():
    result = invoke(RECORDING, "--meters", METERS, "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["events"] == [] and len(doc["samples"]) == 15


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((RECORDING,), "Error: give --events FILE, --meters FILE_OR_DIR, or both\n"),
        ((RECORDING, "--events", "nope.yaml"), "Error: nope.yaml: no such file\n"),
        (("nope.ndjson", "--events", EVENTS), "Error: cannot open nope.ndjson: no such file\n"),
    ],
)
def test_usage_and_missing_files_exit_2(args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and "Traceback" not in result.stderr


def test_a_malformed_definition_file_is_one_line(tmp_path):
    broken = tmp_path / "events.yaml"
    broken.write_text("- event_type: compute.*\n  traits:\n    size:\n      type: int\n")
    result = invoke(RECORDING, "--events", str(broken))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {broken}:1: event definition: the field 'fields' is required for size\n"
    )


def test_a_notification_the_agent_requeues_without_end():
    folder = FIXTURES / "requeue"
    result = invoke(
        str(folder / "loop.ndjson"), "--events", str(folder / "events.yaml"),
        "--meters", str(folder / "meters.yaml"), "--format", "json", "--fail-on", "dropped",
    )  # fmt: skip
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert [(e["event_type"], e["requeued"]) for e in doc["events"]] == [
        ("loop.a", True),
        ("loop.b", False),
    ]
    assert [(s["name"], s["resource_id"]) for s in doc["samples"]] == [
        ("late.meter", "r2"),
        ("ok.meter", "r2"),
    ]
    assert doc["requeued"] == [
        f"{folder}/loop.ndjson:1: late.meter: timestamp: Unable to parse date string 'never'"
    ]


def test_control_characters_from_a_recording_are_escaped(tmp_path):
    recording = tmp_path / "evil.ndjson"
    recording.write_text(
        json.dumps(
            {
                "event_type": "evil\u001b[31m.type",
                "publisher_id": "p\u0007",
                "priority": "INFO",
                "payload": {"x": "line\nbreak"},
            }
        )
        + "\n"
    )
    result = invoke(str(recording), "--events", EVENTS)
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "evil\\x1b[31m.type: 1 record, 1 event" in result.stdout
    assert "  service (default)     text      1      0  p\\x07" in result.stdout
