"""Reading NDJSON recordings (writing them: :mod:`osreplay.model.writer`).

A recording is one JSON object per line, UTF-8, ``\\n`` line ends. ``-`` is standard
input or output; a path ending in ``.gz`` is read and written gzip-compressed (appending
to a ``.gz`` file adds a gzip member, which every gzip reader handles).

Reading streams: each non-blank line becomes a :class:`Line` with its 1-based number and
either the parsed object or the reason it is unreadable. Nothing here raises for bad
content; only a file that cannot be opened or read raises :class:`InputError`.

A line longer than ``max_line_bytes`` (:data:`DEFAULT_MAX_LINE_BYTES`, 32 MiB, unless the
caller says otherwise) is unreadable: it is skipped in chunks, never held whole, so one
huge line (or a small ``.gz`` that inflates to one) cannot exhaust memory.
"""

from __future__ import annotations

import gzip
import os
import stat
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from osreplay.errors import InputError
from osreplay.model.files import open_error, read_error
from osreplay.model.notification import TOO_DEEP, loads, may_nest_too_deep, nests_too_deep

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a declared dependency
    orjson = None  # type: ignore[assignment]

STDIN_NAME = "<stdin>"
_PREVIEW = 60
#: The longest line read by default (``--max-line-bytes``); a longer one is unreadable.
DEFAULT_MAX_LINE_BYTES = 32 * 1024 * 1024
# How much of an over-long line is read at a time while skipping it.
_SKIP_CHUNK = 1024 * 1024


@dataclass(slots=True)
class Line:
    """One non-blank line of a recording: the parsed object, or why it is unreadable."""

    path: str
    lineno: int
    obj: dict[str, Any] | None
    error: str | None = None


def display_name(path: str) -> str:
    return STDIN_NAME if path == "-" else path


# The gzip magic number and its one compression method (deflate): what a gzip stream
# starts with, and no NDJSON line does (0x1f is a control character, 0x8b not UTF-8).
_GZIP_MAGIC = b"\x1f\x8b\x08"


class _GzipSource(gzip.GzipFile):
    """A gzip stream over a file object it owns: closing it closes that file too."""

    def __init__(self, source: IO[bytes]) -> None:
        super().__init__(fileobj=source, mode="rb")
        self._source = source

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._source is not sys.stdin.buffer:
                self._source.close()


def _peek(source: IO[bytes], size: int) -> bytes:
    """The next ``size`` bytes without taking them (b"" where the stream cannot peek).

    Never on a terminal: a person types there, and a Ctrl-D read by the peek would be
    gone for the reader.
    """
    peek = getattr(source, "peek", None)
    if peek is None or source.isatty():
        return b""
    return peek(size)[:size]  # type: ignore[no-any-return]


def open_binary(path: str) -> IO[bytes]:
    """Open a recording for reading; raise InputError naming the file and the reason.

    A ``.gz`` name, or gzip data under any name (``<(gzip -c …)``, a pipe on standard
    input), is decompressed; the first bytes are only peeked at, never taken from a stream.
    """
    try:
        source: IO[bytes] = sys.stdin.buffer if path == "-" else open(path, "rb")
        try:
            if path.endswith(".gz") or _peek(source, 3) == _GZIP_MAGIC:
                handle: IO[bytes] = _GzipSource(source)  # type: ignore[assignment]
                handle.peek(1)  # type: ignore[attr-defined]  # fail now on a non-gzip file
                return handle
        except BaseException:
            if source is not sys.stdin.buffer:
                source.close()
            raise
        return source
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read {path}: not a gzip file ({exc})") from None
    except OSError as exc:
        raise open_error(path, exc) from None


def check_readable(path: str) -> None:
    """Raise InputError now if ``path`` cannot be read, without consuming a stream.

    A regular ``.gz`` file is opened and its gzip header checked; anything else is only
    checked for permission: reading a FIFO, a pipe from process substitution or a device,
    even a byte, would take that byte from the run that follows, and gzip data found
    under another name is reported by the run itself (the JSON report stays whole).
    """
    if path == "-":
        return
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise open_error(path, exc) from None
    if stat.S_ISDIR(mode) or (stat.S_ISREG(mode) and path.endswith(".gz")):
        open_binary(path).close()
    elif not os.access(path, os.R_OK):
        raise InputError(f"cannot open {path}: permission denied")


def too_long(max_line_bytes: int) -> str:
    """Why a line over the cap is unreadable, naming the option that raises it."""
    return f"line longer than {format_size(max_line_bytes)}, not read (see --max-line-bytes)"


def format_size(size: int) -> str:
    """``33554432`` -> ``32 MiB``; sizes that are not whole KiB or MiB in bytes."""
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"


def iter_raw_lines(
    handle: IO[bytes], max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
) -> Iterator[bytes | None]:
    """Each line's bytes (newline included), or None for a line over ``max_line_bytes``.

    An over-long line is read and dropped a chunk at a time: memory stays bounded by the
    cap, whatever the file holds.
    """
    readline = handle.readline
    limit = max_line_bytes + 1  # the newline does not count
    while True:
        raw = readline(limit)
        if len(raw) < limit or raw[-1] == 10:  # 10 is b"\n"
            if not raw:
                return
            yield raw
            continue
        del raw
        skip_line(handle)
        yield None


def skip_bom(handle: IO[bytes]) -> None:
    """Take a UTF-8 byte-order mark from the start of ``handle``: some editors write one,
    and it is no part of the first record (nothing is taken from a stream without it)."""
    if _peek(handle, len(BOM)) == BOM:
        handle.read(len(BOM))


def skip_line(handle: IO[bytes]) -> None:
    """Read and drop the rest of a line, a chunk at a time (never held whole)."""
    while True:
        chunk = handle.readline(_SKIP_CHUNK)
        if not chunk or chunk[-1] == 10:
            return


# orjson reads an integer beyond 64 bits as a float (1e29 for 100…0): a run of 19 or more
# digits sends the line to the stdlib parser, which keeps every integer exact. Mapping
# digits to "0" and the rest to " " and searching is ten times cheaper than a regex.
# A UTF-8 byte-order mark, which some editors put at the start of a file.
BOM = b"\xef\xbb\xbf"

_DIGITS_ONLY = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_RUN = b"0" * 19


def fast_loads(raw: bytes) -> Any:
    """Parse with orjson when that is exact; None when the slow path must decide.

    orjson is twice the stdlib's speed and refuses NaN, Infinity and invalid UTF-8 as
    JSON does; anything it refuses, and any line with a long digit run, goes through
    :func:`parse_line`'s stdlib path, so the result never depends on the parser.
    """
    if orjson is None or _LONG_RUN in raw.translate(_DIGITS_ONLY):
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def parse_line(raw: bytes, *, last: bool = False) -> tuple[dict[str, Any] | None, str | None]:
    """Parse one line's bytes; return ``(obj, None)`` or ``(None, reason)``."""
    obj = fast_loads(raw)
    if obj.__class__ is dict:
        if may_nest_too_deep(raw) and nests_too_deep(obj):
            return None, TOO_DEEP
        return obj, None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"invalid UTF-8 at byte {exc.start + 1}"
    try:
        obj = loads(text)
    except RecursionError:
        return None, TOO_DEEP
    except ValueError as exc:
        if "is not JSON" in str(exc) or "too large for a double" in str(exc):
            return None, f"not valid JSON: {exc}"
        if last:
            return None, "truncated last line (no newline at end of file, not valid JSON)"
        return None, f"not valid JSON: {_short(str(exc))} ({_preview(text)})"
    if not isinstance(obj, dict):
        return None, f"not a JSON object (a JSON {_json_kind(obj)})"
    if may_nest_too_deep(raw) and nests_too_deep(obj):
        return None, TOO_DEEP
    return obj, None


def is_document(path: str) -> bool:
    """A ``.json`` file holds one JSON document (a pretty-printed sample), not NDJSON."""
    return path.endswith((".json", ".json.gz"))


def read_document(path: str, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Line:
    """Read a whole ``.json`` file as one record, at line 1 (an unreadable one at the line
    of its syntax error); a file over ``max_line_bytes`` is unreadable, not read further."""
    handle = open_binary(path)
    try:
        data = handle.read(max_line_bytes + 1)
        if len(data) > max_line_bytes:
            return Line(path, 1, None, too_long(max_line_bytes).replace("line", "document", 1))
    except (OSError, EOFError, zlib.error) as exc:
        raise read_error(path, exc) from None
    finally:
        handle.close()
    obj, error = parse_line(data[len(BOM) :] if data.startswith(BOM) else data)
    lineno = 1
    if obj is None:  # name the line of the syntax error in a pretty-printed document
        from osreplay.model.locate import syntax_error_line  # loaded for documents only

        try:
            lineno = syntax_error_line(data.decode("utf-8")) or 1
        except UnicodeDecodeError:
            pass
    return Line(path, lineno, obj, error)


def read_lines(path: str, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[Line]:
    """Yield each non-blank line of ``path`` (``-`` for stdin), streaming.

    A ``.json`` file is read whole as one record (see :func:`is_document`). A line over
    ``max_line_bytes`` is unreadable (never held whole).
    """
    if is_document(path):
        yield read_document(path, max_line_bytes)
        return
    for name, lineno, obj, error in iter_lines(path, max_line_bytes):
        yield Line(name, lineno, obj, error)


#: One line as :func:`iter_lines` yields it: ``(name, lineno, obj, error)``, as in Line.
LineTuple = tuple[str, int, "dict[str, Any] | None", "str | None"]


def iter_lines(path: str, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[LineTuple]:
    """:func:`read_lines` of an NDJSON file as plain tuples, for the hot loop of validate.

    The one reader of NDJSON lines: blank lines skipped, the common line parsed once with
    orjson, a bad one worded by :func:`parse_line`, an over-long one unreadable.
    """
    name = display_name(path)
    handle = open_binary(path)
    try:
        lineno = 0
        try:
            skip_bom(handle)
            for raw in iter_raw_lines(handle, max_line_bytes):
                lineno += 1
                if raw is None:
                    yield name, lineno, None, too_long(max_line_bytes)
                    continue
                obj = fast_loads(raw)
                if obj.__class__ is dict and not may_nest_too_deep(raw):
                    # the common case, without parse_line's checks
                    yield name, lineno, obj, None
                    continue
                if not raw.strip():
                    continue
                obj, error = parse_line(raw, last=not raw.endswith(b"\n"))
                yield name, lineno, obj, error
        except (OSError, EOFError, zlib.error) as exc:
            raise read_error(name, exc, after_line=lineno) from None
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()


def _short(message: str) -> str:
    return message.split(":", 1)[0] if len(message) > 80 else message


def _preview(text: str) -> str:
    """The start of an unreadable line, to quote in a message: secrets in it masked.

    Masked before it is cut, over a wider window, so that a token the cut would split is
    still recognised by its key (``"auth_token": "gAAAA…``).
    """
    from osreplay.secrets.rules import mask_text  # the rules load oslo.utils' word list

    text = mask_text(text.strip()[: _PREVIEW * 8])
    return repr(text if len(text) <= _PREVIEW else text[:_PREVIEW] + "…")


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


__all__ = [
    "BOM",
    "DEFAULT_MAX_LINE_BYTES",
    "Line",
    "check_readable",
    "display_name",
    "fast_loads",
    "format_size",
    "is_document",
    "iter_lines",
    "iter_raw_lines",
    "open_binary",
    "parse_line",
    "read_document",
    "read_lines",
    "skip_bom",
    "skip_line",
    "too_long",
]
