"""`osreplay replay --workers N` against the real RabbitMQ (a private virtual host, as in
test_replay_broker.py, whose fixtures these tests share)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import test_replay_broker as base
from test_replay_broker import inner, replay, replay_cut_once_queued, unique, write

bus = base.bus  # the fixtures: a private virtual host, and raw taps in it
tap = base.tap

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[2]


def keyed(i: int, exchange: str, topic: str, groups: int) -> dict:
    return {
        "event_type": "compute.instance.update",
        "publisher_id": f"nova-compute:host{i % 4}",
        "priority": "INFO",
        "payload": {"i": i},
        "ctxt": {"request_id": f"req-{i % groups:04d}"},
        "exchange": exchange,
        "topic": topic,
    }


def test_three_workers_deliver_every_record_once_in_order_per_request(bus, tap, tmp_path):
    exchange = unique("nova")
    raw = tap([exchange])
    rows = [keyed(i, exchange, bus.topic, groups=17) for i in range(600)]
    path = write(tmp_path / "r.ndjson", rows)
    result = replay(path, "--url", bus.transport_url(), "--rate", "0", "--workers", "3")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Replayed 600 of 600 records in ")
    assert ", 0 failed, " in result.stdout
    assert result.stderr == ""
    arrived = [inner(m) for m in raw.drain(600)]
    assert sorted(body["payload"]["i"] for body in arrived) == list(range(600))  # once each
    per_request: dict[str, list[int]] = {}
    for body in arrived:
        per_request.setdefault(body["_context_request_id"], []).append(body["payload"]["i"])
    assert len(per_request) == 17
    for order in per_request.values():
        assert order == sorted(order)


def test_a_broker_lost_under_three_workers_resumes_without_a_loss(bus, tap, tmp_path):
    exchange = unique("nova")
    raw = tap([exchange])
    rows = [keyed(i, exchange, bus.topic, groups=50) for i in range(300)]
    path = write(tmp_path / "r.ndjson", rows)
    result = replay_cut_once_queued(bus, raw, 30, path, "--rate", "100", "--workers", "3")
    assert result.exit_code == 1, result.output
    sent = int(result.stdout.split()[1])
    assert 30 <= sent < 300
    assert result.stdout.startswith(f"Replayed {sent} of 300 records in ")
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: line ")
    assert " was not confirmed by the broker: " in lines[0]
    resume_line = int(lines[0].split()[2])
    assert f"resume with --start-at {resume_line}" in lines[1]
    before = int(lines[1].split()[0])
    assert before == resume_line - 1  # every line before the resume line was confirmed
    got = {inner(m)["payload"]["i"] for m in raw.drain(sent, timeout=3.0)}
    assert len(got) >= sent  # every record counted as sent is on the broker
    assert set(range(resume_line - 1)) <= got
    result = replay(
        path, "--url", bus.transport_url(), "--rate", "0", "--workers", "3",
        "--start-at", str(resume_line),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    got |= {inner(m)["payload"]["i"] for m in raw.drain(300 - resume_line + 1, timeout=5.0)}
    assert got == set(range(300))


def queued(raw, count: int, timeout: float = 60.0) -> None:
    """Wait until ``count`` messages are on the tap queue (the replay is under way)."""
    deadline = time.monotonic() + timeout
    while raw.channel.queue_declare(raw.queue_name, passive=True).message_count < count:
        assert time.monotonic() < deadline, "the replay did not get going"
        time.sleep(0.02)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_to_the_process_group_stops_every_worker_with_an_exact_summary(
    bus, tap, tmp_path, signum
):
    # As Ctrl-C (the whole foreground group) or systemd (every process of the unit) do.
    exchange = unique("nova")
    raw = tap([exchange])
    rows = [keyed(i, exchange, bus.topic, groups=40) for i in range(3000)]
    path = write(tmp_path / "r.ndjson", rows)
    environ = dict(os.environ, PYTHONPATH=str(ROOT))
    environ.pop("OSREPLAY_TRANSPORT_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "osreplay", "replay", "--url", bus.transport_url(), path,
         "--rate", "300", "--workers", "3"],
        cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        queued(raw, 100)
        os.killpg(proc.pid, signum)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == (130 if signum == signal.SIGINT else 143), stderr
    sent = int(stdout.split()[1])
    assert stdout.startswith(f"Replayed {sent} of 3000 records in ")
    how = "Interrupted" if signum == signal.SIGINT else "Terminated (SIGTERM)"
    last = stderr.splitlines()[-1]
    assert last.startswith(f"{how} at line ")  # no worker traceback before it either
    assert stderr.count("\n") == 1
    resume_line = int(last.split(" at line ")[1].split()[0])
    got = [inner(m)["payload"]["i"] for m in raw.drain(sent, timeout=3.0)]
    assert len(got) == len(set(got)) == sent  # counted exactly: each confirmed one arrived
    assert set(range(resume_line - 1)) <= set(got)  # nothing before the resume line lost
