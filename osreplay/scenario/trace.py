"""``osreplay trace``: follow one flow, by request id or by resource, with start/end spans.

Records are grouped by a key: the request id (see :func:`request_key`: the context's,
else where keystone, nova and keystonemiddleware put it in the payload), the global
request id that links the requests of several services (:func:`global_request_key`;
each service's own request becomes a child group), the resource the payload is about
(see :func:`resource_key`) or the osprofiler trace (``payload.base_id``; the group's
spans are then osprofiler's span tree, see :mod:`osreplay.scenario.profile`).
Within a group, records are ordered by time (``timestamp``, else
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
from osreplay.scenario.profile import ProfilePoint, ProfileSpan, build, profile_point
from osreplay.scenario.records import Unreadable, failed, read, sent_at

BY_REQUEST, BY_RESOURCE = "request", "resource"
BY_GLOBAL_REQUEST, BY_TRACE = "global-request", "trace"
BY = (BY_REQUEST, BY_GLOBAL_REQUEST, BY_RESOURCE, BY_TRACE)
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
    publisher: str | None = None
    request: str | None = None  # the record's own request id (``--by global-request``)
    point: ProfilePoint | None = None  # what an osprofiler record says (``--by trace``)
    failed: bool = False  # ERROR, CRITICAL or a CADF outcome failure


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
    # ``--by global-request``: one group per request of each service, in order of start.
    children: tuple[Group, ...] = ()
    # ``--by trace``: osprofiler's top-level spans, each with its children.
    tree: tuple[ProfileSpan, ...] = ()

    @property
    def span_count(self) -> int:
        if self.tree:
            return sum(len(span.walk()) for span in self.tree)
        return len(self.spans)


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
    """The request a record belongs to, else None. The first of:

    ``ctxt.request_id`` (oslo.context, ``_context_request_id`` on the v1 wire),
    ``ctxt.global_request_id``, a CADF payload's ``initiator.request_id`` (keystone
    sends an empty context and puts it there), a nova or ironic versioned payload's
    ``request_id`` (``InstancePayload``), a CADF payload's ``correlation_id`` tag
    (keystonemiddleware's audit events: one per API request, on its request and response
    events alike) and a legacy payload's ``request_id``.
    """
    ctxt = note.ctxt
    if ctxt:
        for key in ("request_id", "global_request_id"):
            value = ctxt.get(key)
            if isinstance(value, str) and value:
                return value
    payload = note.payload
    if payload.__class__ is not dict:
        return None
    if payload.get("typeURI") == CADF_EVENT_TYPEURI:
        initiator = payload.get("initiator")
        if isinstance(initiator, dict):
            found = _first_id(initiator, ("request_id",))
            if found is not None:
                return found
        return _correlation_id(payload.get("tags"))
    for prefix in ("nova_object", "ironic_object"):
        data = payload.get(prefix + ".data")
        if isinstance(data, dict):
            return _first_id(data, ("request_id",))
    return _first_id(payload, ("request_id",))


def _correlation_id(tags: Any) -> str | None:
    # pycadf writes name-value tags as "correlation_id?value=<id>".
    if not isinstance(tags, list):
        return None
    for tag in tags:
        if isinstance(tag, str) and tag.startswith("correlation_id?value="):
            value = tag[len("correlation_id?value=") :]
            if value:
                return value
    return None


def global_request_key(note: Notification) -> str | None:
    """``ctxt.global_request_id`` (the request that started the chain), else the request id.

    A service called by another (neutron by nova, cinder by nova) gets the caller's
    request id as ``global_request_id`` and a request id of its own; the first service
    of the chain has no global request id, and its own request id is the chain's.
    """
    ctxt = note.ctxt
    if ctxt:
        value = ctxt.get("global_request_id")
        if isinstance(value, str) and value:
            return value
    return request_key(note)


def trace_key(note: Notification) -> str | None:
    """An osprofiler record's ``payload.base_id``, else None."""
    point = profile_point(note.payload)
    return None if point is None else point.base_id


def resource_key(note: Notification) -> str | None:
    """The id of what the payload is about, else None.

    Versioned nova/ironic payloads: ``uuid``, ``instance_uuid`` or ``node_uuid`` of the
    object's data; CADF: ``target.id``; legacy payloads: the first of ``instance_id``,
    ``instance_uuid``, ``node_uuid``, ``volume_id``, ``resource_id``, ``id``, or the
    ``id`` of a payload holding one object (neutron's ``{"port": {"id": …}}``).
    A CADF ``authenticate`` event is about the user logging in (``initiator.user_id``,
    else ``initiator.id``): keystone gives each login a target id of its own.
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
        if payload.get("action") == "authenticate":
            # keystone gives each login a fresh target id: the user is the initiator.
            initiator = payload.get("initiator")
            if isinstance(initiator, dict):
                return _first_id(initiator, ("user_id", "id"))
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
    BY_GLOBAL_REQUEST: global_request_key,
    BY_RESOURCE: resource_key,
    BY_TRACE: trace_key,
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

    def close(self, *, complete: bool, by: str = BY_REQUEST) -> Group:
        # (time, arrival, step): arrivals differ, so a step itself is never compared.
        steps = tuple(step for _, _, step in sorted(self.steps))
        if by == BY_TRACE:
            # osprofiler's report takes its points in arrival order (ties in a sort).
            points = [step.point for _, _, step in self.steps if step.point is not None]
            return Group(self.key, steps, (), self.dropped, complete, tree=tuple(build(points)))
        if by == BY_GLOBAL_REQUEST:
            children = _requests(self.key, steps)
            spans = tuple(span for child in children for span in child.spans)
            return Group(self.key, steps, spans, self.dropped, complete, children=children)
        return Group(self.key, steps, pair_spans(steps), self.dropped, complete)


def _requests(key: str, steps: tuple[Step, ...]) -> tuple[Group, ...]:
    """The steps of one chain split by their own request id, in order of first record."""
    by_request: dict[str, list[Step]] = {}
    for step in steps:
        by_request.setdefault(step.request or key, []).append(step)
    return tuple(
        Group(request, tuple(own), pair_spans(tuple(own))) for request, own in by_request.items()
    )


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


class Grouper:
    """Records in, groups out: what ``run`` does to each record, for ``timeline`` too.

    ``add`` takes records in reading order and returns False for one without a key;
    ``report`` gets each group as it closes (early past ``max_groups``, the rest from
    ``finish`` in order of their first record).
    """

    def __init__(
        self,
        by: str,
        report: Callable[[Group], None],
        *,
        max_groups: int = 10_000,
        max_records: int = 10_000,
        group_id: str | None = None,
    ) -> None:
        if by not in _KEYS:
            raise UsageError(f"--by must be one of {', '.join(_KEYS)}, not {by!r}")
        self.by, self.report = by, report
        self.max_groups, self.max_records, self.group_id = max_groups, max_records, group_id
        self.key_of = _KEYS[by]
        self.held: OrderedDict[str, _Open] = OrderedDict()

    def add(self, seq: int, path: str, lineno: int, note: Notification) -> bool:
        key = self.key_of(note)
        if key is None:
            return False
        if self.group_id is not None and key != self.group_id:
            return True
        # ``held`` is ordered by last activity: the least recently active group first.
        held = self.held
        group = held.get(key)
        if group is not None:
            held.move_to_end(key)
        else:
            if len(held) >= self.max_groups:
                self.report(held.popitem(last=False)[1].close(complete=False, by=self.by))
            group = held[key] = _Open(key, seq)
        step = Step(
            path,
            lineno,
            note.event_type,
            note.priority,
            sent_at(note),
            note.publisher_id,
            request_key(note) if self.by == BY_GLOBAL_REQUEST else None,
            profile_point(note.payload) if self.by == BY_TRACE else None,
            failed(note),
        )
        group.add(seq, step, self.max_records)
        return True

    def finish(self) -> None:
        for group in sorted(self.held.values(), key=lambda item: item.first_seq):
            self.report(group.close(complete=True, by=self.by))
        self.held.clear()


def run(options: TraceOptions, console: TraceConsole) -> TraceSummary:
    """Group, order and pair; report each group to ``console`` as it closes."""
    summary = TraceSummary(by=options.by)

    def on_unreadable(line: Unreadable) -> None:
        summary.unreadable += 1
        console.unreadable(line)

    def report(group: Group) -> None:
        summary.groups += 1
        summary.spans += group.span_count
        summary.open_spans += sum(span.outcome == OPEN for span in group.spans)
        summary.open_spans += sum(
            span.start is None or span.end is None for top in group.tree for span in top.walk()
        )
        summary.closed_early += not group.complete
        console.group(group)

    grouper = Grouper(
        options.by,
        report,
        max_groups=options.max_groups,
        max_records=options.max_records,
        group_id=options.group_id,
    )
    entries = read(expand_inputs(options.files), on_unreadable, merge=options.merge)
    for seq, entry in enumerate(entries):
        summary.records += 1
        if not grouper.add(seq, entry.path, entry.lineno, entry.note):
            summary.ungrouped += 1
    grouper.finish()
    return summary
