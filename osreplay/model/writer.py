"""Writing NDJSON recordings: whole lines, flushed (and made durable) on demand.

``-`` is standard output; a path ending in ``.gz`` is written gzip-compressed (appending
to a ``.gz`` file adds a gzip member, which every gzip reader handles). A plain file is
unbuffered, so a failed batch can be cut back to where it started. What is at the path is
never replaced: see :mod:`osreplay.model.output`.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import sys
import zlib
from collections.abc import Iterable
from typing import IO

from osreplay.errors import WriteError
from osreplay.model.files import write_error
from osreplay.model.output import Output, OutputFile


class RecordingWriter:
    """Write records to a recording: whole lines only, flushed on demand.

    One writer per file. ``write`` takes complete lines (str ending in ``\\n``) so a line
    is never split between two writes; ``flush`` pushes them to the OS (and with
    ``fsync=True`` to the disk) before the caller acknowledges anything.
    """

    def __init__(
        self,
        path: str | Output,
        *,
        append: bool = False,
        fsync: bool = False,
        atomic: bool = False,
    ) -> None:
        # Where it goes follows the output-path rule (osreplay.model.output): a device,
        # FIFO or socket is written in place, a link's target is written, and ``atomic``
        # writes a temporary file that replaces the target on close (discard() drops it).
        self._file = OutputFile(path, append=append, atomic=atomic)
        self.path = self._file.output.path
        self.name = self._file.name
        # A pipe or a device cannot be synced (EINVAL), nor cut back: only a regular file.
        self._regular = self._file.regular
        self._fsync = fsync and self._regular
        mode = "ab" if append else "wb"
        self._raw: IO[bytes] | None = None
        if self.path == "-":
            self._out: IO[bytes] = sys.stdout.buffer
        elif self.path.endswith(".gz"):  # by the name given, as the readers decide
            self._raw = self._file.handle
            self._out = gzip.GzipFile(fileobj=self._raw, mode=mode)  # type: ignore[assignment]
        else:
            # Unbuffered: each write() is one group of whole lines, so a buffer adds
            # nothing, and nothing is left in one to reach the file after a failure.
            self._out = self._file.handle

    def write(self, lines: Iterable[str]) -> None:
        """Write whole lines; raise WriteError if the file refuses them."""
        data = "".join(lines).encode("utf-8")
        try:
            if isinstance(self._out, io.RawIOBase):
                view = memoryview(data)
                while view:  # a raw write may take part of it (a nearly full disk)
                    view = view[self._out.write(view) or 0 :]
            else:
                self._out.write(data)
        except OSError as exc:
            raise write_error(self.name, exc) from None

    def mark(self) -> int | None:
        """Where the next write begins, for :meth:`rollback`; None when it cannot be undone
        (standard output, a ``.gz`` file)."""
        if not isinstance(self._out, io.RawIOBase) or not self._regular:
            return None
        try:
            return os.fstat(self._out.fileno()).st_size
        except OSError:
            return None

    def rollback(self, mark: int) -> bool:
        """Cut the file back to ``mark``: what a failed write left (part of a group) goes."""
        if not isinstance(self._out, io.RawIOBase):
            return False
        try:
            os.ftruncate(self._out.fileno(), mark)
            self._out.seek(mark)
        except OSError:
            return False
        return True

    def flush(self) -> None:
        """Make what was written reach the OS (and the disk with fsync)."""
        try:
            if isinstance(self._out, gzip.GzipFile):
                self._out.flush(zlib.Z_SYNC_FLUSH)
            else:
                self._out.flush()
            if self._raw is not None:
                self._raw.flush()
            if self._fsync:
                os.fsync((self._raw or self._out).fileno())
        except OSError as exc:
            raise write_error(self.name, exc) from None

    def close(self) -> None:
        """Finish the file (an atomic one replaces its target now); raise WriteError if
        what was left could not be written.

        A ``.gz`` file ends with a trailer written here: on a full disk it is missing, and
        the error says so (every line flushed before is in the file, readable).
        """
        if self.path == "-":
            try:
                self._out.flush()
            except (OSError, ValueError):
                pass
            return
        try:
            try:
                if self._out is not self._file.handle:
                    self._out.close()  # a gzip stream's trailer; the file stays open
            except OSError as exc:
                self._file.discard()
                raise self._unfinished(write_error(self.name, exc)) from None
            try:
                self._file.close()
            except WriteError as exc:
                raise self._unfinished(exc) from None
        finally:
            self._file.discard()  # a no-op once closed

    def _unfinished(self, error: WriteError) -> WriteError:
        """``error``, saying that a ``.gz`` file lacks its trailer (its lines are there)."""
        if self._raw is None:
            return error
        return WriteError(
            f"{error} (its gzip trailer is missing: the lines written before are all "
            "there, and gzip -dc reads them with a warning)"
        )

    def discard(self) -> None:
        """Give up: an atomic output's target stays as it was."""
        if self.path != "-" and self._out is not self._file.handle:
            with contextlib.suppress(OSError, ValueError, EOFError):
                self._out.close()
        self._file.discard()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, exc_type: object, *exc_info: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()


__all__ = ["RecordingWriter"]
