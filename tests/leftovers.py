"""What a test run started and left running, found by the tags in its environment.

tests/conftest.py puts three variables in the environment of the pytest process, and so
of every process a test starts, even one that outlives its parent (a replay worker whose
parent was killed, a detached RabbitMQ node):

- ``OSREPLAY_TEST_RUN``: the run, inherited by every pytest of it (CI sets it, to check
  afterwards what is left);
- ``OSREPLAY_TEST_SESSION``: this pytest process (RabbitMQ node names carry it);
- ``OSREPLAY_TEST_ITEM``: the test running now.

A process is the run's only if its environment says so: another run's processes (another
tag) and the shared broker (none) are never touched. Erlang's port mapper (``epmd``) is
one per machine, shared by every node, and never counted.

``python tests/leftovers.py RUN`` (the CI step after the suite) lists what run RUN left
running, the RabbitMQ nodes named ``osr-RUN-…`` among it, and exits 1 if anything is.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import dataclass

#: Daemons shared by every RabbitMQ node on the machine, whoever started them.
SHARED = frozenset({"epmd"})
#: How multiprocessing's helper processes (fork server, resource tracker) are started.
_MULTIPROCESSING = "from multiprocessing."


@dataclass(frozen=True)
class Proc:
    pid: int
    name: str
    cmdline: str

    def __str__(self) -> str:
        return f"{self.pid} {self.name}: {self.cmdline[:200]}"


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:  # gone, or not ours to read
        return b""


def _cmdline(pid: int) -> str:
    return _read(f"/proc/{pid}/cmdline").replace(b"\0", b" ").decode("utf-8", "replace")


def _ppid(pid: int) -> int:
    stat = _read(f"/proc/{pid}/stat")
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    fields = stat[stat.rfind(b")") + 2 :].split()
    return int(fields[1]) if len(fields) > 1 else 0


def _ancestors() -> set[int]:
    """This process and those it runs under (they carry the tags too, and are no leak)."""
    found, pid = set(), os.getpid()
    while pid > 0 and pid not in found:
        found.add(pid)
        pid = _ppid(pid)
    return found


def tagged(name: str, value: str, *, named: str | None = None) -> list[Proc]:
    """Running processes whose environment has ``name=value`` (or, with ``named``, whose
    command line holds it): this process and its ancestors left out, zombies too."""
    tag = f"{name}={value}".encode()
    skip = _ancestors()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in skip:
            continue
        pid = int(entry)
        cmdline = ""
        if tag not in _read(f"/proc/{pid}/environ").split(b"\0"):
            if not named:
                continue
            cmdline = _cmdline(pid)
            if named not in cmdline:
                continue
        cmdline = cmdline or _cmdline(pid)
        comm = _read(f"/proc/{pid}/comm").decode("utf-8", "replace").strip()
        if comm in SHARED or not cmdline:  # a zombie has no command line left
            continue
        if _ppid(pid) in skip and _MULTIPROCESSING in cmdline:
            # The fork server and resource tracker of this very process (an in-process
            # replay --workers started them): shared by the tests that follow, they end
            # with it.
            continue
        found.append(Proc(pid, comm, cmdline.strip()))
    return found


def end(procs: list[Proc], *, grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL what is still there after ``grace`` seconds."""
    for proc in procs:
        _signal(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    alive = list(procs)
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [proc for proc in alive if _running(proc.pid)]
    for proc in alive:
        _signal(proc.pid, signal.SIGKILL)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _running(pid: int) -> bool:
    stat = _read(f"/proc/{pid}/stat")
    state = stat[stat.rfind(b")") + 2 :][:1]
    return bool(stat) and state not in (b"Z", b"X")


def of_run(run: str) -> list[Proc]:
    """What run ``run`` left: tagged with it, or a RabbitMQ node named ``osr-RUN-…``."""
    return tagged("OSREPLAY_TEST_RUN", run, named=f"osr-{run}-")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1]:
        print("usage: python tests/leftovers.py RUN", file=sys.stderr)
        return 2
    run = argv[1]
    # What was ending as the suite ended (a node's shutdown) gets a moment.
    deadline = time.monotonic() + 15
    left = of_run(run)
    while left and time.monotonic() < deadline:
        time.sleep(1)
        left = of_run(run)
    if not left:
        print(f"leftovers: nothing of test run {run} is running")
        return 0
    print(f"leftovers: test run {run} left {len(left)} processes running:", file=sys.stderr)
    for proc in left:
        print(f"  {proc}", file=sys.stderr)
    end(left)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
