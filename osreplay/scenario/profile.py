"""osprofiler traces as span trees, the way osprofiler's own report builds them.

osprofiler (``osprofiler.drivers.messaging``) sends one notification per trace point,
``event_type`` ``profiler.<service>``, on the topic ``profiler``, with a payload of

``name``       ``<name>-start`` or ``<name>-stop`` (``db-start``, ``wsgi-stop``)
``base_id``    one id for the whole trace
``trace_id``   this span's id, the same in its start and its stop
``parent_id``  the enclosing span's ``trace_id`` (``base_id`` for a top-level span)
``timestamp``  ``%Y-%m-%dT%H:%M:%S.%f``, naive UTC, osprofiler's own clock reading
``service``    the service that sent it; ``info`` (``host``, on a stop ``etype`` when the
               span ended with an exception, and what the span is about)

:func:`build` follows ``Driver._append_results`` and ``_parse_results``: one span per
``trace_id``, named by the first point seen cut at its first ``-`` (``db-inner-start`` is
the span ``db``), started by a point whose name does not end in ``stop`` and finished by
one that does (the last of each wins); a span without one of them gets the other's time;
durations are whole milliseconds between offsets from the trace's first point, each
truncated; a span whose ``parent_id`` is a span of the trace is its child, others are
top-level; siblings are sorted by their start in whole milliseconds, ties kept in
arrival order. So ``ms`` equals the
report's ``finished - started``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


@dataclass(frozen=True, slots=True)
class ProfilePoint:
    """What one osprofiler notification says about its span (never the rest of it)."""

    name: str
    base_id: str
    trace_id: str
    parent_id: str
    at: datetime
    service: str | None
    error: str | None  # a stop's ``info.etype``


@dataclass(slots=True)
class ProfileSpan:
    """One span of a trace with its children, as osprofiler's report gives it."""

    name: str
    trace_id: str
    parent_id: str
    service: str | None
    start: datetime | None  # None when only its stop was recorded
    end: datetime | None  # None when only its start was recorded
    started_ms: int  # from the trace's first point, as the report's ``started``
    ms: int
    error: str | None
    children: list[ProfileSpan] = field(default_factory=list)

    def walk(self) -> list[ProfileSpan]:
        """This span and every span under it, depth first."""
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


def profile_point(payload: Any) -> ProfilePoint | None:
    """The point an osprofiler payload describes, or None when it is not one."""
    if payload.__class__ is not dict:
        return None
    ids: list[str] = []
    for key in ("name", "base_id", "trace_id", "parent_id", "timestamp"):
        value = payload.get(key)
        if not isinstance(value, str) or not value:
            return None
        ids.append(value)
    name, base_id, trace_id, parent_id, stamp = ids
    try:
        at = datetime.strptime(stamp, _FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    service = payload.get("service")
    info = payload.get("info")
    error = None
    if name.endswith("stop") and isinstance(info, dict):
        etype = info.get("etype")
        error = etype if isinstance(etype, str) and etype != "None" else None
    return ProfilePoint(
        name, base_id, trace_id, parent_id, at, service if isinstance(service, str) else None, error
    )


def _msec(delta: timedelta) -> int:
    # osprofiler's own arithmetic (through a float, truncated), so the numbers agree.
    micro = delta.microseconds + (delta.seconds + delta.days * 24 * 3600) * 1e6
    return int(micro / 1000.0)


def build(points: list[ProfilePoint]) -> list[ProfileSpan]:
    """The top-level spans of one trace from its points in arrival order."""
    if not points:
        return []
    first = min(point.at for point in points)
    spans: dict[str, ProfileSpan] = {}
    for point in points:
        span = spans.get(point.trace_id)
        if span is None:
            span = spans[point.trace_id] = ProfileSpan(
                point.name.split("-")[0],
                point.trace_id,
                point.parent_id,
                point.service,
                None,
                None,
                0,
                0,
                None,
            )
        if point.name.endswith("stop"):
            span.end, span.error = point.at, point.error
        else:
            span.start = point.at
    roots: list[ProfileSpan] = []
    for span in spans.values():
        started = span.start or span.end or first
        finished = span.end or span.start or first
        span.started_ms = _msec(started - first)
        span.ms = _msec(finished - first) - span.started_ms
        parent = spans.get(span.parent_id)
        if parent is not None and parent is not span:
            parent.children.append(span)
        else:
            roots.append(span)
    for span in spans.values():
        span.children.sort(key=_started)
    return sorted(roots, key=_started)


def _started(span: ProfileSpan) -> int:
    # Whole milliseconds, as the report sorts: spans within one keep arrival order.
    return span.started_ms
