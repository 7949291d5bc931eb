"""Several recordings read as one, in timestamp order (``--merge`` of replay and trace).

A rotated capture (``cap-00001.ndjson.gz``, ``cap-00002.ndjson.gz``, …) or the files of
several recorders running side by side are merged record by record: :func:`merge_in_time`
takes one stream per file and always yields the earliest record among the files' next
ones (``heapq.merge``), so memory holds one pending record per file whatever their size.

The order is stable and never moves a record ahead of an earlier line of its own file:
merging interleaves files, it does not sort within one (a recorder writes in arrival
order). Equal timestamps keep file order (the file given first goes first), then line
order. A record without a timestamp (no ``timestamp`` nor ``recorded_at``, or one that
cannot be read), and an unreadable line, keep their place behind the record before them in
their file: they take its time (the earliest time at the start of a file).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timezone
from operator import itemgetter
from typing import TypeVar

T = TypeVar("T")

#: The time of an untimed record before any timed one in its file: it goes first.
EARLIEST = datetime.min.replace(tzinfo=timezone.utc)

_KEY = itemgetter(0)


def merge_in_time(
    streams: Sequence[Iterable[T]], moment: Callable[[T], datetime | None]
) -> Iterator[T]:
    """The items of ``streams`` (one per file, in file order) in ``moment`` order, stably.

    ``moment`` gives an item's time (aware UTC), or None for an untimed item.
    """
    keyed = [_timed(stream, moment) for stream in streams]
    for _, item in heapq.merge(*keyed, key=_KEY):
        yield item


def _timed(
    stream: Iterable[T], moment: Callable[[T], datetime | None]
) -> Iterator[tuple[datetime, T]]:
    """Each item with its time; an untimed one with the time of the item before it."""
    last = EARLIEST
    for item in stream:
        at = moment(item)
        if at is not None:
            last = at
        yield last, item


__all__ = ["EARLIEST", "merge_in_time"]
