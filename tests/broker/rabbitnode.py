"""A RabbitMQ node of the test's own, beside the shared broker (never touched).

Started detached as the ``rabbitmq`` user with its own name, ports, data folder and config
file, as OSLO-NOTES.md describes; :meth:`RabbitNode.stop` stops it and removes its folder.
:class:`RabbitCluster` starts several such nodes and joins them into one cluster.
Also makes a throw-away CA, server and client certificate with ``openssl`` for TLS
listeners.

Two runs of the suite share the machine: a node's name carries the pytest session
(``osr-<session>-<role>@localhost``, :func:`node_name`) and its ports are chosen free when
it starts (:func:`free_port`). Every node started is remembered until it is stopped, so
that the session's end (tests/conftest.py) stops what a fixture could not.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

#: This pytest session (tests/conftest.py sets it; a module used alone makes its own).
SESSION = os.environ.get("OSREPLAY_TEST_SESSION") or f"solo-{uuid.uuid4().hex[:8]}"
_ports_given: set[int] = set()
_ports_lock = threading.Lock()
_running: dict[str, RabbitNode] = {}


def node_name(role: str) -> str:
    """``osr-<session>-<role>``: no other run (nor this session's other nodes) has it."""
    return f"osr-{SESSION}-{role}"


def free_port() -> int:
    """A TCP port nothing listens on now, never the same twice in this session."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        with _ports_lock:
            if port not in _ports_given:
                _ports_given.add(port)
                return port


def stop_all() -> None:
    """Stop every node of this session still running (the session's safety net)."""
    for node in list(_running.values()):
        node.stop()


def available() -> bool:
    return all(shutil.which(tool) for tool in ("rabbitmq-server", "rabbitmqctl", "openssl"))


@dataclass
class Certificates:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def make_certificates(folder: Path) -> Certificates:
    """A self-signed CA, and a server (localhost, 127.0.0.1) and client certificate."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=osreplay test CA", "-keyout", "ca.key", "-out", "ca.pem")  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName = DNS:localhost, IP:127.0.0.1\n")
    for name, cn in (("server", "localhost"), ("client", "osreplay-client")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}",
                "-keyout", f"{name}.key", "-out", f"{name}.csr")  # fmt: skip
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", "san.ext",
                "-out", f"{name}.pem")  # fmt: skip
    return Certificates(
        folder / "ca.pem",
        folder / "server.pem",
        folder / "server.key",
        folder / "client.pem",
        folder / "client.key",
    )


class RabbitNode:
    """One detached RabbitMQ node: ``osr-<session>-<role>@localhost`` on a free ``port``
    (and, with ``tls=True``, a free ``tls_port``)."""

    def __init__(self, role: str, *, tls: bool = False) -> None:
        self.name = node_name(role)
        self.port, self.dist_port = free_port(), free_port()
        self.tls_port = free_port() if tls else None
        self.node = f"{self.name}@localhost"
        self.dir = Path(tempfile.mkdtemp(prefix=f"{self.name}-"))
        self.dir.chmod(0o755)  # the server runs as rabbitmq and must reach its files
        self.certs: Certificates | None = None

    def url(self, query: str = "") -> str:
        """The transport URL of its plain listener (guest may log in from anywhere)."""
        return f"rabbit://guest:guest@127.0.0.1:{self.port}/{query}"

    def start(self, timeout: float = 90.0) -> None:
        _running[self.node] = self
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout: float) -> None:
        config = [f"listeners.tcp.default = {self.port}", "loopback_users = none"]
        if self.tls_port is not None:
            self.certs = make_certificates(self.dir)
            config += [
                f"listeners.ssl.default = {self.tls_port}",
                f"ssl_options.cacertfile = {self.certs.ca}",
                f"ssl_options.certfile = {self.certs.server_cert}",
                f"ssl_options.keyfile = {self.certs.server_key}",
                "ssl_options.verify = verify_peer",
                "ssl_options.fail_if_no_peer_cert = true",
            ]
        (self.dir / "rabbitmq.conf").write_text("\n".join(config) + "\n")
        (self.dir / "enabled_plugins").write_text("[].\n")
        subprocess.run(["chown", "-R", "rabbitmq:rabbitmq", str(self.dir)], check=True)
        env = dict(
            os.environ,
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_MNESIA_BASE=str(self.dir / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.dir / "log"),
            RABBITMQ_PID_FILE=str(self.dir / "pid"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.dir / "enabled_plugins"),
            RABBITMQ_CONFIG_FILE=str(self.dir / "rabbitmq"),
        )
        subprocess.run(["rabbitmq-server", "-detached"], env=env, check=True, capture_output=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # Fails at once while the Erlang node is not up yet; then waits for the boot.
            if self.ctl("await_startup", "--timeout", "60", check=False).returncode == 0:
                return
            time.sleep(0.5)
        raise RuntimeError(f"RabbitMQ node {self.node} did not start within {timeout} s")

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["rabbitmqctl", "-q", "-n", self.node, *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=90,
        )

    def add_user(self, user: str, password: str) -> None:
        # rabbitmqctl reads the password from stdin when it is not given: no shell quoting.
        subprocess.run(
            ["rabbitmqctl", "-q", "-n", self.node, "add_user", user],
            input=password + "\n",
            text=True,
            capture_output=True,
            check=True,
            timeout=90,
        )
        self.ctl("set_permissions", "-p", "/", user, ".*", ".*", ".*")

    def join(self, first: RabbitNode) -> None:
        """Join ``first``'s cluster (this node's data is reset by the join)."""
        self.ctl("stop_app")
        self.ctl("join_cluster", first.node)
        self.ctl("start_app")

    def stop_app(self) -> None:
        """Stop RabbitMQ on this node (its clients are disconnected); the node stays up."""
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")
        self.ctl("await_startup", "--timeout", "60")

    def stop(self) -> None:
        """Stop the node (killed when it does not stop) and remove its folder."""
        _running.pop(self.node, None)
        pid = self._os_pid()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.ctl("stop", check=False)
        if pid is not None and _wait_gone(pid, 30):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, 10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _os_pid(self) -> int | None:
        try:
            return int((self.dir / "pid").read_text().strip())
        except (OSError, ValueError):
            return None


def _wait_gone(pid: int, timeout: float) -> bool:
    """Wait for ``pid`` to end; True if it is still there after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.2)
    return True


class RabbitCluster:
    """``osr-<session>-<prefix>1@localhost`` …, each on free ports, joined to the first
    node's cluster."""

    def __init__(self, prefix: str, *, size: int = 3) -> None:
        self.nodes = [RabbitNode(f"{prefix}{i + 1}") for i in range(size)]

    def start(self) -> None:
        try:
            # Booting is mostly waiting: start every node before waiting for any.
            with ThreadPoolExecutor(len(self.nodes)) as pool:
                list(pool.map(RabbitNode.start, self.nodes))
            for node in self.nodes[1:]:
                node.join(self.nodes[0])
        except BaseException:
            self.stop()
            raise

    def url(self, query: str = "") -> str:
        """The oslo transport URL listing every node (``rabbit://guest:guest@…,…/``)."""
        hosts = ",".join(f"guest:guest@127.0.0.1:{node.port}" for node in self.nodes)
        return f"rabbit://{hosts}/{query}"

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
