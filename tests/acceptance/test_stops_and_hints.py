"""Interrupted commands end with a documented code and a true hint (no broker needed)."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RECORD = '{"event_type": "a.b", "publisher_id": "p", "priority": "INFO", "payload": {}}\n'


def osreplay(*args: str, **kwargs) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("OSREPLAY_TRANSPORT_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "osreplay", *args], cwd=ROOT, env=env, text=True, **kwargs
    )


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_validate_of_standard_input_interrupted_prints_the_summary_so_far(signum, code):
    proc = osreplay(
        "validate", "-", stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdin.write(RECORD)
    proc.stdin.flush()
    # A second line that never ends: validate is waiting on the pipe when the signal comes.
    proc.stdin.write('{"event_type": ')
    proc.stdin.flush()
    time.sleep(1.0)  # no event to await: python must have started and read the first line
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == code
    assert stdout == "1 record: 0 valid, 0 invalid, 1 without payload schema, 0 unreadable\n"
    assert stderr == "Interrupted after 1 record: the summary covers only those\n"


def test_replay_with_no_file_on_a_terminal_says_it_reads_standard_input():
    master, slave = pty.openpty()
    proc = osreplay("replay", "--dry-run", stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    screen = b""
    deadline = time.monotonic() + 30
    while b"Ctrl-D ends" not in screen and time.monotonic() < deadline:
        if select.select([master], [], [], 0.1)[0]:
            screen += os.read(master, 4096)
    os.write(master, b"\x04")  # Ctrl-D: end of input
    proc.wait(timeout=30)
    os.close(master)
    assert (
        b"Reading records from standard input (one JSON record per line; Ctrl-D ends). "
        b"To replay a recording: osreplay replay FILE" in screen
    )
    assert proc.returncode == 0
