"""Real credentials and TLS, on a RabbitMQ node the module starts for itself.

The node (``osr-<session>-f1@localhost``: plain AMQP and TLS with client certificates
required, each on a port chosen free at run time: tests/broker/rabbitnode.py) is started
once for the module and removed afterwards; the shared broker is never touched. A user
whose password holds ``@ / % # ? :`` and a space records and replays through its
percent-encoded URL; a config file's ``[oslo_messaging_rabbit]`` TLS options record and
replay over the TLS listener; TLS against the plain port fails within the connect timeout
in one line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import rabbitnode

from osreplay.bus.url import BrokerHost, BusURL, format_url, quote

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[2]
USER, PASSWORD = "osr-special", "Qx7@Zk/9%Rt#?Wm: Jv"
TLS_USER, TLS_PASSWORD = "osr-tls", "Tl5:Pw@d/Hq"


def leaks(text: str, password: str) -> list[str]:
    """Every piece (3+ characters, raw or percent-encoded) of ``password`` in ``text``."""
    pieces = {password[i:j] for i in range(len(password)) for j in range(i + 3, len(password) + 1)}
    pieces |= {quote(p) for p in pieces}
    return sorted(p for p in pieces if p in text)


@pytest.fixture(scope="module")
def node():
    if not rabbitnode.available():
        if os.environ.get("CI"):
            pytest.fail("rabbitmq-server, rabbitmqctl and openssl are needed (CI)")
        pytest.skip("rabbitmq-server, rabbitmqctl or openssl missing")
    started = rabbitnode.RabbitNode("f1", tls=True)
    try:
        started.start()
        started.add_user(USER, PASSWORD)
        started.add_user(TLS_USER, TLS_PASSWORD)
        yield started
    finally:
        started.stop()


def url(user: str, password: str, port: int, *, host: str = "127.0.0.1") -> str:
    return format_url(BusURL("rabbit", (BrokerHost(host, port, user, password),), "/"))


class Osreplay:
    """``python -m osreplay ARGS`` in a subprocess, its output collected as it comes."""

    def __init__(self, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if k != "OSREPLAY_TRANSPORT_URL"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "osreplay", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        self.stderr: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:  # type: ignore[union-attr]
            self.stderr.append(line.rstrip("\n"))

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(line.startswith("Recording from ") for line in self.stderr):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.proc.kill()
        raise AssertionError(f"no ready line: {self.finish()}")

    def finish(self, timeout: float = 90.0) -> tuple[int, str, str]:
        stdout = self.proc.communicate(timeout=timeout)[0]
        self._reader.join(5)
        return self.proc.returncode, stdout, "\n".join(self.stderr)


def write_records(path: Path, n: int) -> Path:
    rows = [
        {
            "event_type": f"test.credentials.{i}",
            "publisher_id": "test-host",
            "priority": "INFO",
            "payload": {"n": i},
            "timestamp": "2026-01-01 00:00:00.000000",
            "message_id": str(uuid.uuid4()),
        }
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def record_then_replay(
    tmp_path: Path, bus: list[str], *, verbose: tuple[str, ...] = ()
) -> tuple[list[dict], str]:
    """Record 3 notifications that ``replay`` sends, both using ``bus`` options."""
    exchange = f"osreplay-test-{uuid.uuid4().hex[:8]}"
    out = tmp_path / "recorded.ndjson"
    recorder = Osreplay(
        *verbose, "record", *bus, "--exchange", exchange, "--count", "3", "--connect-timeout", "20",
        "-o", str(out),
    )  # fmt: skip
    recorder.wait_ready()
    replay = subprocess.run(
        [sys.executable, "-m", "osreplay", *verbose, "replay", *bus, "--exchange", exchange,
         "--rate", "0", str(write_records(tmp_path / "sent.ndjson", 3))],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert replay.returncode == 0, replay.stderr
    code, stdout, stderr = recorder.finish()
    assert code == 0, stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    output = "\n".join([replay.stdout, replay.stderr, stdout, stderr, out.read_text()])
    return records, output


def test_a_password_with_every_special_character_records_and_replays(node, tmp_path):
    bus_url = url(USER, PASSWORD, node.port)
    assert bus_url == (
        f"rabbit://osr-special:Qx7%40Zk%2F9%25Rt%23%3FWm%3A%20Jv@127.0.0.1:{node.port}/%2F"
    )
    # -vv: oslo's and kombu's debug logging too must not show it.
    records, output = record_then_replay(tmp_path, ["--url", bus_url], verbose=("-vv",))
    assert sorted(r["event_type"] for r in records) == [f"test.credentials.{i}" for i in range(3)]
    assert (
        f"Recording from rabbit://osr-special:***@127.0.0.1:{node.port}/%2F on exchange" in output
    )
    assert "DEBUG kombu" in output or "DEBUG amqp" in output  # the logging did run
    assert leaks(output, PASSWORD) == []


def test_a_wrong_special_password_is_refused_without_showing_it(node, tmp_path):
    wrong = PASSWORD[::-1]
    result = subprocess.run(
        [sys.executable, "-m", "osreplay", "record", "--url", url(USER, wrong, node.port),
         "--duration", "1", "-o", str(tmp_path / "o")],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"Error: cannot connect to rabbit://osr-special:***@127.0.0.1:{node.port}/%2F: (0, 0): "
        "(403) ACCESS_REFUSED - Login was refused using authentication mechanism AMQPLAIN. "
        "For details see the broker logfile."
    ]
    assert leaks(result.stdout + result.stderr, wrong) == []


def tls_config(node, tmp_path: Path, port: int) -> Path:
    certs = node.certs
    conf = tmp_path / "nova.conf"
    conf.write_text(
        f"[DEFAULT]\ntransport_url = {url(TLS_USER, TLS_PASSWORD, port, host='localhost')}\n"
        "[oslo_messaging_rabbit]\nssl = true\n"
        f"ssl_ca_file = {certs.ca}\nssl_cert_file = {certs.client_cert}\n"
        f"ssl_key_file = {certs.client_key}\n"
    )
    return conf


def test_tls_options_from_a_config_file_record_and_replay(node, tmp_path):
    conf = tls_config(node, tmp_path, node.tls_port)
    records, output = record_then_replay(tmp_path, ["--config-file", str(conf)])
    assert len(records) == 3
    assert (
        f"Transport URL rabbit://osr-tls:***@localhost:{node.tls_port}/%2F from {conf} [DEFAULT]"
        in (output)
    )
    assert leaks(output, TLS_PASSWORD) == []


#: What bounds each command's connection check: record's --connect-timeout (given below),
#: replay's fixed one (osreplay.bus.transport.check_connection's default).
CONNECT_TIMEOUT = {"record": 5.0, "replay": 15.0}


def seconds_to_fail_at_once(command: str, args: list[str]) -> float:
    """How long ``command`` takes now, on this machine as loaded as it is, to start and
    fail on a port nothing listens on (refused at once): its start-up, measured."""
    closed = f"rabbit://guest:guest@127.0.0.1:{rabbitnode.free_port()}/"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "osreplay", command, "--url", closed, *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    return time.monotonic() - started


@pytest.mark.parametrize("command", ["record", "replay"])
def test_tls_against_the_plain_port_fails_within_the_connect_timeout(node, tmp_path, command):
    conf = tls_config(node, tmp_path, node.port)
    args = ["--duration", "30", "--connect-timeout", "5", "-o", str(tmp_path / "o")]
    if command == "replay":
        args = [str(write_records(tmp_path / "sent.ndjson", 1))]
    # The point: the command does not hang. The bound holds on a loaded 2-core machine:
    # twice the start-up measured now, plus three times the timeout under test (the check
    # tries twice); a hang would go on for ever.
    bound = 2 * seconds_to_fail_at_once(command, args) + 3 * CONNECT_TIMEOUT[command]
    try:
        result = subprocess.run(
            [sys.executable, "-m", "osreplay", command, "--config-file", str(conf), *args],
            cwd=ROOT, capture_output=True, text=True, timeout=bound,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"{command} still connecting after {bound:.0f} s: it hangs")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"Error: cannot connect to rabbit://osr-tls:***@localhost:{node.port}/%2F: "
        "[SSL: WRONG_VERSION_NUMBER] wrong version number (TLS is on by "
        "[oslo_messaging_rabbit] ssl or ?ssl=1, but this port does not speak TLS)"
    )
    assert "Traceback" not in result.stderr


def test_tls_without_a_client_certificate_is_refused_in_one_line(node, tmp_path):
    bus_url = url(TLS_USER, TLS_PASSWORD, node.tls_port, host="localhost") + (
        f"?ssl=1&ssl_ca_file={quote(str(node.certs.ca))}"
    )
    result = subprocess.run(
        [sys.executable, "-m", "osreplay", "record", "--url", bus_url, "--duration", "1",
         "--connect-timeout", "5", "-o", str(tmp_path / "o")],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(
        f"Error: cannot connect to rabbit://osr-tls:***@localhost:{node.tls_port}/"
    )


def test_tls_options_in_the_url_query_record_and_replay(node, tmp_path):
    certs = node.certs
    options = (
        f"?ssl=1&ssl_ca_file={quote(str(certs.ca))}&ssl_cert_file={quote(str(certs.client_cert))}"
        f"&ssl_key_file={quote(str(certs.client_key))}"
    )
    bus_url = url(TLS_USER, TLS_PASSWORD, node.tls_port, host="localhost") + options
    records, output = record_then_replay(tmp_path, ["--url", bus_url])
    assert len(records) == 3
    assert leaks(output, TLS_PASSWORD) == []


def test_plain_amqp_against_the_tls_port_fails_within_the_connect_timeout(node, tmp_path):
    args = ["--connect-timeout", "5", "-o", str(tmp_path / "o")]
    bound = 2 * seconds_to_fail_at_once("record", args) + 3 * CONNECT_TIMEOUT["record"]
    try:
        result = subprocess.run(
            [sys.executable, "-m", "osreplay", "record", *args,
             "--url", url(TLS_USER, TLS_PASSWORD, node.tls_port)],
            cwd=ROOT, capture_output=True, text=True, timeout=bound,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"record still connecting after {bound:.0f} s: it hangs")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"Error: cannot connect to rabbit://osr-tls:***@127.0.0.1:{node.tls_port}/%2F: [Errno 104] "
        "Connection reset by peer (TLS is off: if this port is a TLS listener, set "
        "[oslo_messaging_rabbit] ssl)"
    ]


def test_a_stream_tap_over_tls_with_a_special_password(node, tmp_path):
    """tap create/list/delete and record --from-tap over the TLS listener (client
    certificate, a config file) on a user whose password needs encoding."""
    conf = tls_config(node, tmp_path, node.tls_port)
    bus = ["--config-file", str(conf)]
    name, exchange = f"tls{uuid.uuid4().hex[:8]}", f"osreplay-test-{uuid.uuid4().hex[:8]}"

    def osreplay(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "osreplay", *args], cwd=ROOT, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip

    created = osreplay("tap", "create", name, *bus, "--exchange", exchange)
    assert created.returncode == 0, created.stderr
    try:
        sent = write_records(tmp_path / "sent.ndjson", 5)
        replay = osreplay("replay", *bus, "--exchange", exchange, "--rate", "0", str(sent))
        assert replay.returncode == 0, replay.stderr
        out = tmp_path / "tap.ndjson"
        read = osreplay("record", *bus, "--from-tap", name, "-o", str(out))
        assert read.returncode == 0, read.stderr
        records = [json.loads(line) for line in out.read_text().splitlines()]
        assert [r["payload"]["n"] for r in records] == list(range(5))
        listed = osreplay("tap", "list", *bus)
        assert listed.returncode == 0 and listed.stdout.startswith("name "), listed.stderr
        assert any(line.startswith(name) for line in listed.stdout.splitlines())
        everything = created.stdout + created.stderr + read.stderr + listed.stdout
        assert leaks(everything, TLS_PASSWORD) == []
    finally:
        deleted = osreplay("tap", "delete", name, *bus)
    assert deleted.returncode == 0 and f"Deleted tap {name}" in deleted.stdout, deleted.stderr
