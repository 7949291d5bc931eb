"""What a replay reads: recording files checked whole, or standard input as it arrives.

A *source* selects records (:class:`Selection`: filters, ``--start-at``, ``--limit``) and
yields them as :class:`NoteLine` objects, one iterable per pass of ``--loop``.
:class:`FileSource` checks whole files before anything is sent; :class:`StreamSource`
reads standard input as it arrives, so nothing is known ahead.

Files are read one after another, or with ``merge`` (``--merge``) record by record in
timestamp order (:mod:`osreplay.model.merge`). Then ``--start-at FILE:LINE`` names a
place in the merged order: everything merged before that line is skipped, whichever file
it is in. Each pass of a merged replay is a :class:`MergedPass`, which reads one entry
ahead, so a replay stopped between two records knows the next one to name for resuming.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from osreplay.errors import RecordingRefused, UsageError
from osreplay.model.filters import Filters
from osreplay.model.merge import merge_in_time
from osreplay.model.ndjson import DEFAULT_MAX_LINE_BYTES
from osreplay.model.notes import NoteLine, read_notes
from osreplay.model.notification import Notification
from osreplay.runtime import gc_paused

#: Records a pre-checked file keeps in memory so the replay does not read it twice.
CACHE_RECORDS = 100_000
_LISTED_LINES = 20


@dataclass(frozen=True, slots=True)
class StartAt:
    """Where to begin: line ``lineno`` of input number ``index`` (inputs before it skipped)."""

    lineno: int
    index: int = 0


def parse_start_at(text: str | None, inputs: Sequence[str]) -> StartAt | None:
    """``--start-at``: ``LINE`` (of the first input) or ``FILE:LINE`` (of that input)."""
    if text is None:
        return None
    name, _, number = text.rpartition(":")
    if not number.isdigit() or int(number) < 1:
        raise UsageError(f"--start-at {text}: give a line number (LINE or FILE:LINE), from 1")
    if not name:
        return StartAt(int(number))
    names = list(inputs) or ["-"]
    if name not in names:
        raise UsageError(f"--start-at {text}: {name} is not one of the files to replay")
    return StartAt(int(number), names.index(name))


@dataclass(frozen=True)
class Selection:
    """Which records are replayed: filters, first line and limit (per pass)."""

    filters: Filters = Filters()
    limit: int | None = None
    start_at: StartAt | None = None

    def matches(self, note: Notification) -> bool:
        return self.filters.match(note.event_type, note.publisher_id, note.priority)


def _entries(
    paths: Sequence[str],
    selection: Selection,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    *,
    merge: bool = False,
) -> Iterator[NoteLine]:
    """Every line from the start line on, as entries: selected records and unreadable lines.

    Stops after ``selection.limit`` selected records. Unreadable lines are yielded (they
    cannot be matched against the filters) and do not count toward the limit.
    """
    limit = selection.limit
    matches = selection.matches
    filtered = selection.filters.active
    selected = 0
    read = _merged if merge else _one_after_another
    for entry in read(paths, selection.start_at, max_line_bytes):
        note = entry.note
        if note is None:
            yield entry
            continue
        if filtered and not matches(note):
            continue
        selected += 1
        yield entry
        if limit is not None and selected >= limit:
            return


def _one_after_another(
    paths: Sequence[str], start: StartAt | None, max_line_bytes: int
) -> Iterator[NoteLine]:
    """Every line of the files in file order, from the start line on (files before it
    unread)."""
    for index, path in enumerate(paths):
        if start is not None and index < start.index:
            continue
        first = start.lineno if start is not None and index == start.index else 1
        yield from read_notes(path, max_line_bytes, first=first)


def _merged(paths: Sequence[str], start: StartAt | None, max_line_bytes: int) -> Iterator[NoteLine]:
    """Every line of the files in timestamp order, from the start line on: everything
    merged before it (in any file) is skipped."""
    merged = merge_in_time([read_notes(path, max_line_bytes) for path in paths], _moment)
    if start is None:
        yield from merged
        return
    name = paths[start.index]
    for entry in merged:
        if entry.path == name and entry.lineno >= start.lineno:
            yield entry
            break
    yield from merged


def _moment(entry: NoteLine) -> datetime | None:
    return None if entry.note is None else entry.note.sent_at


class MergedPass:
    """One pass over merged files, read one entry ahead (what a stopped replay needs).

    Files read one after another resume at the line after the last record confirmed;
    merged, the next record may be in any file: :meth:`resume_after` names it.
    """

    def __init__(self, entries: Iterable[NoteLine]) -> None:
        self._entries = iter(entries)
        self._upcoming: NoteLine | None = None
        self._started = False
        self.handed: NoteLine | None = None  # the last entry handed out

    def __iter__(self) -> MergedPass:
        return self

    def __next__(self) -> NoteLine:
        if not self._started:
            self._upcoming = next(self._entries, None)
            self._started = True
        current = self._upcoming
        if current is None:
            raise StopIteration
        # Stopped while reading ahead, ``current`` is still upcoming: nothing is lost.
        self._upcoming = next(self._entries, None)
        self.handed = current
        return current

    def resume_after(self, last: NoteLine) -> tuple[str, int]:
        """Where to go on when ``last`` was the last record confirmed: the entry handed out
        after it, else the next one, else (the pass was over) the line after ``last``."""
        handed = self.handed
        if handed is not None and (handed.path, handed.lineno) != (last.path, last.lineno):
            return handed.path, handed.lineno
        if self._upcoming is not None:
            return self._upcoming.path, self._upcoming.lineno
        return last.path, last.lineno + 1


class FileSource:
    """Recording files, checked whole before the first record is sent.

    :meth:`check` reads every selected line once: unreadable lines are refused (or, with
    ``skip_invalid``, listed in :attr:`skipped`), records without a timestamp are refused
    when the schedule needs one, and :attr:`total` becomes the number of records per pass.
    Up to :data:`CACHE_RECORDS` records are kept so the replay does not read the files again.
    """

    def __init__(
        self,
        paths: Sequence[str],
        selection: Selection = Selection(),
        *,
        skip_invalid: bool = False,
        needs_timestamps: bool = False,
        loop: int = 1,
        cache_records: int = CACHE_RECORDS,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        merge: bool = False,
    ) -> None:
        self.paths = list(paths)
        self.max_line_bytes = max_line_bytes
        self.merge = merge
        self.selection = selection
        self.skip_invalid = skip_invalid
        self.needs_timestamps = needs_timestamps
        self.loop = loop
        self.cache_records = cache_records
        self.per_pass: int | None = None
        #: The first unreadable lines skipped (``skip_invalid``), :data:`_LISTED_LINES` at
        #: most; ``skipped_total`` counts them all (memory stays flat whatever the file).
        self.skipped: list[NoteLine] = []
        self.skipped_total = 0
        #: The exchanges the selected records name (None: a record that names none).
        self.exchanges: set[str | None] = set()
        self._cache: list[NoteLine] | None = None

    @property
    def total(self) -> int | None:
        """Records selected over all passes (None while unknown or with an endless loop)."""
        if self.per_pass is None or self.loop == 0:
            return None
        return self.per_pass * self.loop

    def check(self) -> None:
        with gc_paused():  # the records kept hold no cycles (osreplay.runtime)
            self._check()

    def _check(self) -> None:
        # Only the first few bad lines are kept, the rest counted: a small .gz can hold
        # millions of them, and a file without timestamps millions of records.
        invalid: list[NoteLine] = []
        invalid_total = 0
        invalid_sources: dict[str, None] = {}
        untimed: NoteLine | None = None
        untimed_total = 0
        cache: list[NoteLine] | None = []
        exchanges: set[str | None] = set()
        count = 0
        for entry in _entries(self.paths, self.selection, self.max_line_bytes, merge=self.merge):
            if entry.note is None:
                invalid_total += 1
                invalid_sources[entry.path] = None
                if len(invalid) < 2 * _LISTED_LINES:  # reasons, then line numbers
                    invalid.append(entry)
                continue
            if self.needs_timestamps and entry.note.sent_at is None:
                untimed_total += 1
                if untimed is None:
                    untimed = NoteLine(entry.path, entry.lineno, None)
                continue
            if untimed is not None:
                continue  # refused in the end: nothing more to keep
            count += 1
            exchanges.add(entry.note.exchange)
            if cache is not None:
                if len(cache) < self.cache_records:
                    cache.append(entry)
                else:
                    cache = None
        if invalid and not self.skip_invalid:
            raise RecordingRefused(_refusal(invalid, invalid_total, list(invalid_sources)))
        if untimed is not None:
            raise UsageError(_untimed(untimed, untimed_total))
        self.skipped = invalid[:_LISTED_LINES]
        self.skipped_total = invalid_total
        self.exchanges = exchanges
        self.per_pass = count
        self._cache = cache

    def passes(self) -> Iterator[Iterable[NoteLine]]:
        if self.per_pass is None:
            self.check()
        if not self.per_pass:
            return  # nothing selected: not even an endless --loop 0 has anything to repeat
        done = 0
        while self.loop == 0 or done < self.loop:
            done += 1
            entries = self._cache if self._cache is not None else self._reread()
            yield MergedPass(entries) if self.merge else entries

    def _reread(self) -> Iterator[NoteLine]:
        # check() refused unreadable lines, or (skip_invalid) reported and counted them.
        for entry in _entries(self.paths, self.selection, self.max_line_bytes, merge=self.merge):
            if entry.note is None and self.skip_invalid:
                continue
            yield entry


class StreamSource:
    """Standard input (or any one path), replayed as its lines arrive: nothing is known ahead."""

    total: int | None = None

    def __init__(
        self,
        path: str = "-",
        selection: Selection = Selection(),
        *,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        self.path = path
        self.selection = selection
        self.max_line_bytes = max_line_bytes
        self.skipped: list[NoteLine] = []
        self.skipped_total = 0

    def passes(self) -> Iterator[Iterable[NoteLine]]:
        yield _entries([self.path], self.selection, self.max_line_bytes)


# The errors' messages (ready to print after ``Error: ``, as every OsreplayError's).


def _untimed(first: NoteLine, total: int) -> str:
    more = f" (and {total - 1} more)" if total > 1 else ""
    return (
        f"line {first.lineno} of {first.path}{more} has no timestamp or "
        "recorded_at to pace it by: replay at a steady pace with --rate N "
        "(--rate 0 for as fast as possible)"
    )


def _refusal(invalid: list[NoteLine], total: int, sources: list[str]) -> str:
    """The first :data:`_LISTED_LINES` unreadable lines with their reasons, the next ones'
    numbers, then how many more (of ``total``): one short message whatever the file."""
    noun = "line" if total == 1 else "lines"
    names = ", ".join(sources[:_LISTED_LINES]) + (
        f" and {len(sources) - _LISTED_LINES} more files" if len(sources) > _LISTED_LINES else ""
    )
    lines = [
        f"{names}: {total} unreadable {noun}, nothing sent "
        "(--skip-invalid replays the readable ones):"
    ]
    several = len(sources) > 1
    for entry in invalid[:_LISTED_LINES]:
        where = f"{entry.path}:{entry.lineno}" if several else f"line {entry.lineno}"
        lines.append(f"  {where}: {entry.error}")
    if len(invalid) > _LISTED_LINES:
        numbers = ", ".join(
            f"{entry.path}:{entry.lineno}" if several else str(entry.lineno)
            for entry in invalid[_LISTED_LINES:]
        )
        more = total - len(invalid)
        tail = f" and {more} more" if more else ""
        lines.append(f"  and lines {numbers}{tail}")
    return "\n".join(lines)


__all__ = [
    "CACHE_RECORDS",
    "NoteLine",
    "FileSource",
    "MergedPass",
    "Selection",
    "StartAt",
    "StreamSource",
    "parse_start_at",
]
