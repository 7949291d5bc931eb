"""``replay --merge`` against the real RabbitMQ: a merged replay stopped half-way resumes
from the ``--start-at FILE:LINE`` it prints, nothing lost and nothing doubled.

Each test works in the private virtual host of test_replay_broker's ``bus``, with its own
exchanges; a lost broker is a TCP proxy in front of the real one, cut by the test.
"""

# ruff: noqa: F811  (the fixtures bus and tap are imported from test_replay_broker)
from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from test_replay_broker import (  # noqa: F401  (fixtures)
    bus,
    inner,
    record,
    replay,
    replay_cut_once_queued,
    tap,
    unique,
    write,
)

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[2]


def sent_numbers(messages) -> Counter[int]:
    return Counter(inner(message)["payload"]["i"] for message in messages)


def test_a_merged_replay_cut_half_way_resumes_from_the_printed_file_and_line(bus, tap, tmp_path):
    # Two recorders side by side: even records in one file, odd ones in the other, so the
    # merged order goes back and forth between them.
    exchange = unique("nova")
    raw = tap([exchange])
    rows = [record(i, "INFO", exchange, bus.topic) for i in range(200)]
    evens = write(tmp_path / "cap-a.ndjson", rows[0::2])
    odds = write(tmp_path / "cap-b.ndjson", rows[1::2])
    files = str(tmp_path / "cap-*.ndjson")
    result = replay_cut_once_queued(bus, raw, 10, files, "--merge", "--rate", "50")
    assert result.exit_code == 1, result.output
    sent = int(result.stdout.split()[1])
    assert 10 <= sent < 200
    # Record number ``sent`` failed: in merged order it is line sent // 2 + 1 of its file.
    failed_file = evens if sent % 2 == 0 else odds
    where = f"{failed_file}:{sent // 2 + 1}"
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"Error: line {sent // 2 + 1} of {failed_file} was not confirmed")
    assert lines[1] == f"{sent} records before it were confirmed; resume with --start-at {where}"
    got = sent_numbers(raw.drain(sent, timeout=3.0))
    result = replay(
        files, "--merge", "--url", bus.transport_url(), "--rate", "0", "--start-at", where
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Replayed {200 - sent} of {200 - sent} records in ")
    got += sent_numbers(raw.drain(200 - sent, timeout=5.0))
    # Every record arrived; only the one not confirmed may have arrived twice.
    assert set(got) == set(range(200))
    assert {i for i, count in got.items() if count > 1} <= {sent}


def test_sigterm_stops_a_merged_replay_where_the_resume_point_is_in_the_other_file(
    bus, tap, tmp_path
):
    exchange = unique("nova")
    raw = tap([exchange])
    at = "2024-03-05 {}".format
    a = write(
        tmp_path / "a.ndjson",
        [
            record(1, "INFO", exchange, bus.topic, timestamp=at("10:00:00.000000")),
            record(3, "INFO", exchange, bus.topic, timestamp=at("11:00:00.000000")),
        ],
    )
    b = write(
        tmp_path / "b.ndjson",
        [record(2, "INFO", exchange, bus.topic, timestamp=at("10:00:00.500000"))],
    )
    environ = dict(os.environ, PYTHONPATH=str(ROOT))
    environ.pop("OSREPLAY_TRANSPORT_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "osreplay", "replay", "--merge", "--url", bus.transport_url(),
         a, b],
        cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    got = sent_numbers(raw.drain(2))  # a:1 and b:1 went out; a:2 is due in an hour
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 143, stderr
    assert stdout.startswith("Replayed 2 of 3 records in ")
    assert stderr.splitlines()[-1] == (
        f"Terminated (SIGTERM) at line 2 of {a}; resume with --start-at {a}:2"
    )
    result = replay(
        a, b, "--merge", "--url", bus.transport_url(), "--rate", "0", "--start-at", f"{a}:2"
    )
    assert result.exit_code == 0, result.stderr
    got += sent_numbers(raw.drain(1))
    assert got == Counter({1: 1, 2: 1, 3: 1})
