"""``osreplay record --rotate`` against the real RabbitMQ: across many file switches (and a
kill and a resume) every message is in exactly one file, and every ``.gz`` is complete.

Each test uses its own topic, exchange and pool (uuid) and removes what it created.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from test_record_broker import Recording, bus, unique, wait_for  # noqa: F401 (bus: a fixture)

pytestmark = pytest.mark.broker


def publish(notifier, numbers: range) -> None:
    for i in numbers:
        # Random padding: gzip cannot shrink it, so the files fill up.
        notifier.info({}, "test.event", {"n": i, "pad": os.urandom(100).hex()})


def numbers_in(path: Path) -> list[int]:
    """The payload numbers of one file; a .gz that is not complete raises here."""
    with gzip.open(path, "rt") as handle:
        return [json.loads(line)["payload"]["n"] for line in handle]


def gzip_test(path: Path) -> None:
    result = subprocess.run(["gzip", "-t", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, f"{path.name}: {result.stderr}"


def readable_count(folder: Path) -> int:
    """Lines on disk so far, in complete and open files alike (as a reader tailing them)."""
    total = 0
    for path in folder.glob("cap-*.ndjson.gz"):
        try:
            with gzip.open(path, "rb") as handle:
                total += sum(1 for _ in handle)
        except (EOFError, OSError):  # the open file: its last flush is not a whole stream
            total += _partial_count(path)
    return total


def _partial_count(path: Path) -> int:
    import zlib

    data = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(path.read_bytes())
    return data.count(b"\n")


@pytest.mark.skipif(shutil.which("gzip") is None, reason="needs gzip -t")
def test_a_rotated_recording_holds_each_message_once_in_complete_files(bus, tmp_path):  # noqa: F811
    topic, pool, exchange = unique("topic"), unique("pool"), unique("nova")
    bus.forget(f"{pool}.{exchange}")  # if the test fails half way
    total = 1200
    pattern = str(tmp_path / "cap-{n:05d}.ndjson.gz")
    rec = Recording(
        ["--url", bus.url, "--topic", topic, "--exchange", exchange, "--pool", pool,
         "--rotate", "40KB", "--batch-size", "25", "--count", str(total), "-o", pattern]
    )  # fmt: skip
    rec.wait_ready()
    first = tmp_path / "cap-00001.ndjson.gz"
    assert rec.stderr[1] == f"Writing {first}, a new file every 40 KB ({pattern})"
    publish(bus.notifier(exchange, topic), range(total))
    code, stdout = rec.finish()
    assert (code, stdout) == (0, b"")
    files = sorted(tmp_path.glob("cap-*.ndjson.gz"))
    assert len(files) >= 4  # ~120 KB compressed: several switches under load
    for path in files:
        gzip_test(path)
    per_file = [numbers_in(path) for path in files]
    assert sorted(n for numbers in per_file for n in numbers) == list(range(total))
    for path in files[:-1]:
        assert path.stat().st_size >= 40_000
    # One line per switch, naming the file closed and its records; the summary lists all.
    switches = [line for line in rec.stderr if line.startswith("Closed ")]
    assert len(switches) == len(files) - 1
    for line, path, numbers in zip(switches, files[:-1], per_file[:-1], strict=True):
        assert line.startswith(f"Closed {path} ({len(numbers)} records, ")
    recorded = next(line for line in rec.stderr if line.startswith("Recorded "))
    assert recorded.endswith(f"to {len(files)} files ({pattern}) (stopped by count)")
    assert rec.stderr[-len(files) - 1] == "  files:"
    listed = rec.stderr[-len(files) :]
    assert [re.sub(r", [\d.]+ \w+$", "", line) for line in listed] == [
        f"    {path}: {len(numbers)} records" for path, numbers in zip(files, per_file, strict=True)
    ]
    assert bus.inspect(f"{pool}.{exchange}") is None


@pytest.mark.skipif(shutil.which("gzip") is None, reason="needs gzip -t")
def test_killed_mid_rotation_then_resumed_with_append_loses_and_doubles_nothing(bus, tmp_path):  # noqa: F811
    topic, pool, exchange = unique("topic"), unique("pool"), unique("nova")
    bus.forget(f"{pool}.{exchange}")  # if the test fails half way
    total = 2000
    pattern = str(tmp_path / "cap-{n:05d}.ndjson.gz")
    common = ["--url", bus.url, "--topic", topic, "--exchange", exchange, "--pool", pool,
              "--rotate", "30KB", "--batch-size", "25", "-o", pattern]  # fmt: skip
    first = Recording([*common, "--keep-queue"])
    first.wait_ready()
    publisher = threading.Thread(
        target=publish, args=(bus.notifier(exchange, topic), range(total)), daemon=True
    )
    publisher.start()
    wait_for(lambda: readable_count(tmp_path) >= 500, timeout=60)
    first.proc.send_signal(signal.SIGKILL)  # mid-stream: the open .gz has no trailer
    first.finish()
    publisher.join(120)
    before = sorted(tmp_path.glob("cap-*.ndjson.gz"))
    assert len(before) >= 2
    second = Recording([*common, "--append"])
    second.wait_ready()
    assert second.stderr[1].startswith(
        f"Writing {tmp_path}/cap-{len(before) + 1:05d}.ndjson.gz (after {before[-1]}), "
    )
    wait_for(lambda: readable_count(tmp_path) >= total, timeout=120)
    time.sleep(0.5)  # anything written twice would show up now
    second.proc.send_signal(signal.SIGTERM)
    assert second.finish()[0] == 0
    files = sorted(tmp_path.glob("cap-*.ndjson.gz"))
    for path in files:  # the killed run's last file was repaired by --append
        gzip_test(path)
    numbers = [n for path in files for n in numbers_in(path)]
    assert sorted(numbers) == list(range(total))
    assert bus.inspect(f"{pool}.{exchange}") is None
