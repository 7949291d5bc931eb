"""``osreplay trace``: follow one flow, by request id or by resource, with start/end spans.

Records are grouped by a key: the request id (``ctxt.request_id``, else
``ctxt.global_request_id``) or the resource the payload is about (see
:func:`resource_key`). Within a group, records are ordered by time (``timestamp``, else
``recorded_at``; ties and untimed records keep file order), and each ``X.start`` is
paired, first come first served, with the next ``X.end`` / ``X.success`` (outcome
``end``) or ``X.error`` / ``X.failure`` / ``X.failed`` (outcome ``error``); a start
left without one is ``open``.

The files are read one after another, or with ``merge`` record by record in timestamp
order (:mod:`osreplay.model.merge`): for captures taken side by side (or a rotated one),
groups are then reported in the order they began across the files, and a request whose
records sit in several files is held as one group rather than closed early by
``max_groups`` while another file is read.

Memory: a group is held until the end of the input, as one small step per record (file,
line, event type, priority, time; never the payload). At most ``max_groups`` groups are
held: past that, the least recently active group is closed early (``complete`` is
False) and reported, and a later record with its key starts a new group. A group keeps at
most ``max_records`` steps; further records are counted in ``dropped``. So memory is
bounded by ``max_groups * max_records`` steps whatever the size of the input.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from osreplay.errors import UsageError
from osreplay.model.files import expand_inputs
from osreplay.model.notification import CADF_EVENT_TYPEURI, Notification
from osreplay.scenario.records import Unreadable, read, sent_at

BY_REQUEST, BY_RESOURCE = "request", "resource"
END, ERROR, OPEN = "end", "error", "open"
_START = ".start"
_ENDINGS = {".end": END, ".success": END, ".error": ERROR, ".failure": ERROR, ".failed": ERROR}
# Payload keys naming the resource of a legacy (unversioned) notification, in order.
_LEGACY_KEYS = ("instance_id", "instance_uuid", "node_uuid", "volume_id", "resource_id", "id")


@dataclass(frozen=True, slots=True)
class TraceOptions:
    """What to read and how to group; ``group_id`` keeps only that group."""

    files: tuple[str, ...]
    by: str = BY_REQUEST
    group_id: str | None = None
    max_groups: int = 10_000
    max_records: int = 10_000
    merge: bool = False  # read the files record by record in timestamp order


@dataclass(slots=True)
class Step:
    """One record of a group: where it is and what it says (never its payload)."""

    path: str
    lineno: int
    event_type: str
    priority: str
    at: datetime | None


@dataclass(frozen=True, slots=True)
class Span:
    """An ``event`` (the part before ``.start``) from its start to its end, error or none."""

    event: str
    start: Step
    end: Step | None
    outcome: str

    @property
    def seconds(self) -> float | None:
        if self.end is None or self.start.at is None or self.end.at is None:
            return None
        return (self.end.at - self.start.at).total_seconds()


@dataclass(frozen=True, slots=True)
class Group:
    """The records of one key in time order, their spans, and whether it is complete."""

    key: str
    steps: tuple[Step, ...]
    spans: tuple[Span, ...]
    dropped: int = 0
    complete: bool = True


@dataclass(slots=True)
class TraceSummary:
    """Counts over the whole run."""

    by: str
    groups: int = 0
    records: int = 0
    ungrouped: int = 0
    unreadable: int = 0
    spans: int = 0
    open_spans: int = 0
    closed_early: int = 0


class TraceConsole(Protocol):
    """Where ``run`` reports: each unreadable line, then each group once it is closed."""

    def unreadable(self, line: Unreadable) -> None: ...

    def group(self, group: Group) -> None: ...


def request_key(note: Notification) -> str | None:
    """``ctxt.request_id``, else ``ctxt.global_request_id``, else None."""
    ctxt = note.ctxt
    if not ctxt:
        return None
    for key in ("request_id", "global_request_id"):
        value = ctxt.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def resource_key(note: Notification) -> str | None:
    """The id of what the payload is about, else None.

    Versioned nova/ironic payloads: ``uuid``, ``instance_uuid`` or ``node_uuid`` of the
    object's data; CADF: ``target.id``; legacy payloads: the first of ``instance_id``,
    ``instance_uuid``, ``node_uuid``, ``volume_id``, ``resource_id``, ``id``, or the
    ``id`` of a payload holding one object (neutron's ``{"port": {"id": …}}``).
    """
    payload = note.payload
    if payload.__class__ is not dict:
        return None
    for prefix in ("nova_object", "ironic_object"):
        data = payload.get(prefix + ".data")
        if isinstance(data, dict):
            return _first_id(data, ("uuid", "instance_uuid", "node_uuid"))
    if payload.get("typeURI") == CADF_EVENT_TYPEURI:
        target = payload.get("target")
        return _first_id(target, ("id",)) if isinstance(target, dict) else None
    found = _first_id(payload, _LEGACY_KEYS)
    if found is None and len(payload) == 1:
        [inner] = payload.values()
        if isinstance(inner, dict):
            return _first_id(inner, ("id",))
    return found


def _first_id(data: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return None


_KEYS: dict[str, Callable[[Notification], str | None]] = {
    BY_REQUEST: request_key,
    BY_RESOURCE: resource_key,
}


@dataclass(slots=True)
class _Open:
    """A group being collected: steps in arrival order with a sort key each."""

    key: str
    first_seq: int
    steps: list[tuple[float, int, Step]] = field(default_factory=list)
    last_epoch: float = float("-inf")
    dropped: int = 0

    def add(self, seq: int, step: Step, limit: int) -> None:
        if len(self.steps) >= limit:
            self.dropped += 1
            return
        if step.at is not None:
            self.last_epoch = step.at.timestamp()
        # An untimed record sorts with the record before it in the group.
        self.steps.append((self.last_epoch, seq, step))

    def close(self, *, complete: bool) -> Group:
        # (time, arrival, step): arrivals differ, so a step itself is never compared.
        steps = tuple(step for _, _, step in sorted(self.steps))
        return Group(self.key, steps, pair_spans(steps), self.dropped, complete)


def pair_spans(steps: tuple[Step, ...]) -> tuple[Span, ...]:
    """Pair each ``X.start`` with the next ending of X, in order; unpaired starts are open."""
    waiting: dict[str, deque[int]] = {}  # event -> indexes of its open spans, oldest first
    spans: list[Span] = []
    for step in steps:
        event_type = step.event_type
        if event_type.endswith(_START):
            event = event_type[: -len(_START)]
            waiting.setdefault(event, deque()).append(len(spans))
            spans.append(Span(event, step, None, OPEN))
            continue
        event, dot, suffix = event_type.rpartition(".")
        outcome = _ENDINGS.get(dot + suffix)
        queue = waiting.get(event)
        if outcome is None or not queue:
            continue
        index = queue.popleft()
        spans[index] = Span(event, spans[index].start, step, outcome)
    return tuple(spans)


def run(options: TraceOptions, console: TraceConsole) -> TraceSummary:
    """Group, order and pair; report each group to ``console`` as it closes."""
    if options.by not in _KEYS:
        raise UsageError(f"--by must be one of {', '.join(_KEYS)}, not {options.by!r}")
    key_of = _KEYS[options.by]
    summary = TraceSummary(by=options.by)
    held: OrderedDict[str, _Open] = OrderedDict()

    def on_unreadable(line: Unreadable) -> None:
        summary.unreadable += 1
        console.unreadable(line)

    def report(group: Group) -> None:
        summary.groups += 1
        summary.spans += len(group.spans)
        summary.open_spans += sum(span.outcome == OPEN for span in group.spans)
        summary.closed_early += not group.complete
        console.group(group)

    entries = read(expand_inputs(options.files), on_unreadable, merge=options.merge)
    for seq, entry in enumerate(entries):
        note = entry.note
        summary.records += 1
        key = key_of(note)
        if key is None:
            summary.ungrouped += 1
            continue
        if options.group_id is not None and key != options.group_id:
            continue
        # ``held`` is ordered by last activity: the least recently active group first.
        group = held.get(key)
        if group is not None:
            held.move_to_end(key)
        else:
            if len(held) >= options.max_groups:
                report(held.popitem(last=False)[1].close(complete=False))
            group = held[key] = _Open(key, seq)
        step = Step(entry.path, entry.lineno, note.event_type, note.priority, sent_at(note))
        group.add(seq, step, options.max_records)
    for group in sorted(held.values(), key=lambda item: item.first_seq):
        report(group.close(complete=True))
    return summary
