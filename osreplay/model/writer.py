"""Writing NDJSON recordings: whole lines, flushed (and made durable) on demand.

``-`` is standard output; a path ending in ``.gz`` is written gzip-compressed (appending
to a ``.gz`` file adds a gzip member, which every gzip reader handles). A plain file is
unbuffered, so a failed batch can be cut back to where it started.
"""

from __future__ import annotations

import gzip
import io
import os
import sys
import zlib
from collections.abc import Iterable
from typing import IO

from osreplay.model.files import write_error


class RecordingWriter:
    """Write records to a recording: whole lines only, flushed on demand.

    One writer per file. ``write`` takes complete lines (str ending in ``\\n``) so a line
    is never split between two writes; ``flush`` pushes them to the OS (and with
    ``fsync=True`` to the disk) before the caller acknowledges anything.
    """

    def __init__(self, path: str, *, append: bool = False, fsync: bool = False) -> None:
        self.path = path
        self.name = "<stdout>" if path == "-" else path
        self._fsync = fsync and path != "-"
        mode = "ab" if append else "wb"
        self._raw: IO[bytes] | None = None
        try:
            if path == "-":
                self._out: IO[bytes] = sys.stdout.buffer
            elif path.endswith(".gz"):
                self._raw = open(path, mode)
                self._out = gzip.GzipFile(fileobj=self._raw, mode=mode)  # type: ignore[assignment]
            else:
                # Unbuffered: each write() is one group of whole lines, so a buffer adds
                # nothing, and nothing is left in one to reach the file after a failure.
                self._out = open(path, mode, buffering=0)
        except OSError as exc:
            raise write_error(path, exc, opening=True) from None

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
        if not isinstance(self._out, io.RawIOBase):
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
        """Close the file; raise WriteError if what was left could not be written.

        A ``.gz`` file ends with a trailer written here: on a full disk it is missing, and
        the error says so (every line flushed before is in the file, readable).
        """
        if self.path == "-":
            try:
                self._out.flush()
            except (OSError, ValueError):
                pass
            return
        error: OSError | None = None
        try:
            self._out.close()
        except OSError as exc:
            error = exc
        if self._raw is not None:
            try:
                self._raw.close()
            except OSError as exc:
                error = error or exc
        if error is not None:
            failed = write_error(self.name, error)
            if self._raw is not None:
                failed = type(failed)(
                    f"{failed} (its gzip trailer is missing: the lines written before are "
                    "all there, and gzip -dc reads them with a warning)"
                )
            raise failed

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


__all__ = ["RecordingWriter"]
