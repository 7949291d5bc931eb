"""Where a command writes: the output-path rule, in one place for every command.

Writing a file never replaces what is at the path:

- ``-`` is standard output.
- A character or block device (``/dev/null``), a FIFO or a Unix socket is written in
  place and stays what it was (a socket is connected to, as ``socat`` would).
- A symbolic link is followed: its target is written and the link stays.
- A regular file (or nothing yet) is written whole: into a temporary file beside the
  target, renamed over it once complete, with the old file's permissions and owner, so
  that a run that fails half-way leaves the file as it was (``atomic``). A recording being
  made (``record -o``) is written as it comes instead, in the file itself.
- A directory, a missing directory or a path that cannot be written is a
  :class:`~osreplay.errors.WriteError` from :func:`output_path`, which every command calls
  before it starts any work.

:class:`OutputFile` opens what :func:`output_path` found; :class:`RecordingWriter
<osreplay.model.writer.RecordingWriter>` (``record``, ``redact``), ``timeline`` and the
repair before ``record --append`` all write through it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
import sys
import tempfile
from dataclasses import dataclass
from typing import BinaryIO, Literal, cast

from osreplay.errors import WriteError
from osreplay.model.files import write_error

Kind = Literal["stdout", "new", "file", "device", "fifo", "socket"]
#: What is written where it is: a temporary file and a rename would replace it.
IN_PLACE: frozenset[Kind] = frozenset({"stdout", "device", "fifo", "socket"})


@dataclass(frozen=True)
class Output:
    """A checked output path: what is there, and where the bytes go."""

    path: str  #: as given: what messages name
    target: str  #: the path written: every symbolic link followed
    kind: Kind

    @property
    def in_place(self) -> bool:
        """Written where it is (a device, FIFO, socket, standard output), never replaced."""
        return self.kind in IN_PLACE


def output_path(path: str, *, atomic: bool = False) -> Output:
    """What is at ``path`` and where writing it goes; WriteError when it cannot be written
    (``atomic``: replaced whole, which needs the regular file's folder to be writable).

    Nothing is opened or created: an existing file is left as it is until the command
    writes it (opening a FIFO would wait for its reader).
    """
    if path == "-":
        return Output(path, path, "stdout")
    target = os.path.realpath(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if path.endswith(os.sep):  # a folder was meant, and none is there
            raise WriteError(f"cannot write {path}: no such directory") from None
        return Output(path, target, _new(path, target))
    except OSError as exc:  # a loop of links, a component that is not a folder, …
        raise write_error(path, exc) from None
    if stat.S_ISDIR(mode):
        raise WriteError(f"cannot write {path}: it is a directory")
    if stat.S_ISREG(mode):
        kind: Kind = "file"
    elif stat.S_ISFIFO(mode):
        kind = "fifo"
    elif stat.S_ISSOCK(mode):
        kind = "socket"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "device"
    else:  # pragma: no cover - every type Linux has is named above
        raise WriteError(f"cannot write {path}: it is not a file")
    _check_access(path, target, "permission denied")
    if kind == "file" and atomic:  # the temporary file that replaces it goes beside it
        _check_access(path, os.path.dirname(target), "its directory is not writable")
    return Output(path, target, kind)


def _new(path: str, target: str) -> Kind:
    """Nothing at ``target`` yet (``path`` may be a link to it): its folder must take it."""
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise WriteError(f"cannot write {path}: its directory does not exist")
    _check_access(path, folder, "permission denied", os.W_OK | os.X_OK)
    return "new"


def _check_access(path: str, where: str, reason: str, mode: int = os.W_OK) -> None:
    # access(2) also answers EROFS (a read-only file system), which root meets too. The
    # effective ids decide, as they do when the file is opened.
    if not os.access(where or ".", mode, effective_ids=_EFFECTIVE):
        with contextlib.suppress(OSError):
            if os.statvfs(where or ".").f_flag & os.ST_RDONLY:
                reason = "read-only file system"
        raise WriteError(f"cannot write {path}: {reason}")


_EFFECTIVE = os.access in os.supports_effective_ids


def check_folder(folder: str, *, what: str) -> None:
    """New files go into ``folder`` (``record --rotate``): it must exist and take them."""
    if not os.path.isdir(folder or "."):
        raise WriteError(f"cannot write {what}: its directory does not exist")
    _check_access(what, folder, "permission denied", os.W_OK | os.X_OK)


def claim(path: str) -> None:
    """Create ``path`` empty, only if nothing is there (not even a link): a rotated
    recording's next file never overwrites anything."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        raise WriteError(
            f"cannot write {path}: it already exists (a rotated recording never overwrites a file)"
        ) from None
    except OSError as exc:
        raise write_error(path, exc, opening=True) from None
    os.close(fd)


class OutputFile:
    """An output open for writing: ``handle`` takes the bytes, unbuffered.

    In place (a device, FIFO, socket, standard output, or ``atomic=False``) the bytes go
    to the target itself; otherwise into a temporary file beside it, which
    :meth:`close` renames over the target (keeping its permissions and owner) and
    :meth:`discard` removes. ``append`` adds to what the target holds (never atomic).
    """

    def __init__(self, output: Output | str, *, append: bool = False, atomic: bool = False) -> None:
        if not isinstance(output, Output):
            output = output_path(output, atomic=atomic and not append)
        self.output = output
        self.name = "<stdout>" if self.output.kind == "stdout" else self.output.path
        self._temp: str | None = None
        self._done = False
        out = self.output
        try:
            if out.kind == "stdout":
                self.handle: BinaryIO = sys.stdout.buffer
            elif out.kind == "socket":
                self.handle = _connect(out.target)
            elif atomic and not append and not out.in_place:
                self.handle = self._open_temp()
            else:
                flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else 0)
                if out.kind in ("file", "new") and not append:
                    flags |= os.O_TRUNC
                fd = os.open(out.target, flags | os.O_NOCTTY, 0o666)
                self.handle = cast(BinaryIO, open(fd, "ab" if append else "wb", buffering=0))
        except OSError as exc:
            raise write_error(out.path, exc, opening=True) from None

    @property
    def regular(self) -> bool:
        """A regular file (its size is where the next write goes; it can be cut back)."""
        if self.output.kind == "stdout":
            return False
        try:
            return stat.S_ISREG(os.fstat(self.handle.fileno()).st_mode)
        except (OSError, ValueError):
            return False

    def _open_temp(self) -> BinaryIO:
        target = self.output.target
        folder, name = os.path.split(target)
        fd, self._temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".partial", dir=folder)
        try:
            _keep_mode_and_owner(fd, target)
        except BaseException:
            os.close(fd)
            os.unlink(self._temp)
            self._temp = None
            raise
        return cast(BinaryIO, open(fd, "wb", buffering=0))

    def close(self, *, fsync: bool = True) -> None:
        """Finish: an atomic output's temporary file (synced) replaces the target."""
        if self._done:
            return
        self._done = True
        if self.output.kind == "stdout":
            with contextlib.suppress(OSError, ValueError):
                self.handle.flush()
            return
        try:
            if self._temp is not None and fsync:
                os.fsync(self.handle.fileno())
            self.handle.close()
            if self._temp is not None:
                os.replace(self._temp, self.output.target)
                self._temp = None
        except OSError as exc:
            self._remove_temp()
            raise write_error(self.name, exc) from None

    def discard(self) -> None:
        """Give up: an atomic output's target stays as it was."""
        if self._done:
            return
        self._done = True
        if self.output.kind != "stdout":
            with contextlib.suppress(OSError):
                self.handle.close()
        self._remove_temp()

    def _remove_temp(self) -> None:
        if self._temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._temp)
            self._temp = None


def write_whole(output: Output | str, data: bytes) -> None:
    """Write ``data`` as the whole content of ``output`` (atomically where it can be)."""
    out = OutputFile(output, atomic=True)
    try:
        view = memoryview(data)
        while view:
            view = view[out.handle.write(view) or 0 :]
    except OSError as exc:
        out.discard()
        raise write_error(out.name, exc) from None
    except BaseException:
        out.discard()
        raise
    out.close()


def _connect(path: str) -> BinaryIO:
    """A Unix socket at ``path``, connected to (a stream socket), as a file to write."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EPROTOTYPE:
            raise OSError(exc.errno, "a datagram socket (lines need a stream socket)") from None
        raise
    return cast(BinaryIO, open(sock.detach(), "wb", buffering=0))


def _keep_mode_and_owner(fd: int, target: str) -> None:
    """The file that replaces ``target`` gets its permissions and, where allowed, its owner
    (root rewriting a user's file must not take it); a new file gets what the umask allows."""
    try:
        old = os.stat(target)
    except FileNotFoundError:
        os.fchmod(fd, 0o666 & ~_umask())
        return
    if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
        with contextlib.suppress(PermissionError):
            os.fchown(fd, old.st_uid, old.st_gid)
    os.fchmod(fd, stat.S_IMODE(old.st_mode))  # after the chown, which may clear set-id bits


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


__all__ = [
    "IN_PLACE",
    "Kind",
    "Output",
    "OutputFile",
    "check_folder",
    "claim",
    "output_path",
    "write_whole",
]
