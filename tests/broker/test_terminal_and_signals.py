"""What an operator sees on a terminal, and how record and replay end on SIGTERM.

The terminal is a real pseudo-terminal (``pty``): records and the live counter on one
terminal, the ``record | replay`` mirror, and the summary printed when ``timeout`` or
systemd sends SIGTERM. Every test works in a private virtual host (see
test_replay_broker's ``bus``), with its own exchanges.
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from tcpproxy import Proxy
from test_replay_broker import bus, record, tap, write  # noqa: F401  (fixtures)

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[2]
OSREPLAY = f"{sys.executable} -m osreplay"
# Carriage return + erase line: how a live line is redrawn.
REDRAW = b"\r\x1b[K"


def unique(name: str) -> str:
    return f"osr-c-{name}-{uuid.uuid4().hex[:8]}"


def environ() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TERM="xterm")
    env.pop("OSREPLAY_TRANSPORT_URL", None)
    return env


class Terminal:
    """A shell command whose stdin, stdout and stderr are one pseudo-terminal."""

    def __init__(self, command: str) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            ["bash", "-c", command],
            stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=environ(),
            start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        self.screen = b""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.1)
                if ready:
                    data = os.read(self.master, 65536)
                    if not data:
                        return
                    self.screen += data
                elif self.proc.poll() is not None:
                    return
            except OSError:  # the terminal closed
                return

    def wait_for(self, text: bytes, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            if time.monotonic() > deadline or (self.proc.poll() is not None and not self._more()):
                raise AssertionError(f"{text!r} not on the terminal: {self.screen!r}")
            time.sleep(0.05)

    def _more(self) -> bool:
        self._reader.join(0.5)
        return self._reader.is_alive()

    def finish(self, timeout: float = 60.0) -> int:
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            raise
        self._reader.join(5)
        os.close(self.master)
        return code

    def lines(self) -> list[str]:
        return self.screen.decode("utf-8", "replace").replace("\r\n", "\n").split("\n")


def publish(bus, tmp_path: Path, exchange: str, count: int) -> None:  # noqa: F811
    """Publish ``count`` records to ``exchange`` with osreplay replay itself."""
    rows = [record(i, "INFO", exchange, bus.topic) for i in range(count)]
    path = write(tmp_path / f"publish-{uuid.uuid4().hex[:6]}.ndjson", rows)
    done = subprocess.run(
        [sys.executable, "-m", "osreplay", "replay", "--url", bus.transport_url(),
         "--rate", "0", "-q", path],
        cwd=ROOT, env=environ(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_records_on_the_terminal_never_share_a_line_with_the_counter(bus, tap, tmp_path):  # noqa: F811
    exchange = unique("nova")
    tap([exchange])  # declares the exchange, removes it afterwards
    term = Terminal(
        f"{OSREPLAY} record --url {bus.transport_url()} --exchange {exchange} "
        f"--topic {bus.topic} --pool {unique('pool')} --count 3"
    )
    term.wait_for(b"Recording from ")
    time.sleep(1.5)  # the counter, were it drawn, draws every second
    publish(bus, tmp_path, exchange, 3)
    assert term.finish() == 0
    assert REDRAW not in term.screen
    records = [line for line in term.lines() if line.startswith("{")]
    assert [json.loads(line)["payload"]["i"] for line in records] == [0, 1, 2]
    assert any(line.startswith("Recorded 3 records in ") for line in term.lines())


def test_the_mirror_pipeline_prints_whole_lines_only(bus, tap, tmp_path):  # noqa: F811
    source, target = unique("prod"), unique("test")
    mirrored = tap([target])
    tap([source])
    url = bus.transport_url()
    term = Terminal(
        f"{OSREPLAY} record --url {url} --exchange {source} --topic {bus.topic} "
        f"--pool {unique('pool')} --count 3 | {OSREPLAY} replay --url {url} --exchange {target}"
    )
    term.wait_for(b"Recording from ")
    time.sleep(1.5)
    publish(bus, tmp_path, source, 3)
    assert term.finish() == 0
    assert len(mirrored.drain(3)) == 3
    assert REDRAW not in term.screen  # neither process draws a live line
    lines = term.lines()
    assert any(line.startswith("Recorded 3 records in ") for line in lines)
    assert any(line.startswith("Replayed 3 of 3 records in ") for line in lines)


def test_a_paced_replay_shows_its_bar_on_the_terminal_and_erases_it(bus, tap, tmp_path):  # noqa: F811
    exchange = unique("nova")
    got = tap([exchange])
    rows = [record(i, "INFO", exchange, bus.topic) for i in range(3)]
    path = write(tmp_path / "day.ndjson", rows)
    term = Terminal(f"{OSREPLAY} replay --url {bus.transport_url()} --rate 4 {path}")
    assert term.finish() == 0
    assert len(got.drain(3)) == 3
    assert REDRAW in term.screen  # the bar was drawn, on stderr, alone, then erased
    lines = term.lines()
    summary = next(line for line in lines if "Replayed 3 of 3 records in " in line)
    assert summary.rpartition(REDRAW.decode())[2].startswith("Replayed 3 of 3 records in ")
    # Nothing reads <topic>.info here (the test's tap is a queue of its own): replay says so.
    after = lines[lines.index(summary) + 1]
    assert after.startswith(f"  {bus.topic}.info: ") and after.endswith(" waiting, no consumer")


def test_sigterm_stops_replay_with_the_summary_and_the_resume_point(bus, tap, tmp_path):  # noqa: F811
    exchange = unique("nova")
    got = tap([exchange])
    rows = [
        record(1, "INFO", exchange, bus.topic, timestamp="2024-03-05 10:00:00.000000"),
        record(2, "INFO", exchange, bus.topic, timestamp="2024-03-05 11:00:00.000000"),
    ]
    path = write(tmp_path / "day.ndjson", rows)
    proc = subprocess.Popen(  # off a terminal: pipes, as under systemd
        [sys.executable, "-m", "osreplay", "replay", "--url", bus.transport_url(), path],
        cwd=ROOT, env=environ(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert len(got.drain(1)) == 1  # the first went out; the second is due in an hour
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 143
    assert stdout.startswith("Replayed 1 of 2 records in ")
    assert stderr.splitlines()[-1] == (
        f"Terminated (SIGTERM) at line 2 of {path}; resume with --start-at 2"
    )


class StallingProxy(Proxy):
    """Forwards the first ``allow`` connections; later ones are accepted and never answered
    (a listener port that takes the TCP connection but never speaks AMQP to oslo)."""

    def __init__(self, target: tuple[str, int], allow: int) -> None:
        self.allow = allow
        self.held: list[socket.socket] = []
        super().__init__(target)

    def _accept(self) -> None:
        listener = self.listener
        while self.allow > 0:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            self.allow -= 1
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            self.held.append(client)


@pytest.mark.parametrize(
    ("how", "code", "said"),
    [
        ("SIGTERM", 143, "Stopped while connecting to "),
        ("SIGINT", 130, "Stopped while connecting to "),
        ("--duration", 2, "Error: still not listening on "),
    ],
)
def test_record_stuck_connecting_still_stops(bus, how, code, said, tmp_path):  # noqa: F811
    # The connection check and the queue inspection get through; oslo's listener does not.
    proxy = StallingProxy((bus.host, bus.port), allow=2)
    url = bus.transport_url(port=proxy.port, query="?kombu_reconnect_delay=0")
    args = [
        sys.executable,
        "-m",
        "osreplay",
        "record",
        "--url",
        url,
        "--exchange",
        unique("nova"),
        "--pool",
        unique("pool"),
        "-o",
        str(tmp_path / "out.ndjson"),
    ]
    if how == "--duration":
        args += ["--duration", "2", "--connect-timeout", "3"]
    proc = subprocess.Popen(args, cwd=ROOT, env=environ(), stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while len(proxy.held) < 1 and time.monotonic() < deadline:  # oslo is connecting
            time.sleep(0.05)
        assert proxy.held, "oslo never connected through the proxy"
        started = time.monotonic()
        if how != "--duration":
            proc.send_signal(getattr(signal, how))
        _, stderr = proc.communicate(timeout=20)
    finally:
        proc.kill()
        proxy.cut()
        for sock in proxy.held:
            sock.close()
    assert time.monotonic() - started < 10
    assert proc.returncode == code, stderr
    assert said in stderr and "Recording from" not in stderr


@pytest.mark.parametrize("how", ["SIGTERM", "--duration"])
def test_record_stuck_reconnecting_still_stops_with_its_summary(bus, how, tmp_path):  # noqa: F811
    proxy = Proxy((bus.host, bus.port))
    url = bus.transport_url(port=proxy.port, query="?kombu_reconnect_delay=0")
    pool = unique("pool")
    args = [
        sys.executable,
        "-m",
        "osreplay",
        "record",
        "--url",
        url,
        "--exchange",
        unique("nova"),
        "--pool",
        pool,
        "-o",
        str(tmp_path / "out.ndjson"),
    ]
    if how == "--duration":
        args += ["--duration", "4"]
    proc = subprocess.Popen(args, cwd=ROOT, env=environ(), stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while not any(line.startswith("Recording from ") for line in lines):
            assert time.monotonic() < deadline and proc.poll() is None, lines
            time.sleep(0.05)
        proxy.cut()  # the broker is gone for good: oslo reconnects forever
        while not any(" lost (" in line for line in lines):
            assert time.monotonic() < deadline and proc.poll() is None, lines
            time.sleep(0.05)
        started = time.monotonic()
        if how == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=40)
        reader.join(5)
    finally:
        proc.kill()
        proc.wait()
        reader.join(5)
        proc.stderr.close()  # type: ignore[union-attr]
    assert time.monotonic() - started < 30, lines
    assert proc.returncode == 0, lines
    stopped_by = "signal" if how == "SIGTERM" else "duration"
    assert any(
        line.startswith("Recorded 0 records in ") and f"(stopped by {stopped_by})" in line
        for line in lines
    ), lines
