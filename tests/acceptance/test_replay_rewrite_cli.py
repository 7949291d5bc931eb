"""`osreplay replay --dry-run` shows records as --fresh-ids, --retime and --set rewrite them."""

from __future__ import annotations

import json

from click.testing import CliRunner

from osreplay.cli import main

RECORD = {
    "event_type": "compute.instance.update",
    "publisher_id": "compute.host1",
    "priority": "INFO",
    "payload": {"tenant_id": "6f5e4d3c2b1a40f9e8d7c6b5a4f3e2d1", "state": "active"},
    "timestamp": "2024-03-05 10:00:00.000000",
}


def replay(*args: str):
    env = {"OSREPLAY_TRANSPORT_URL": ""}
    return CliRunner().invoke(main, ["replay", *args], env=env, prog_name="osreplay")


def test_dry_run_shows_each_rewritten_record_after_its_plan_line(tmp_path):
    path = tmp_path / "r.ndjson"
    path.write_text(json.dumps(RECORD) + "\n")
    result = replay(str(path), "--dry-run", "--set", "$.payload.tenant_id=test-project",
                    "--set", "$.payload.count=3", "--set", "$.payload.state=null")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    rewritten = {**RECORD, "payload": {"tenant_id": "test-project", "state": None}}
    assert result.stdout.splitlines() == [
        "file\tline\toffset_s\texchange\ttopic\tpriority\tpublisher\tevent_type",
        f"{path}\t1\t+0.000\topenstack\tnotifications\tINFO\tcompute.host1\t"
        "compute.instance.update",
        json.dumps(rewritten, ensure_ascii=False),
        "Dry run: 1 of 1 record planned over 0.0 s; nothing sent",
    ]


def test_dry_run_with_fresh_ids_shows_new_ids(tmp_path):
    path = tmp_path / "r.ndjson"
    path.write_text(json.dumps(RECORD) + "\n")
    result = replay(str(path), "--dry-run", "--fresh-ids", "--loop", "2")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    ids = [json.loads(lines[i])["payload"]["tenant_id"] for i in (2, 4)]
    assert len(set(ids)) == 2 and RECORD["payload"]["tenant_id"] not in ids
    assert all(len(i) == 32 for i in ids)


def test_without_rewriting_the_dry_run_shows_only_the_plan(tmp_path):
    path = tmp_path / "r.ndjson"
    path.write_text(json.dumps(RECORD) + "\n")
    result = replay(str(path), "--dry-run")
    assert len(result.stdout.splitlines()) == 3


def test_a_bad_set_is_a_usage_error(tmp_path):
    path = tmp_path / "r.ndjson"
    path.write_text(json.dumps(RECORD) + "\n")
    result = replay(str(path), "--dry-run", "--set", "$.payload")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "Error: --set $.payload: give JSONPATH=VALUE, "
        "e.g. --set '$.payload.tenant_id=test-project'\n"
    )


def test_set_paths_read_with_or_without_the_dollar_as_diff_ignore_does(tmp_path):
    path = tmp_path / "r.ndjson"
    path.write_text(json.dumps(RECORD) + "\n")
    with_dollar = replay(str(path), "--dry-run", "--set", "$.payload.state=x")
    without = replay(str(path), "--dry-run", "--set", "payload.state=x")
    assert with_dollar.exit_code == without.exit_code == 0, without.stderr
    assert with_dollar.stdout == without.stdout
    assert json.loads(without.stdout.splitlines()[2])["payload"]["state"] == "x"
    assert without.stderr == ""


def test_a_set_whose_path_matches_nothing_is_warned_about(tmp_path):
    path = tmp_path / "r.ndjson"
    path.write_text(json.dumps(RECORD) + "\n")
    result = replay(
        str(path), "--dry-run", "--set", "payload.tenantid=p", "--set", "payload.state=x"
    )
    assert result.exit_code == 0
    assert result.stderr == (
        "Warning: --set payload.tenantid=p changed nothing: no record has that path (paths "
        "read like payload.tenant_id or $.payload['nova_object.data'].host)\n"
    )


def test_dry_run_with_retime_plans_the_times_from_now(tmp_path):
    from datetime import datetime, timezone

    path = tmp_path / "r.ndjson"
    rows = [{**RECORD, "timestamp": f"2024-03-05 10:00:{s:02d}.250000"} for s in (0, 7, 30)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    before = datetime.now(timezone.utc).replace(tzinfo=None)
    result = replay(str(path), "--dry-run", "--retime", "--max-gap", "5")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    times = [datetime.fromisoformat(json.loads(lines[i])["timestamp"]) for i in (2, 4, 6)]
    assert 0 <= (times[0] - before).total_seconds() < 1
    # the record times keep the recorded gaps, even where --max-gap shortens the wait
    assert [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)] == [7, 23]
    assert [line.split("\t")[2] for line in (lines[1], lines[3], lines[5])] == [
        "+0.000", "+5.000", "+10.000"
    ]  # fmt: skip
