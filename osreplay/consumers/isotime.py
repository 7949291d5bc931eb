"""Dates as oslo's ``timeutils.parse_isotime`` reads them, then ``normalize_time``.

oslo hands the string to the iso8601 library: ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or
``YYYYMMDD``, then optionally a ``T`` or a space and ``HH[:MM[:SS[.frac]]]`` (colons
optional), then optionally ``Z``, ``±HH``, ``±HHMM`` or ``±HH:MM``. No zone means UTC.
The fraction is truncated to microseconds. ``$`` in its pattern accepts one trailing
newline. Anything else (including a value that is not a string) is a ValueError, which
Ceilometer does not catch where a trait or a sample is converted.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

_DATE = re.compile(
    r"(?P<year>[0-9]{4})"
    r"(?:"
    r"(?:-(?P<monthdash>[0-9]{1,2})|(?P<month>[0-9]{2})(?!$))"
    r"(?:"
    r"(?:-(?P<daydash>[0-9]{1,2})|(?P<day>[0-9]{2}))"
    r"(?:[ T](?P<hour>[0-9]{2})"
    r"(?::?(?P<minute>[0-9]{2}))?"
    r"(?::?(?P<second>[0-9]{1,2})(?:[.,](?P<fraction>[0-9]+))?)?"
    r"(?P<zone>Z|(?P<sign>[-+])(?P<zone_hour>[0-9]{2}):?(?P<zone_minute>[0-9]{2})?)?"
    r")?"
    r")?"
    r")?$"
)


def parse_isotime(value: Any) -> datetime:
    """An aware datetime; raises ValueError where oslo's ``parse_isotime`` does."""
    if not isinstance(value, str):
        raise ValueError(f"not a string: {value!r}")
    match = _DATE.match(value)
    if match is None:
        raise ValueError(f"Unable to parse date string {value!r}")
    g = {key: text for key, text in match.groupdict().items() if text is not None}
    zone = timezone.utc
    if "sign" in g:
        sign = -1 if g["sign"] == "-" else 1
        hours, minutes = int(g["zone_hour"]), int(g.get("zone_minute", 0))
        try:
            zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
        except ValueError as exc:
            raise ValueError(str(exc)) from None
    try:
        return datetime(
            int(g["year"]),
            int(g.get("month", g.get("monthdash", 1))),
            int(g.get("day", g.get("daydash", 1))),
            int(g.get("hour", 0)),
            int(g.get("minute", 0)),
            int(g.get("second", 0)),
            int(Decimal("0." + g.get("fraction", "0")) * 1_000_000),
            tzinfo=zone,
        )
    except (ValueError, OverflowError) as exc:
        raise ValueError(str(exc)) from None


def normalize_time(moment: datetime) -> datetime:
    """Naive UTC, as oslo's ``normalize_time`` (OverflowError past the year range)."""
    offset = moment.utcoffset()
    if offset is None:
        return moment
    return moment.replace(tzinfo=None) - offset


def agent_text(moment: datetime) -> str:
    """How the agent's JSON file publisher writes a datetime trait (``str(datetime)``)."""
    return str(moment)
