"""Real special files for the output-path tests: a device node, a FIFO with a reader, a
Unix socket with a listener, and a run as an unprivileged user.

Nothing is simulated: the device is made with mknod (char 1,3, the numbers of
/dev/null), the FIFO with mkfifo, the socket is bound; after a command wrote them, each
must still be what it was.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

NOBODY = 65534
NULL_DEVICE = os.makedev(1, 3)


def make_null_device(path: Path) -> Path:
    """A character device with /dev/null's numbers at ``path`` (root only)."""
    if os.geteuid() != 0:
        pytest.skip("mknod needs root")
    os.mknod(path, 0o666 | stat.S_IFCHR, NULL_DEVICE)
    return path


def assert_still_null_device(path: Path) -> None:
    info = os.lstat(path)
    assert stat.S_ISCHR(info.st_mode), f"{path} is no longer a character device"
    assert info.st_rdev == NULL_DEVICE


class FifoReader:
    """A FIFO at ``path`` and a thread that reads it to the end (the writer's close)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        os.mkfifo(path)
        self.data = b""
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with open(self.path, "rb") as handle:  # waits for the writer
            self.data = handle.read()

    def result(self, timeout: float = 60.0) -> bytes:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"nothing closed {self.path}"
        assert stat.S_ISFIFO(os.lstat(self.path).st_mode), f"{self.path} is no longer a FIFO"
        return self.data

    def unblock(self) -> None:
        """Open the write end once, so a reader still waiting ends (test clean-up)."""
        if self._thread.is_alive():
            fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
            self._thread.join(5)


class SocketReader:
    """A Unix stream socket listening at ``path``; a thread takes one connection's bytes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(1)
        self._server.settimeout(120)
        self.data = b""
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            conn, _ = self._server.accept()
        except OSError:
            return
        with conn:
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
            self.data = b"".join(chunks)

    def result(self, timeout: float = 60.0) -> bytes:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"nothing wrote to {self.path}"
        assert stat.S_ISSOCK(os.lstat(self.path).st_mode), f"{self.path} is no longer a socket"
        return self.data

    def close(self) -> None:
        self._server.close()
        self._thread.join(5)


@contextlib.contextmanager
def unprivileged() -> Iterator[None]:
    """Run the block as an unprivileged user (root may write anywhere): the effective ids
    only, so that root's are restored after it."""
    if os.geteuid() != 0:
        pytest.skip("runs the command as another user: needs root")
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


__all__ = [
    "FifoReader",
    "SocketReader",
    "unprivileged",
    "assert_still_null_device",
    "make_null_device",
]
