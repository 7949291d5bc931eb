"""`osreplay replay` as a user runs it: exit codes, stdout and stderr, word for word.

Sends go to oslo's in-process ``kombu+memory`` transport or, where nothing may be sent,
to a port where no broker listens (so any attempt would show as a connection error).
"""

from __future__ import annotations

import json
import socket
import uuid

import pytest
from click.testing import CliRunner

import osreplay.replay.replayer  # noqa: F401  # oslo imported now, while osreplay silences eventlet
from osreplay.cli import main

MEMORY = "kombu+memory:////"


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"rabbit://guest:s3cret@127.0.0.1:{port}/"


def record(i: int, **extra) -> dict:
    row = {
        "event_type": f"compute.instance.event{i}",
        "publisher_id": "nova-compute:host1",
        "priority": "INFO",
        "payload": {"i": i},
        "timestamp": f"2024-03-05 10:00:00.{i * 1000:06d}",
    }
    row.update(extra)
    return row


def lines(rows) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


@pytest.fixture
def recording(tmp_path):
    def make(rows, name="rec.ndjson") -> str:
        path = tmp_path / name
        path.write_text(lines(rows), encoding="utf-8")
        return str(path)

    return make


@pytest.fixture
def route():
    """A private exchange and topic on the memory transport for one test."""
    tag = uuid.uuid4().hex[:8]
    return ["--exchange", f"ex-{tag}", "--topic", f"topic-{tag}"]


def run(*args, input=None, env=None):
    env = {"OSREPLAY_TRANSPORT_URL": "", **(env or {})}
    return CliRunner().invoke(main, ["replay", *args], input=input, env=env, prog_name="osreplay")


def test_replays_a_file_and_prints_the_summary(recording, route):
    path = recording([record(i) for i in range(5)])
    result = run(path, "--url", MEMORY, "--rate", "0", *route)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Replayed 5 of 5 records in ")
    assert result.stdout.rstrip().endswith("msg/s), 0 failed, max lateness 0 ms")
    assert result.stderr == ""


def test_quiet_prints_nothing_on_success(recording, route):
    path = recording([record(0)])
    result = run(path, "--url", MEMORY, "--rate", "0", "-q", *route)
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""


def test_standard_input_is_replayed_as_it_arrives(route):
    result = run("--url", MEMORY, "--rate", "0", *route, input=lines([record(0), record(1)]))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Replayed 2 of 2 records")
    result = run("-", "--url", MEMORY, "--rate", "0", *route, input=lines([record(0)]))
    assert result.exit_code == 0 and result.stdout.startswith("Replayed 1 of 1 record ")


def test_rate_and_speed_exclude_each_other(recording):
    result = run(recording([record(0)]), "--rate", "5", "--speed", "2")
    assert result.exit_code == 2
    assert result.stderr == "Error: --rate and --speed exclude each other: pick one\n"


def test_max_gap_with_rate_is_a_usage_error(recording):
    result = run(recording([record(0)]), "--rate", "5", "--max-gap", "2")
    assert result.exit_code == 2
    assert result.stderr == "Error: --max-gap caps recorded gaps; it has no effect with --rate\n"


def test_loop_needs_files():
    result = run("--loop", "2", input=lines([record(0)]))
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --loop needs FILE arguments: standard input can be read only once\n"
    )


def test_stdin_cannot_be_mixed_with_files(recording):
    result = run(recording([record(0)]), "-")
    assert result.exit_code == 2
    assert result.stderr == "Error: - (standard input) cannot be combined with files\n"


@pytest.mark.parametrize("value", ["x", "0", "a.ndjson:", "-3"])
def test_start_at_must_be_a_line_number(recording, value):
    result = run(recording([record(0)]), "--start-at", value)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: --start-at {value}: give a line number (LINE or FILE:LINE), from 1\n"
    )


def test_start_at_names_one_of_the_files(recording):
    path = recording([record(0)])
    result = run(path, "--start-at", "other.ndjson:3", "--dry-run")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --start-at other.ndjson:3: other.ndjson is not one of the files to replay\n"
    )


def test_unreadable_lines_refuse_the_file_before_connecting(recording):
    path = recording([record(0), "{oops", record(2), {"event_type": "x"}, record(4)])
    url = closed_port_url()
    result = run(path, "--url", url, "--rate", "0")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"Error: {path}: 2 unreadable lines, nothing sent "
        "(--skip-invalid replays the readable ones):\n  line 2: not valid JSON"
    )
    assert "\n  line 4: missing required key(s): publisher_id, priority, payload\n" in (
        result.stderr
    )
    assert "cannot connect" not in result.stderr  # refused before any connection


def test_skip_invalid_replays_the_rest_and_reports_the_skipped(recording, route):
    path = recording([record(0), "[1, 2]", record(2)])
    result = run(path, "--url", MEMORY, "--rate", "0", "--skip-invalid", *route)
    assert result.exit_code == 0
    assert result.stderr == f"Skipped line 2 of {path}: not a JSON object (a JSON array)\n"
    assert result.stdout.startswith("Replayed 2 of 2 records")


def test_an_unreadable_line_on_stdin_stops_the_replay(route):
    rows = [record(0), record(1), "{truncated", record(3)]
    result = run("--url", MEMORY, "--rate", "0", *route, input=lines(rows))
    assert result.exit_code == 1
    assert result.stdout.startswith("Replayed 2 of 2 records")
    stderr = result.stderr.splitlines()
    assert stderr[0].startswith("Error: line 3 of <stdin> is unreadable: not valid JSON")
    assert stderr[1] == (
        "2 records before it were confirmed; fix the line and resume with --start-at 3, "
        "or add --skip-invalid to replay past unreadable lines"
    )


def test_an_unreadable_line_on_stdin_is_skipped_when_asked(route):
    rows = [record(0), "{truncated", record(2)]
    result = run("--url", MEMORY, "--rate", "0", "--skip-invalid", *route, input=lines(rows))
    assert result.exit_code == 0
    assert result.stderr.startswith("Skipped line 2 of <stdin>: not valid JSON")
    assert result.stdout.startswith("Replayed 2 of 2 records")


def test_records_without_timestamps_need_a_rate(recording):
    rows = [{k: v for k, v in record(0).items() if k != "timestamp"}]
    path = recording(rows)
    result = run(path, "--dry-run")
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: line 1 of {path} has no timestamp or recorded_at to pace it by: replay at "
        "a steady pace with --rate N (--rate 0 for as fast as possible)\n"
    )
    assert run(path, "--dry-run", "--rate", "10").exit_code == 0


def test_dry_run_connects_to_nothing_and_prints_the_plan(recording):
    rows = [
        record(0, exchange="nova", topic="versioned_notifications"),
        record(500, priority="ERROR", publisher_id="glance-api:g1"),
        record(250, priority="SAMPLE"),  # out of order: due at once
    ]
    path = recording(rows)
    result = run(path, "--dry-run", "--url", closed_port_url(), "--speed", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "file\tline\toffset_s\texchange\ttopic\tpriority\tpublisher\tevent_type\n"
        f"{path}\t1\t+0.000\tnova\tversioned_notifications\tINFO\tnova-compute:host1\t"
        "compute.instance.event0\n"
        f"{path}\t2\t+0.250\topenstack\tnotifications\tERROR\tglance-api:g1\t"
        "compute.instance.event500\n"
        f"{path}\t3\t+0.250\topenstack\tnotifications\tSAMPLE\tnova-compute:host1\t"
        "compute.instance.event250\n"
        "Dry run: 3 of 3 records planned over 0.2 s; nothing sent\n"
    )
    assert result.stderr == ""


def test_dry_run_applies_the_selection_and_overrides(recording):
    rows = [
        record(0),
        record(1, priority="ERROR"),
        record(2, event_type="identity.authenticate"),
        record(3, priority="warning"),
    ]
    path = recording(rows)
    result = run(
        path,
        "--dry-run",
        "--rate", "4",
        "--priority", "info", "--priority", "WARNING",
        "--event-type", "compute.*",
        "--exchange", "mirror", "--topic", "t",
        "--loop", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [
        f"{path}\t1\t+0.000\tmirror\tt\tINFO\tnova-compute:host1\tcompute.instance.event0",
        f"{path}\t4\t+0.250\tmirror\tt\tWARN\tnova-compute:host1\tcompute.instance.event3",
        f"{path}\t1\t+0.500\tmirror\tt\tINFO\tnova-compute:host1\tcompute.instance.event0",
        f"{path}\t4\t+0.750\tmirror\tt\tWARN\tnova-compute:host1\tcompute.instance.event3",
        "Dry run: 4 of 4 records planned over 0.8 s; nothing sent",
    ]


def test_dry_run_max_gap_and_start_at_and_limit(recording):
    rows = [record(0), {**record(1), "timestamp": "2024-03-06 03:00:00"}, record(2)]
    path = recording(rows)
    result = run(path, "--dry-run", "--max-gap", "1.5", "--limit", "2")
    assert [row.split("\t")[1:3] for row in result.stdout.splitlines()[1:3]] == [
        ["1", "+0.000"],
        ["2", "+1.500"],
    ]
    result = run(path, "--dry-run", "--start-at", "2")
    assert [row.split("\t")[1] for row in result.stdout.splitlines()[1:3]] == ["2", "3"]


def test_several_files_go_back_to_back_each_on_its_own_gaps(recording):
    # Recorded a year apart: the second file starts right after the first, not a year later.
    first = recording([record(0), record(500)], name="old.ndjson")
    second = recording(
        [record(0, timestamp="2025-03-05 10:00:00"), record(1, timestamp="2025-03-05 10:00:02")],
        name="new.ndjson",
    )
    result = run(first, second, "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert [row.split("\t")[:3] for row in result.stdout.splitlines()[1:5]] == [
        [first, "1", "+0.000"],
        [first, "2", "+0.500"],
        [second, "1", "+0.500"],
        [second, "2", "+2.500"],
    ]
    assert result.stdout.splitlines()[-1] == (
        "Dry run: 4 of 4 records planned over 2.5 s; nothing sent"
    )
    assert result.stderr == ""


def test_a_plan_over_an_hour_is_announced_unless_max_gap_bounds_it(recording):
    path = recording([record(0), record(1, timestamp="2024-03-05 12:48:00")])
    result = run(path, "--dry-run")
    assert result.exit_code == 0
    assert result.stderr == (
        "Warning: this replay is planned over 2.8 hours (the recorded gaps; several files go "
        "back to back, each on its own gaps): --max-gap SECONDS caps each wait, --speed X "
        "or --rate N changes the pace\n"
    )
    assert run(path, "--dry-run", "--max-gap", "60").stderr == ""


def test_unreachable_broker_is_a_usage_error_with_the_password_masked(recording):
    url = closed_port_url()
    result = run(recording([record(0)]), "--url", url, "--rate", "0")
    assert result.exit_code == 2
    masked = url.replace("s3cret", "***")
    assert result.stderr == f"Error: cannot connect to {masked}: [Errno 111] Connection refused\n"
    assert result.stdout == ""


def test_the_environment_variable_is_used(recording):
    url = closed_port_url()
    result = run(recording([record(0)]), "--rate", "0", env={"OSREPLAY_TRANSPORT_URL": url})
    assert result.exit_code == 2 and "s3cret" not in result.stderr
    assert result.stderr.startswith(f"Error: cannot connect to {url.replace('s3cret', '***')}")


@pytest.fixture
def failing_send(monkeypatch):
    """Make the transport's send fail from the Nth call on, like a broker that went away."""
    import oslo_messaging

    original = oslo_messaging.transport.Transport._send_notification
    calls = {"n": 0, "fail_from": 3}

    def send(self, target, ctxt, message, version, retry=None):
        calls["n"] += 1
        if calls["n"] >= calls["fail_from"]:
            raise oslo_messaging.MessageDeliveryFailure(
                "Unable to connect to AMQP server on 127.0.0.1:5672 after 3 tries: "
                "[Errno 111] Connection refused"
            )
        return original(self, target, ctxt, message, version, retry=retry)

    monkeypatch.setattr(oslo_messaging.transport.Transport, "_send_notification", send)
    return calls


def test_a_lost_broker_stops_the_replay_and_prints_how_to_resume(recording, route, failing_send):
    path = recording([record(i) for i in range(6)])
    result = run(path, "--url", MEMORY, "--rate", "0", *route)
    assert result.exit_code == 1
    assert result.stdout.startswith("Replayed 2 of 6 records in ")
    assert ", 1 failed, max lateness 0 ms" in result.stdout
    assert result.stderr == (
        f"Error: line 3 of {path} was not confirmed by the broker: Unable to connect to AMQP "
        "server on 127.0.0.1:5672 after 3 tries: [Errno 111] Connection refused\n"
        "2 records before it were confirmed; resume with --start-at 3\n"
    )
    failing_send["fail_from"] = 10**9
    resumed = run(path, "--url", MEMORY, "--rate", "0", "--start-at", "3", *route)
    assert resumed.exit_code == 0 and resumed.stdout.startswith("Replayed 4 of 4 records")


def test_the_resume_hint_keeps_the_limit_and_names_the_file(recording, route, failing_send):
    first = recording([record(0), record(1)], name="a.ndjson")
    second = recording([record(2), record(3), record(4)], name="b.ndjson")
    result = run(first, second, "--url", MEMORY, "--rate", "0", "--limit", "4", *route)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"2 records before it were confirmed; resume with --start-at {second}:1 --limit 2"
    )


def test_summary_counts_every_pass_of_a_loop(recording, route):
    path = recording([record(0), record(1)])
    result = run(path, "--url", MEMORY, "--rate", "0", "--loop", "3", *route)
    assert result.exit_code == 0 and result.stdout.startswith("Replayed 6 of 6 records")


def test_no_record_selected_says_so(recording):
    path = recording([record(0)])
    result = run(path, "--dry-run", "--event-type", "nothing.*")
    assert result.exit_code == 0
    assert result.stderr == "No record selected: check --start-at and the filters.\n"


def test_dry_run_refuses_an_endless_loop(recording):
    result = run(recording([record(0)]), "--dry-run", "--loop", "0")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --dry-run cannot plan an endless --loop 0: give a number of passes\n"
    )


def test_one_record_is_one_record(route):
    rows = [record(0), "{truncated", record(2)]
    result = run("--url", MEMORY, "--rate", "0", *route, input=lines(rows))
    assert result.exit_code == 1
    assert result.stdout.startswith("Replayed 1 of 1 record in ")
    assert result.stderr.splitlines()[1] == (
        "1 record before it was confirmed; fix the line and resume with --start-at 2, "
        "or add --skip-invalid to replay past unreadable lines"
    )
