"""Rewriting records on replay: fresh ids, moved timestamps, fields set by the user.

A :class:`Rewriter` is applied by the replayer to each record just before it is sent
(and in a dry run, before it is shown); it returns a new record, never changes the one
given (a looped file reuses its records).

* ``fresh_ids`` (``--fresh-ids``): every UUID, with or without dashes (so request ids
  ``req-<uuid>`` too), anywhere in the record is replaced by a new random UUID of the
  same spelling, the same one for the same original within a pass (a chain stays
  linked) and another one in each pass of ``--loop``.
* ``retime`` (``--retime``): every date-time string (ISO 8601, oslo's
  ``2023-07-07 15:52:00.496156``, with or without fraction and offset) moves by one
  offset per pass, chosen when the pass's first record is sent so that its time
  (``timestamp``, else ``recorded_at``, else its first date-time) is that moment; the
  gaps between values are kept, and each value keeps its format. Date-only values are
  left alone.
* ``sets`` (``--set JSONPATH=VALUE``): the field at the path is overwritten in every
  record where the path exists; paths are ``$.a.b``, ``$.a[0]``, ``$['key.with.dots']``,
  the ``$.`` optional (``a.b``) as in ``diff --ignore``; a path no record has is reported.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from osreplay.errors import UsageError
from osreplay.model.notification import Notification, RecordError
from osreplay.secrets.pseudonym import UUID, Pseudonymiser, new_key

PathPart = str | int

_DATETIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})([T ])(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?"
)
_NAME_RE = re.compile(r"[^.\[\]=]+")
_INDEX_RE = re.compile(r"\[(\d+)\]")
_QUOTED_RE = re.compile(r"""\[(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\]""")


class RewriteError(UsageError):
    """A rewrite that cannot be applied (a --set that makes a record unreadable)."""


# --- --set -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetField:
    """One ``--set``: where (path parts after ``$``), the new value, and the option text."""

    path: tuple[PathPart, ...]
    value: Any
    text: str


def parse_set(text: str) -> SetField:
    """Read ``JSONPATH=VALUE``; the value is JSON when it parses, else the string."""
    path, rest = _parse_path(text)
    if not rest.startswith("="):
        raise UsageError(
            f"--set {text}: give JSONPATH=VALUE, e.g. --set '$.payload.tenant_id=test-project'"
        )
    raw = rest[1:]
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return SetField(path, value, text)


def _parse_path(option: str) -> tuple[tuple[PathPart, ...], str]:
    # Written as diff --ignore and validate write paths, with or without the leading `$.`.
    text = option if option.startswith("$") else ("$" if option.startswith("[") else "$.") + option
    parts: list[PathPart] = []
    pos = 1
    while pos < len(text) and text[pos] != "=":
        if text[pos] == ".":
            match = _NAME_RE.match(text, pos + 1)
            if match is None:
                break
            parts.append(match.group())
        elif (match := _INDEX_RE.match(text, pos)) is not None:
            parts.append(int(match.group(1)))
        elif (match := _QUOTED_RE.match(text, pos)) is not None:
            quoted = match.group(1) if match.group(1) is not None else match.group(2)
            parts.append(re.sub(r"\\(.)", r"\1", quoted))
        else:
            break
        pos = match.end()
    if not parts:
        raise UsageError(f"--set {option}: name a field below $ (e.g. payload.tenant_id)")
    return tuple(parts), text[pos:]


def apply_set(obj: dict[str, Any], field: SetField) -> bool:
    """Overwrite the field in ``obj`` (in place) if its path exists; True when it did."""
    target: Any = obj
    *parents, last = field.path
    for part in parents:
        target = _child(target, part)
        if target is _MISSING:
            return False
    if isinstance(last, int):
        if isinstance(target, list) and last < len(target):
            target[last] = field.value
            return True
        return False
    if isinstance(target, dict) and last in target:
        target[last] = field.value
        return True
    return False


_MISSING = object()


def _child(value: Any, part: PathPart) -> Any:
    if isinstance(part, int):
        return value[part] if isinstance(value, list) and part < len(value) else _MISSING
    return value.get(part, _MISSING) if isinstance(value, dict) else _MISSING


# --- --retime --------------------------------------------------------------------------


def parse_datetime(text: str) -> datetime | None:
    """A date-time string as a datetime (naive when it has no offset); None when it is not."""
    match = _DATETIME_RE.fullmatch(text)
    return None if match is None else _from_match(match)


def _from_match(match: re.Match[str]) -> datetime | None:
    year, month, day, _sep, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        value = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro
        )
    except ValueError:
        return None
    if zone is None:
        return value
    if zone == "Z":
        return value.replace(tzinfo=timezone.utc)
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
    return value.replace(tzinfo=timezone(-offset if zone[0] == "-" else offset))


def shift_datetime(text: str, delta: timedelta) -> str:
    """``text`` moved by ``delta`` in the same format; unchanged when not a date-time."""
    match = _DATETIME_RE.fullmatch(text)
    if match is None:
        return text
    value = _from_match(match)
    if value is None:
        return text
    try:
        moved = value + delta
    except OverflowError:
        return text
    _y, _m, _d, sep, _h, _mi, second, fraction, zone = match.groups()
    out = f"{moved:%Y-%m-%d}{sep}{moved:%H:%M}"
    if second is not None:
        out += f":{moved:%S}"
        if fraction is not None:
            out += "." + f"{moved.microsecond:06d}".ljust(len(fraction), "0")[: len(fraction)]
    return out + (zone or "")


def as_utc(value: datetime) -> datetime:
    """Naive means UTC, as everywhere in osreplay."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _datetimes(value: Any) -> Iterator[datetime]:
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is not None:
            yield parsed
    elif isinstance(value, dict):
        for item in value.values():
            yield from _datetimes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _datetimes(item)


def _shift_all(value: Any, delta: timedelta) -> Any:
    if isinstance(value, str):
        if len(value) >= 16 and value[4:5] == "-":
            return shift_datetime(value, delta)
        return value
    if isinstance(value, dict):
        return {key: _shift_all(item, delta) for key, item in value.items()}
    if isinstance(value, list):
        return [_shift_all(item, delta) for item in value]
    return value


# --- the rewriter ------------------------------------------------------------------------


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def clock_now(seconds: Callable[[], float]) -> Callable[[], datetime]:
    """Now, moved on as ``seconds`` (a dry run's virtual clock) moves: planned times."""
    started = _utcnow()
    origin = seconds()
    return lambda: started + timedelta(seconds=seconds() - origin)


class Rewriter:
    """Applies ``--fresh-ids``, ``--retime`` and ``--set`` to each record sent.

    ``now`` is the clock for ``--retime`` (aware UTC); a dry run passes its virtual one.
    """

    def __init__(
        self,
        *,
        fresh_ids: bool = False,
        retime: bool = False,
        sets: Sequence[SetField] = (),
        now: Callable[[], datetime] = _utcnow,
        new_key: Callable[[], bytes] = new_key,
    ) -> None:
        self.fresh_ids = fresh_ids
        self.retime = retime
        self.sets = tuple(sets)
        self.now = now
        self._new_key = new_key
        self._pass_no: int | None = None
        self._ids: Pseudonymiser | None = None
        self._delta: timedelta | None = None
        #: How many records each --set changed (by its option text).
        self.matched: dict[str, int] = {field.text: 0 for field in self.sets}

    @property
    def active(self) -> bool:
        return self.fresh_ids or self.retime or bool(self.sets)

    @classmethod
    def from_options(
        cls, *, fresh_ids: bool = False, retime: bool = False, sets: Iterable[str] = ()
    ) -> Rewriter:
        return cls(fresh_ids=fresh_ids, retime=retime, sets=[parse_set(text) for text in sets])

    def unmatched(self) -> list[str]:
        """The --set options whose path exists in no record rewritten so far."""
        return [text for text, count in self.matched.items() if count == 0]

    def __call__(self, note: Notification, pass_no: int = 1) -> Notification:
        """A rewritten copy of ``note``, sent in pass ``pass_no`` (1-based)."""
        if pass_no != self._pass_no:
            self._pass_no = pass_no
            self._ids = Pseudonymiser(self._new_key(), kinds={UUID}) if self.fresh_ids else None
            self._delta = None
        obj = note.to_dict()
        if self._ids is not None:
            obj = self._ids.record(obj)
        if self.retime:
            if self._delta is None:
                anchor = note.sent_at or next(_datetimes(obj), None)
                if anchor is not None:
                    self._delta = self.now() - as_utc(anchor)
            if self._delta is not None:
                obj = _shift_all(obj, self._delta)
        if self.sets:
            obj = copy.deepcopy(obj)  # --set changes it in place: never the file's record
            for field in self.sets:
                if apply_set(obj, field):
                    self.matched[field.text] += 1
        try:
            return Notification.from_dict(obj)
        except RecordError as exc:
            options = " ".join(f"--set {field.text}" for field in self.sets)
            raise RewriteError(f"{options} makes a record unreadable: {exc}") from None


__all__ = [
    "RewriteError",
    "Rewriter",
    "SetField",
    "apply_set",
    "clock_now",
    "parse_datetime",
    "parse_set",
    "shift_datetime",
]
