"""``record --rotate``: what a rotation is asked (limits, file names, where it starts).

A rotated recording is a series of files named by a pattern (``cap-{n:05d}.ndjson.gz``,
or ``osreplay-{n:05d}.ndjson`` inside a folder). The writer of such a series
(:class:`osreplay.tap.rotating.RotatingWriter`) stands where a
:class:`~osreplay.model.writer.RecordingWriter` would: the single writer thread
(:class:`osreplay.tap.sink.LineSink`) writes each group of batches whole into the file that
is open, acks it, and only then, between groups, asks the writer whether that file is
full or old enough to be closed. A closed file is complete (a ``.gz``
has its trailer); the next one is opened with the next group. So a line is in exactly one
file, and nothing is acked before its file holds it.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from osreplay.errors import UsageError
from osreplay.model.output import check_folder
from osreplay.model.repair import DEDUP_WINDOW, DeliveryKey, prepare_append

#: The file name inside a folder given as ``-o``.
DEFAULT_NAME = "osreplay-{n:05d}.ndjson"
#: ``{time}`` without a format: ``20240131T120000Z``.
DEFAULT_TIME_FORMAT = "%Y%m%dT%H%M%SZ"

SIZE_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)", re.IGNORECASE)
# Lower case only: 256M is not 256 minutes.
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_DURATION = re.compile(rf"(?:{_DURATION_PART.pattern})+")
_FIELDS = (
    "{n} (the file's number, e.g. {n:05d}) and {time} (when it was opened, UTC, e.g. "
    "{time:%Y%m%d-%H%M%S})"
)


@dataclass(frozen=True)
class RotateLimits:
    """When a file is closed: past ``size`` bytes on disk, or ``seconds`` after it opened."""

    size: int | None = None
    seconds: float | None = None


def parse_rotate(values: Sequence[str]) -> RotateLimits | None:
    """``["256MB", "1h"]`` -> the limits; None when ``values`` is empty.

    Sizes: ``B``, ``KB``/``MB``/``GB``/``TB`` (powers of 1000), ``KiB``/``MiB``/``GiB``/
    ``TiB`` (powers of 1024), any case. Durations: ``s``, ``m``, ``h``, ``d`` (lower
    case), also combined (``1h30m``). At most one of each.
    """
    size: int | None = None
    seconds: float | None = None
    for value in values:
        parsed = _parse_one(value)
        if isinstance(parsed, int):
            if size is not None:
                raise UsageError(f"--rotate {value}: give at most one size and one duration")
            size = parsed
        else:
            if seconds is not None:
                raise UsageError(f"--rotate {value}: give at most one size and one duration")
            seconds = parsed
    if size is None and seconds is None:
        return None
    return RotateLimits(size=size, seconds=seconds)


def _parse_one(value: str) -> int | float:
    """A size in bytes (int) or a duration in seconds (float)."""
    text = value.strip()
    if _DURATION.fullmatch(text):
        seconds = sum(
            float(number) * DURATION_UNITS[unit] for number, unit in _DURATION_PART.findall(text)
        )
        if seconds > 0:
            return seconds
    else:
        match = _SIZE.fullmatch(text)
        if match and match.group(2).lower() in SIZE_UNITS:
            size = int(float(match.group(1)) * SIZE_UNITS[match.group(2).lower()])
            if size > 0:
                return size
    raise UsageError(
        f"--rotate {value}: give a size with its unit (100KB, 256MB, 1GiB) or a duration "
        "(90s, 30m, 1h, 1d), more than zero"
    )


# --- file names ------------------------------------------------------------------------


class _Time:
    """``{time:FORMAT}``: strftime of the opening time; ``{time}`` alone is
    :data:`DEFAULT_TIME_FORMAT`."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __format__(self, spec: str) -> str:
        return self.moment.strftime(spec or DEFAULT_TIME_FORMAT)


@dataclass(frozen=True)
class FilePattern:
    """Where the files of a rotated recording go: ``folder/name`` with ``{n}`` in ``name``."""

    folder: str
    name: str

    @property
    def text(self) -> str:
        return os.path.join(self.folder, self.name) if self.folder else self.name

    def path(self, n: int, opened: datetime) -> str:
        name = self.name.format(n=n, time=_Time(opened))
        return os.path.join(self.folder, name) if self.folder else name

    def existing(self) -> list[tuple[int, str]]:
        """The files already there that the pattern names, as (n, path), by n."""
        matcher = re.compile(_name_regex(self.name))
        try:
            names = os.listdir(self.folder or ".")
        except OSError:
            return []
        found = []
        for name in names:
            match = matcher.fullmatch(name)
            if match:
                path = os.path.join(self.folder, name) if self.folder else name
                found.append((int(match.group("n")), path))
        return sorted(found)


def file_pattern(output: str) -> FilePattern:
    """The pattern ``-o`` names: a folder (files :data:`DEFAULT_NAME` in it) or a path whose
    file name holds ``{n}``. Raises UsageError for anything else."""
    if output == "-":
        raise UsageError(
            "--rotate needs -o naming a folder or a file pattern with {n}, e.g. "
            "-o cap-{n:05d}.ndjson.gz (standard output cannot be rotated)"
        )
    if os.path.isdir(output):
        return FilePattern(output, DEFAULT_NAME)
    _fields(output, output)
    folder, name = os.path.split(output)
    if not name:
        raise UsageError(f"-o {output}: no such folder (--rotate writes into an existing one)")
    if "n" not in _fields(output, name):
        raise UsageError(
            f"-o {output}: --rotate needs -o naming an existing folder or a file pattern "
            "with {n}, e.g. -o cap-{n:05d}.ndjson.gz"
        )
    if _fields(output, folder):
        raise UsageError(f"-o {output}: put {{n}} and {{time}} in the file name, not the folder")
    if folder and not os.path.isdir(folder):
        raise UsageError(f"-o {output}: no such folder {folder}")
    pattern = FilePattern(folder, name)
    sample = pattern.path(1, datetime(2024, 12, 31, 23, 59, 59, tzinfo=timezone.utc))
    if os.path.dirname(sample) != folder:
        raise UsageError(f"-o {output}: {{time}} must not put a {os.sep} in the file name")
    return pattern


def _fields(output: str, text: str) -> set[str]:
    """The fields of ``text``, checked: only ``n`` (a width) and ``time``, no conversion."""
    fields: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise UsageError(f"-o {output}: {exc} (write {{{{ and }}}} for a literal brace)") from None
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in ("n", "time") or conversion:
            raise UsageError(f"-o {output}: unknown field {{{field}}}: use {_FIELDS}")
        if field == "n" and not re.fullmatch(r"0?\d*d?", spec or ""):
            raise UsageError(f"-o {output}: {{n:{spec}}}: give {{n}} a width only, e.g. {{n:05d}}")
        if spec and "{" in spec:
            raise UsageError(f"-o {output}: nested fields are not supported")
        if spec and os.sep in spec:
            raise UsageError(f"-o {output}: {{{field}}} must not put a / in the file name")
        fields.add(field)
    return fields


def _name_regex(name: str) -> str:
    parts = []
    seen_n = False
    for literal, field, _spec, _conversion in string.Formatter().parse(name):
        parts.append(re.escape(literal))
        if field == "n":
            parts.append("(?P=n)" if seen_n else r"(?P<n>\d+)")
            seen_n = True
        elif field == "time":
            parts.append(".+?")
    return "".join(parts)


@dataclass(frozen=True)
class RotationPlan:
    """A rotated recording about to start: its pattern, limits and first number, and the
    files of an earlier run it continues after (``--append``)."""

    pattern: FilePattern
    limits: RotateLimits
    first: int
    earlier: list[str]


def plan_rotation(output: str, rotate: Sequence[str], *, append: bool) -> RotationPlan | None:
    """What ``--rotate`` asks; None without it. Refuses (UsageError) before anything opens."""
    limits = parse_rotate(rotate)
    if limits is None:
        return None
    pattern = file_pattern(output)
    check_folder(pattern.folder, what=output)  # before the broker is asked anything
    existing = pattern.existing()
    if existing and not append:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise UsageError(
            f"-o {output}: {existing[0][1]} already exists{more}: remove it, choose another "
            f"-o, or add --append to go on after {existing[-1][1]}"
        )
    first = existing[-1][0] + 1 if existing else 1
    return RotationPlan(pattern, limits, first, [path for _n, path in existing])


def earlier_deliveries(plan: RotationPlan, *, window: int = DEDUP_WINDOW) -> list[DeliveryKey]:
    """The last ``window`` deliveries in the files ``plan`` goes on after (``--append``),
    newest last; a file a killed recorder cut short is repaired first."""
    keys: list[DeliveryKey] = []
    for path in reversed(plan.earlier):
        keys = prepare_append(path, window=window) + keys
        if len(keys) >= window:
            break
    return keys[-window:]


__all__ = [
    "DEFAULT_NAME",
    "DEFAULT_TIME_FORMAT",
    "FilePattern",
    "RotateLimits",
    "RotationPlan",
    "earlier_deliveries",
    "file_pattern",
    "parse_rotate",
    "plan_rotation",
]
