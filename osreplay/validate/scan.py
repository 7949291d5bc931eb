"""The hot loop of ``osreplay validate``: a line that is a valid record is only counted.

Most lines of a recording are valid records. :func:`count_file` reads an NDJSON file as
osreplay.model.ndjson does (``readline`` capped at ``max_line_bytes``, an over-long line
skipped a chunk at a time), parses each line once with orjson and asks the compiled
checks (:meth:`Validator.fast_schema`); a record they accept is counted in the Summary,
with no Verdict built. Every other line (blank, unreadable, over-long, or a record the
checks do not accept) goes through :meth:`Validator.line_verdict`, the path
:meth:`Validator.validate_file` takes, so verdicts, messages and line numbers are the
same as there.

Parsing: orjson reads an integer beyond 64 bits as a float, and may round a float of 19
or more digits otherwise than Python does; the exact parse
(osreplay.model.ndjson.fast_loads) sends such lines to the stdlib parser. The generated
nova and ironic schemas test integers (``1.0`` is one, ``1.5`` is not), so the loop parses
exactly up front (``Validator.number_blind`` is False); were no shipped check to tell two
numbers of one type apart (see ``compiler.tells_numbers_apart``), orjson alone would do,
its yes being the same for either parse.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Callable
from typing import IO, Any

from osreplay.model.files import read_error
from osreplay.model.ndjson import (
    display_name,
    fast_loads,
    is_document,
    open_binary,
    skip_bom,
    skip_line,
    too_long,
)
from osreplay.model.notification import may_nest_too_deep
from osreplay.validate.validator import Validator
from osreplay.validate.verdicts import VALID, Summary, Verdict, unreadable

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a declared dependency
    orjson = None  # type: ignore[assignment]

#: ``progress(name, records)`` is called every this many lines (a power of two).
PROGRESS_EVERY = 1024
_READ_ERRORS = (OSError, EOFError, zlib.error)


def count_file(
    validator: Validator,
    path: str,
    summary: Summary,
    tell: Callable[[Verdict], None],
    progress: Callable[[str, int], None],
) -> None:
    """Validate ``path`` into ``summary``; ``tell`` gets every Verdict that was built.

    A line the compiled checks accept is only counted; every other non-blank line gets
    a Verdict, added to ``summary`` and told, in line order. ``-`` is stdin, gzip is
    read transparently, a ``.json`` file is one document (Validator.validate_file).
    Raises InputError when the file cannot be opened or read (the summary then counts
    the lines before).
    """
    if is_document(path):
        for verdict in validator.validate_file(path):
            summary.add(verdict)
            tell(verdict)
        return
    handle = open_binary(path)
    try:
        skip_bom(handle)
        _count_lines(validator, handle, display_name(path), summary, tell, progress)
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()


def _count_lines(
    validator: Validator,
    handle: IO[bytes],
    name: str,
    summary: Summary,
    tell: Callable[[Verdict], None],
    progress: Callable[[str, int], None],
) -> None:
    readline = handle.readline
    max_line_bytes = validator.max_line_bytes
    limit = max_line_bytes + 1  # the newline does not count
    exact = orjson is None or not validator.number_blind
    loads: Callable[[bytes], Any] = fast_loads if exact else orjson.loads
    fast, no_payload_schema = validator.fast_schema, validator.no_payload_schema
    every = PROGRESS_EVERY - 1
    lineno = valid = no_schema = 0
    by_schema: dict[tuple[str, ...], int] = {}  # valid lines by the schemas they passed
    try:
        while True:
            try:
                raw = readline(limit)
            except _READ_ERRORS as exc:
                raise read_error(name, exc, after_line=lineno) from None
            if not raw:
                return
            lineno += 1
            if not lineno & every:
                progress(name, summary.records + valid + no_schema)
            if len(raw) == limit and raw[-1] != 10:  # 10 is b"\n"
                del raw
                try:
                    skip_line(handle)
                except _READ_ERRORS as exc:
                    raise read_error(name, exc, after_line=lineno) from None
                verdict = unreadable(name, lineno, too_long(max_line_bytes))
            else:
                try:
                    obj = loads(raw)
                except ValueError:  # orjson.JSONDecodeError: the exact parse words it
                    obj = None
                if obj.__class__ is dict and not may_nest_too_deep(raw):
                    used = fast(obj)
                    if used is not None:
                        if used is no_payload_schema:
                            no_schema += 1
                        else:
                            valid += 1
                            by_schema[used] = by_schema.get(used, 0) + 1
                        continue
                elif not raw.strip():
                    continue
                verdict = validator.line_verdict(raw, name, lineno)
            summary.add(verdict)
            tell(verdict)
    finally:
        _add_counted(summary, valid, no_schema, by_schema)


def _add_counted(
    summary: Summary, valid: int, no_schema: int, by_schema: dict[tuple[str, ...], int]
) -> None:
    """Add the lines that were only counted to ``summary``."""
    summary.records += valid + no_schema
    summary.valid += valid
    summary.no_schema += no_schema
    for used, count in by_schema.items():
        summary.count_schemas(used, VALID, count)


__all__ = ["PROGRESS_EVERY", "count_file"]
