"""The writer of a rotated recording (``record --rotate``): see :mod:`osreplay.tap.rotate`."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from datetime import datetime, timezone

from osreplay.model.files import write_error
from osreplay.model.output import claim
from osreplay.model.writer import RecordingWriter
from osreplay.tap.options import FileStarted, RecordedFile
from osreplay.tap.rotate import RotationPlan


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class RotatingWriter:
    """A :class:`~osreplay.tap.sink.LineWriter` over a series of files.

    The first file is opened at once (so a recording that hears nothing still leaves one,
    as an unrotated one does); the others when a group arrives after a close. A file is
    created only if its name is free (never overwritten). Each file is a plain
    :class:`RecordingWriter`: unbuffered when plain, so :meth:`mark` and :meth:`rollback`
    cut a failed group back out of the file that holds it.
    ``on_start`` hears of every file opened after the first.
    """

    def __init__(
        self,
        plan: RotationPlan,
        *,
        fsync: bool = False,
        on_start: Callable[[FileStarted], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.plan = plan
        self.path = plan.pattern.text
        self._fsync = fsync
        self._on_start = on_start
        self._clock = clock
        self._now = now
        self._next = plan.first
        self._closed: list[RecordedFile] = []
        self._file: RecordingWriter | None = None
        self._file_path = ""
        self._records = 0
        self._unflushed = 0
        self._first_at: float | None = None
        self._open()

    @property
    def name(self) -> str:
        """The file open (or last closed): what an error names."""
        return self._file_path

    @property
    def files(self) -> list[RecordedFile]:
        """Every file of this run so far, with the records acked into it."""
        files = list(self._closed)
        if self._file is not None:
            files.append(RecordedFile(self._file_path, self._records, self._size()))
        return files

    def mark(self) -> int | None:
        """Where the next write begins in the file that will take it (opened here when a
        rotation left none open)."""
        return self._ensure_open().mark()

    def write(self, lines: list[str]) -> None:
        self._ensure_open().write(lines)
        self._unflushed += len(lines)

    def rollback(self, mark: int) -> bool:
        self._unflushed = 0
        return self._file is not None and self._file.rollback(mark)

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()
            self._records += self._unflushed
            if self._records and self._first_at is None:
                self._first_at = self._clock()
        self._unflushed = 0

    def between_batches(self) -> float | None:
        """Close the open file when it is full or old enough.

        Called by the writer thread between groups (and when it waited that long): the
        seconds until the open file is due, or None when no clock applies. A file's age
        counts from its first record: an empty file is never closed for its age.
        """
        if self._file is None:
            return None
        limits = self.plan.limits
        if limits.size is not None and self._size() >= limits.size:
            self._close_file()
            return None
        if limits.seconds is None or self._first_at is None:
            return None
        left = self._first_at + limits.seconds - self._clock()
        if left <= 0:
            self._close_file()
            return None
        return left

    def close(self) -> None:
        if self._file is not None:
            self._close_file()

    def discard(self) -> None:
        """Close; when the run never got to write (it could not listen), remove the empty
        first file too, so that running again is not refused for it."""
        path, empty = self._file_path, not self._closed and self._records == 0
        self.close()
        if empty:
            with contextlib.suppress(OSError):  # already gone: nothing to refuse a rerun for
                os.remove(path)

    def __enter__(self) -> RotatingWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _ensure_open(self) -> RecordingWriter:
        return self._file if self._file is not None else self._open()

    def _open(self) -> RecordingWriter:
        path = self.plan.pattern.path(self._next, self._now())
        claim(path)  # only if nothing (not even a link) has that name
        self._file = RecordingWriter(path, fsync=self._fsync)
        self._file_path, self._records, self._unflushed = path, 0, 0
        self._first_at = None
        self._next += 1
        if self._on_start is not None and self._next - 1 > self.plan.first:
            closed = self._closed[-1] if self._closed else None
            self._on_start(FileStarted(path=path, previous=closed))
        return self._file

    def _close_file(self) -> None:
        file, self._file = self._file, None
        assert file is not None
        try:
            file.close()
            if self._fsync:
                _sync(self._file_path)
        except OSError as exc:
            raise write_error(self._file_path, exc) from None
        finally:
            size = os.stat(self._file_path).st_size if os.path.exists(self._file_path) else 0
            self._closed.append(RecordedFile(self._file_path, self._records, size))

    def _size(self) -> int:
        try:
            return os.stat(self._file_path).st_size
        except OSError as exc:
            raise write_error(self._file_path, exc) from None


def _sync(path: str) -> None:
    """Make what closing ``path`` wrote (a gzip trailer) durable too."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["RotatingWriter"]
