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
    verb = "read" if isinstance(exc, IsADirectoryError) else "open"
    return InputError(f"cannot {verb} {what}: {_why(exc, missing='no such file')}")


def read_error(what: str, exc: BaseException, *, after_line: int | None = None) -> InputError:
    """Reading ``what`` failed (an I/O error, a broken gzip stream), after ``after_line``."""
    where = what if after_line is None else f"{what} after line {after_line}"
    return InputError(f"cannot read {where}: {os_reason(exc)}")


def write_error(what: str, exc: OSError, *, opening: bool = False) -> WriteError:
    """``what`` cannot be written (or, ``opening``, created or opened for writing)."""
    missing = "its directory does not exist" if opening else os_reason(exc)
    return WriteError(f"cannot write {what}: {_why(exc, missing=missing)}")


def _why(exc: OSError, *, missing: str) -> str:
    if isinstance(exc, IsADirectoryError):
        return "it is a directory"
    if isinstance(exc, FileNotFoundError):
        return missing
    if isinstance(exc, PermissionError):
        return "permission denied"
    return os_reason(exc)


__all__ = ["open_error", "os_reason", "read_error", "write_error"]
