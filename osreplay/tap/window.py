"""The window ``record --from-tap`` reads: ``--since`` and ``--until`` as moments in UTC.

A moment is ISO 8601 (``2026-12-07T13:05:00Z``, ``2026-12-07 13:05``; without a zone it
is UTC), a duration back from now (``2h``, ``30m``, ``90s``, ``1d``, ``1h30m``), ``first``
(``--since`` only: the oldest message the tap still keeps) or ``now`` (``--until`` only,
its default: the moment the command started). The window is half-open: a record is in
it when ``since <= timestamp < until``, so consecutive windows never share a record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from osreplay.errors import UsageError
from osreplay.model.notification import parse_timestamp

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_DURATION = re.compile(rf"(?:{_PART.pattern})+")


@dataclass(frozen=True)
class Window:
    """``since`` None: from the first message kept; ``until``: the end (excluded)."""

    since: datetime | None
    until: datetime
    #: True when ``until`` was ``now`` (stop once caught up).
    until_now: bool = False

    def holds(self, moment: datetime) -> bool:
        return (self.since is None or self.since <= moment) and moment < self.until


def parse_duration(text: str) -> float | None:
    """``1h30m`` -> 5400.0; None when ``text`` is not a duration."""
    if not _DURATION.fullmatch(text):
        return None
    return sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(text))


def parse_moment(text: str, *, now: datetime, option: str) -> datetime:
    """An ISO 8601 time or a duration back from ``now``, as aware UTC."""
    value = text.strip()
    seconds = parse_duration(value)
    if seconds is not None:
        return now - timedelta(seconds=seconds)
    moment = parse_timestamp(value.replace("t", "T").replace("z", "Z"))
    if moment is None:
        raise UsageError(
            f"{option} {text!r}: not a time; write ISO 8601 (2026-12-07T13:05:00Z, UTC "
            f"when no zone is given) or a duration back from now (2h, 30m, 90s)"
            + (" or first" if option == "--since" else " or now")
        )
    return moment


def parse_window(since: str | None, until: str | None, *, now: datetime | None = None) -> Window:
    """The window of ``--since`` (default ``first``) and ``--until`` (default ``now``)."""
    now = now or datetime.now(timezone.utc)
    start = None
    if since is not None and since.strip().lower() != "first":
        start = parse_moment(since, now=now, option="--since")
    until_now = until is None or until.strip().lower() == "now"
    end = now if until_now else parse_moment(until or "", now=now, option="--until")
    if start is not None and start >= end:
        raise UsageError(
            f"--since {since} is not before --until {until or 'now'}: the window is empty"
        )
    return Window(since=start, until=end, until_now=until_now)


def iso(moment: datetime) -> str:
    """``2026-12-07T13:05:00Z`` (microseconds only when there are some)."""
    text = moment.astimezone(timezone.utc).isoformat(
        timespec="microseconds" if moment.microsecond else "seconds"
    )
    return text.replace("+00:00", "Z")


__all__ = ["Window", "iso", "parse_duration", "parse_moment", "parse_window"]
