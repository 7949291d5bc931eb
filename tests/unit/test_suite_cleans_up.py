"""The suite ends what its tests start (issue 18 §5): a test that fails, one whose process
outlives its parent, and one interrupted by Ctrl-C (KeyboardInterrupt) leave nothing
running. A pytest of its own runs such tests with the suite's conftest.py; then no process
of theirs may be left."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import leftovers

TESTS = Path(__file__).resolve().parents[1]


def running_with(marker: str) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    cmdline = handle.read().decode("utf-8", "replace")
            except OSError:
                continue
            if marker in cmdline:
                found.append(cmdline.replace("\0", " "))
    return found


def test_what_failing_orphaned_and_interrupted_tests_started_is_ended(pytester, monkeypatch):
    marker = f"osreplay-leak-probe-{uuid.uuid4().hex}"
    sleeper = f"import time; time.sleep(600)  # {marker}"
    pytester.makeconftest((TESTS / "conftest.py").read_text())
    pytester.makepyfile(
        test_leaky=f"""
import subprocess, sys

def test_a_failing_test_leaves_its_process():
    subprocess.Popen([sys.executable, "-c", {sleeper!r}])
    assert False

def test_an_orphan_outlives_its_parent():
    subprocess.run(["sh", "-c", f"{{sys.executable}} -c '{sleeper}' >/dev/null 2>&1 &"])

def test_z_interrupted():
    subprocess.Popen([sys.executable, "-c", {sleeper!r}])
    raise KeyboardInterrupt
"""
    )
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=300)
    assert result.ret == 2  # interrupted
    result.stdout.fnmatch_lines(["*KeyboardInterrupt*"])
    deadline = time.monotonic() + 30
    while running_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert running_with(marker) == []


def test_leftovers_finds_a_runs_processes_and_no_others():
    run = f"probe{uuid.uuid4().hex[:8]}"
    ours = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"],
        env={**os.environ, "OSREPLAY_TEST_RUN": run},
    )
    other = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"],
        env={**os.environ, "OSREPLAY_TEST_RUN": run + "x"},
    )
    try:
        assert [proc.pid for proc in leftovers.of_run(run)] == [ours.pid]
        leftovers.end(leftovers.of_run(run))
        assert ours.wait(10) is not None and other.poll() is None
    finally:
        for proc in (ours, other):
            proc.kill()
            proc.wait()


def test_the_multiprocessing_helpers_of_pytest_itself_serve_the_next_tests(pytester, monkeypatch):
    # An in-process replay --workers starts a fork server that the tests after it share:
    # ending "what the test started" must not end it.
    pytester.makeconftest((TESTS / "conftest.py").read_text())
    pytester.makepyfile(
        test_pool="""
import multiprocessing

def test_first_starts_the_fork_server():
    with multiprocessing.get_context("forkserver").Pool(1) as pool:
        assert pool.apply(abs, (-1,)) == 1

def test_second_uses_it_again():
    with multiprocessing.get_context("forkserver").Pool(1) as pool:
        assert pool.apply(abs, (-2,)) == 2
"""
    )
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    # -W error, as the suite runs: a resource tracker found dead warns ("relaunching").
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-q", "-W", "error", timeout=300
    )
    result.assert_outcomes(passed=2)
