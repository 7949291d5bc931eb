"""Which files a command reads, and how a file that cannot be opened is told.

:func:`expand_inputs` turns the FILE arguments of every command that reads recordings
into the files to read, in order: an existing path is itself (``-`` is standard input), a
folder is its ``*.ndjson`` and ``*.ndjson.gz`` files (sorted, hidden ones left out), and
anything else holding ``*``, ``?`` or ``[`` is a glob expanded in sorted order, as the
shell would (quoted, so osreplay expands it: ``'cap-*.ndjson.gz'``). A folder without a
recording or a glob (with ``*`` or ``?``) matching nothing is a UsageError naming it.

The core catches ``OSError`` (and, for gzip data, ``EOFError``/``zlib.error``) where a file
is touched and raises what these functions build: an InputError (a WriteError for writes)
whose message names the file and the reason in lower case, ready to print after ``Error:``.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable

from osreplay.errors import InputError, UsageError, WriteError

#: What a folder given as FILE contributes: its recordings, sorted by name.
FOLDER_PATTERNS = ("*.ndjson", "*.ndjson.gz")


def expand_inputs(arguments: Iterable[str]) -> tuple[str, ...]:
    """The files to read for ``arguments``: paths as given, folders and globs expanded.

    A path that does not exist and is no glob is kept: reading it reports it missing.
    """
    files: list[str] = []
    for argument in arguments:
        if argument == "-" or (os.path.lexists(argument) and not os.path.isdir(argument)):
            files.append(argument)
        elif os.path.isdir(argument):
            files.extend(_folder(argument))
        elif glob.has_magic(argument):
            files.extend(_glob(argument))
        else:
            files.append(argument)
    return tuple(files)


def _folder(folder: str) -> list[str]:
    found = sorted(
        path
        for pattern in FOLDER_PATTERNS
        for path in glob.glob(os.path.join(folder, pattern))
        if not os.path.isdir(path)
    )
    if not found:
        raise UsageError(
            f"{folder} is a folder without recordings (no *.ndjson or *.ndjson.gz file in it)"
        )
    return found


def _glob(pattern: str) -> list[str]:
    """A glob's matches in sorted order; a folder among them gives its recordings.

    A name whose only magic is ``[…]`` and that matches nothing is more likely a missing
    file than a pattern: it is kept, and reading it says so.
    """
    matches = sorted(glob.glob(pattern))
    if not matches:
        if "*" not in pattern and "?" not in pattern:
            return [pattern]
        raise UsageError(f"no file matches {pattern}")
    files: list[str] = []
    for match in matches:
        files.extend(_folder(match) if os.path.isdir(match) else [match])
    return files


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


__all__ = [
    "FOLDER_PATTERNS",
    "expand_inputs",
    "open_error",
    "os_reason",
    "read_error",
    "write_error",
]
