"""``osreplay diff``: did a change alter what the services emit?

Two recordings of the same scenario are read side by side, line by line. Each side may
be a folder or a glob (a rotated capture): its files are read in order as one recording. Records are
matched per event type in order (the first ``instance.create.end`` of A with the first of
B, and so on), never by id. For each matched pair, ``priority``, ``publisher_id``,
``exchange``, ``topic`` and the whole ``payload`` are compared; ``message_id``,
``timestamp``, ``recorded_at`` and ``ctxt`` never are.

Volatile values are not differences: in every string, UUIDs (with or without dashes, so
keystone's 32-hex ids and ``req-…`` request ids too) and dates or timestamps are replaced
by placeholders before comparing, and the numeric suffix of a host (``compute-3``) is
dropped in ``publisher_id`` and in keys naming a host. ``ignore`` adds JSON paths
(``$.payload.reason``, ``$..display_name``, ``[*]`` for any index or key).

Findings are aggregated: one :class:`Change` per event type, path and kind, with the first
example and the number of record pairs it was seen in. Memory: the records one file has
that the other has not reached yet are held until matched; for two runs of one scenario
that is a handful, at worst (nothing in common) one whole file.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any, Protocol

from osreplay.errors import UsageError
from osreplay.model.files import expand_inputs
from osreplay.scenario.records import LocatedNote, Unreadable, read

ADDED, REMOVED, VALUE, TYPE, VERSION = "added", "removed", "value", "type", "version"
COMPARED = ("priority", "publisher_id", "exchange", "topic", "payload")
HOST_KEYS = frozenset(
    ("host", "hostname", "host_name", "node", "nodename", "launched_on", "compute_host")
)

_UUID = re.compile(
    r"(?<![0-9a-fA-F])[0-9a-fA-F]{8}(-?)[0-9a-fA-F]{4}\1[0-9a-fA-F]{4}\1[0-9a-fA-F]{4}\1"
    r"[0-9a-fA-F]{12}(?![0-9a-fA-F])"
)
_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_HOST_NUMBER = re.compile(r"(?<=\D)\d+$")
_SEGMENT = re.compile(
    r"(\.\.)([A-Za-z_*][\w-]*)?|\.([A-Za-z_*][\w-]*)|\[(\d+|\*)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]"
)

Path = tuple[str | int, ...]
ANY, DEEP = "*", ".."


@dataclass(frozen=True, slots=True)
class DiffOptions:
    """The two recordings, and JSON paths whose values may differ."""

    a: str
    b: str
    ignore: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CountChange:
    """An event type seen a different number of times (0 on one side: added or removed)."""

    event_type: str
    a: int
    b: int


@dataclass(slots=True)
class Change:
    """One path of one event type that differs: the first example, how many pairs."""

    event_type: str
    path: Path
    kind: str
    a: Any
    b: Any
    where_a: str
    where_b: str
    records: int = 1
    name: str | None = None  # the versioned object, for a version change


@dataclass(slots=True)
class DiffSummary:
    """What differs between A and B beyond the volatile fields."""

    a: str
    b: str
    records_a: int = 0
    records_b: int = 0
    pairs: int = 0
    unreadable: int = 0
    counts: list[CountChange] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    @property
    def added(self) -> list[str]:
        return [count.event_type for count in self.counts if count.a == 0]

    @property
    def removed(self) -> list[str]:
        return [count.event_type for count in self.counts if count.b == 0]

    @property
    def differs(self) -> bool:
        return bool(self.counts or self.changes)


class DiffConsole(Protocol):
    """Where ``run`` reports unreadable lines (skipped, not a difference)."""

    def unreadable(self, line: Unreadable) -> None: ...


def parse_path(text: str) -> Path:
    """``$.payload['nova_object.data'].flavor[0]`` as segments; ``*`` any, ``..`` any depth."""
    rest = text.strip()
    if rest.startswith("$"):
        rest = rest[1:]
    elif rest and not rest.startswith((".", "[")):
        rest = "." + rest
    segments: list[str | int] = []
    position = 0
    while position < len(rest):
        match = _SEGMENT.match(rest, position)
        if match is None:
            raise UsageError(
                f"--ignore {text!r} is not a JSON path (at {rest[position:]!r}); "
                "write it like $.payload.reason or $.payload['nova_object.data'].host"
            )
        deep, deep_name, name, index, quoted, double = match.groups()
        if deep is not None:
            segments.append(DEEP)
            if deep_name is not None:
                segments.append(deep_name)
        elif index is not None:
            segments.append(ANY if index == ANY else int(index))
        else:
            segments.append(next(s for s in (name, quoted, double) if s is not None))
        position = match.end()
    if not segments or segments[-1] == DEEP:
        raise UsageError(f"--ignore {text!r} names no field")
    return tuple(segments)


def format_path(path: Path) -> str:
    """``$.payload['nova_object.data'].flavor[0]``, as validate writes paths."""
    parts = ["$"]
    for segment in path:
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        elif segment.isidentifier():
            parts.append("." + segment)
        else:
            parts.append(f"[{segment!r}]")
    return "".join(parts)


def _matches(pattern: Path, path: Path) -> bool:
    """True when ``path`` is the pattern's field or inside it."""
    if not pattern:
        return True
    head, tail = pattern[0], pattern[1:]
    if head == DEEP:
        return any(_matches(tail, path[i:]) for i in range(len(path)))
    if not path:
        return False
    if head == path[0] or (head == ANY):
        return _matches(tail, path[1:])
    return False


def volatile(value: str, key: str | int | None) -> str:
    """``value`` with UUIDs, times and (for a host key) the host's number replaced."""
    text = _TIME.sub("<time>", _UUID.sub("<uuid>", value))
    if isinstance(key, str) and (
        key in HOST_KEYS or key.endswith("_host") or key == "publisher_id"
    ):
        text = _HOST_NUMBER.sub("N", text)
    return text


class _Comparer:
    def __init__(self, ignore: tuple[Path, ...]) -> None:
        self.ignore = ignore
        self.found: dict[tuple[str, Path, str], Change] = {}

    def pair(self, a: LocatedNote, b: LocatedNote) -> None:
        seen: set[tuple[str, Path, str]] = set()
        ra, rb = a.note.to_dict(), b.note.to_dict()
        for key in COMPARED:
            if key in ra or key in rb:
                self._walk(a, b, (key,), ra.get(key, _MISSING), rb.get(key, _MISSING), seen)

    def _walk(
        self, a: LocatedNote, b: LocatedNote, path: Path, va: Any, vb: Any, seen: set[Any]
    ) -> None:
        if any(_matches(pattern, path) for pattern in self.ignore):
            return
        if va is _MISSING or vb is _MISSING:
            kind = ADDED if va is _MISSING else REMOVED
            self._note(
                a,
                b,
                path,
                kind,
                None if va is _MISSING else va,
                None if vb is _MISSING else vb,
                seen,
            )
        elif isinstance(va, dict) and isinstance(vb, dict):
            for key in list(va) + [k for k in vb if k not in va]:
                self._walk(a, b, path + (key,), va.get(key, _MISSING), vb.get(key, _MISSING), seen)
        elif isinstance(va, list) and isinstance(vb, list):
            for index, (ia, ib) in enumerate(zip_longest(va, vb, fillvalue=_MISSING)):
                self._walk(a, b, path + (index,), ia, ib, seen)
        elif _kind(va) != _kind(vb):
            self._note(a, b, path, TYPE, va, vb, seen)
        elif va != vb and not (
            isinstance(va, str) and volatile(va, path[-1]) == volatile(vb, path[-1])
        ):
            kind = (
                VERSION if path[-1] in ("nova_object.version", "ironic_object.version") else VALUE
            )
            self._note(a, b, path, kind, va, vb, seen)

    def _note(
        self,
        a: LocatedNote,
        b: LocatedNote,
        path: Path,
        kind: str,
        va: Any,
        vb: Any,
        seen: set[Any],
    ) -> None:
        key = (a.note.event_type, path, kind)
        if key in seen:
            return
        seen.add(key)
        change = self.found.get(key)
        if change is not None:
            change.records += 1
            return
        name = None
        if kind == VERSION:
            name = _object_name(a.note.to_dict(), path)
        self.found[key] = Change(
            a.note.event_type, path, kind, va, vb,
            f"{a.path}:{a.lineno}", f"{b.path}:{b.lineno}", name=name,
        )  # fmt: skip


class _Missing:
    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return "<missing>"


_MISSING: Any = _Missing()


def _kind(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _object_name(record: dict[str, Any], path: Path) -> str | None:
    parent: Any = record
    for segment in path[:-1]:
        parent = parent[segment]
    prefix = str(path[-1]).rsplit(".", 1)[0]
    name = parent.get(prefix + ".name") if isinstance(parent, dict) else None
    return name if isinstance(name, str) else None


def _side_by_side(
    a: Iterator[LocatedNote], b: Iterator[LocatedNote]
) -> Iterator[tuple[int, LocatedNote]]:
    for pair in zip_longest(a, b):
        for side, entry in enumerate(pair):
            if entry is not None:
                yield side, entry


def run(options: DiffOptions, console: DiffConsole) -> DiffSummary:
    """Compare A and B; raises UsageError for a bad --ignore, InputError for a bad file."""
    if options.a == options.b == "-":
        raise UsageError("A and B cannot both be - (standard input can be read only once)")
    comparer = _Comparer(tuple(parse_path(text) for text in options.ignore))
    summary = DiffSummary(options.a, options.b)

    def on_unreadable(line: Unreadable) -> None:
        summary.unreadable += 1
        console.unreadable(line)

    counts: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
    waiting: tuple[dict[str, deque[LocatedNote]], dict[str, deque[LocatedNote]]] = ({}, {})
    sides = tuple(read(expand_inputs((side,)), on_unreadable) for side in (options.a, options.b))
    for side, entry in _side_by_side(*sides):
        event_type = entry.note.event_type
        counts[side][event_type] += 1
        other = waiting[1 - side].get(event_type)
        if other:
            match = other.popleft()
            a, b = (entry, match) if side == 0 else (match, entry)
            comparer.pair(a, b)
            summary.pairs += 1
        else:
            waiting[side].setdefault(event_type, deque()).append(entry)
    summary.records_a, summary.records_b = sum(counts[0].values()), sum(counts[1].values())
    for event_type in sorted(set(counts[0]) | set(counts[1])):
        na, nb = counts[0][event_type], counts[1][event_type]
        if na != nb:
            summary.counts.append(CountChange(event_type, na, nb))
    summary.changes = sorted(comparer.found.values(), key=lambda c: c.event_type)
    return summary
