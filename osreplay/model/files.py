"""How a file that cannot be opened, read or written is told: one wording for every command.

The core catches ``OSError`` (and, for gzip data, ``EOFError``/``zlib.error``) where a file
is touched and raises what these functions build: an InputError (a WriteError for writes)
whose message names the file and the reason in lower case, ready to print after ``Error:``.
"""

from __future__ import annotations

from osreplay.errors import InputError, WriteError


def os_reason(exc: BaseException) -> str:
    """``Permission denied`` -> ``permission denied``; other errors as they read."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc)


def open_error(what: str, exc: OSError) -> InputError:
    """``what`` (a path, or ``schema PATH``) cannot be opened for reading."""
    if isinstance(exc, IsADirectoryError):
        return InputError(f"cannot read {what}: it is a directory")
    if isinstance(exc, FileNotFoundError):
        return InputError(f"cannot open {what}: no such file")
    if isinstance(exc, PermissionError):
        return InputError(f"cannot open {what}: permission denied")
    return InputError(f"cannot open {what}: {os_reason(exc)}")


def read_error(what: str, exc: BaseException, *, after_line: int | None = None) -> InputError:
    """Reading ``what`` failed (an I/O error, a broken gzip stream), after ``after_line``."""
    where = what if after_line is None else f"{what} after line {after_line}"
    return InputError(f"cannot read {where}: {os_reason(exc)}")


def write_error(what: str, exc: OSError, *, opening: bool = False) -> WriteError:
    """``what`` cannot be written (or, ``opening``, created or opened for writing)."""
    if opening and isinstance(exc, FileNotFoundError):
        return WriteError(f"cannot write {what}: its directory does not exist")
    if isinstance(exc, IsADirectoryError):
        return WriteError(f"cannot write {what}: it is a directory")
    if isinstance(exc, PermissionError):
        return WriteError(f"cannot write {what}: permission denied")
    return WriteError(f"cannot write {what}: {os_reason(exc)}")


__all__ = ["open_error", "os_reason", "read_error", "write_error"]
