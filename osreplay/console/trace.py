"""How ``osreplay trace`` speaks: a group's steps and spans, as text or JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TextIO

from osreplay.console.scenario import (
    Diagnostics,
    dump_json,
    plural,
    seconds_text,
)
from osreplay.console.text import text_lines
from osreplay.scenario.profile import ProfileSpan
from osreplay.scenario.records import iso
from osreplay.scenario.trace import (
    BY_GLOBAL_REQUEST,
    BY_REQUEST,
    BY_RESOURCE,
    BY_TRACE,
    OPEN,
    Group,
    Span,
    Step,
    TraceSummary,
)

# --- trace -----------------------------------------------------------------------------

_KEY_NAMES = {
    BY_REQUEST: "request id",
    BY_GLOBAL_REQUEST: "global request id",
    BY_RESOURCE: "resource id",
    BY_TRACE: "trace id",
}


class TraceConsole(Diagnostics):
    """Prints each group as the core closes it, then the summary (text) or ``]`` (JSON)."""

    def __init__(self, out: TextIO, err: TextIO, *, fmt: str = "text") -> None:
        super().__init__(err)
        self.out, self.fmt = out, fmt
        self._count = 0

    def group(self, group: Group) -> None:
        if self.fmt == "json":
            self.out.write(
                ("[\n" if self._count == 0 else ",\n") + dump_json(group_document(group))
            )
        else:
            self.out.write(text_lines([*group_lines(group), ""]))
        self._count += 1

    def finish(self, summary: TraceSummary) -> None:
        self.close_diagnostics()
        if self.fmt == "json":
            self.out.write("[]\n" if self._count == 0 else "\n]\n")
        else:
            self.out.write(text_lines([trace_summary_line(summary)]))

    def missing(self, group_id: str, by: str) -> None:
        self.err.write(
            text_lines([f"No record with {_KEY_NAMES[by]} {group_id}: check --id and --by."])
        )


def group_document(group: Group) -> dict[str, Any]:
    """One group of the ``--format json`` list.

    ``--by trace``: ``spans`` is osprofiler's tree (:func:`profile_span_document`);
    ``--by global-request``: ``requests`` lists each service's request as a group.
    """
    document: dict[str, Any] = {
        "key": group.key,
        "complete": group.complete,
        "dropped": group.dropped,
        "records": [_step_document(step) for step in group.steps],
        "spans": (
            [profile_span_document(span) for span in group.tree]
            if group.tree
            else [_span_document(span) for span in group.spans]
        ),
    }
    if group.children:
        document["requests"] = [
            {
                "key": child.key,
                "publisher": _publisher(child),
                "records": [_step_document(step) for step in child.steps],
                "spans": [_span_document(span) for span in child.spans],
            }
            for child in group.children
        ]
    return document


def profile_span_document(span: ProfileSpan) -> dict[str, Any]:
    """``{"name", "trace_id", "parent_id", "service", "start", "end", "ms", "error",
    "children"}``; ``ms`` is osprofiler's duration in whole milliseconds."""
    return {
        "name": span.name,
        "trace_id": span.trace_id,
        "parent_id": span.parent_id,
        "service": span.service,
        "start": iso(span.start),
        "end": iso(span.end),
        "ms": span.ms,
        "error": span.error,
        "children": [profile_span_document(child) for child in span.children],
    }


def _publisher(group: Group) -> str | None:
    return next((step.publisher for step in group.steps if step.publisher), None)


def _step_document(step: Step) -> dict[str, Any]:
    return {
        "file": step.path,
        "line": step.lineno,
        "event_type": step.event_type,
        "priority": step.priority,
        "at": iso(step.at),
    }


def _span_document(span: Span) -> dict[str, Any]:
    return {
        "event": span.event,
        "start": iso(span.start.at),
        "end": iso(span.end.at) if span.end else None,
        "seconds": None if span.seconds is None else round(span.seconds, 6),
        "outcome": span.outcome,
        "start_record": f"{span.start.path}:{span.start.lineno}",
        "end_record": f"{span.end.path}:{span.end.lineno}" if span.end else None,
    }


def group_lines(group: Group) -> list[str]:
    """A header, one line per record (offset from the first), one line per span."""
    times = [step.at for step in group.steps if step.at is not None]
    first, last = (min(times), max(times)) if times else (None, None)
    header = f"{group.key}: {plural(len(group.steps), 'record')}"
    if first is not None and last is not None and first == last:
        header += f", at {iso(first)}"
    elif first is not None and last is not None:
        header += f", {iso(first)} to {iso(last)} ({seconds_text((last - first).total_seconds())})"
    if group.dropped:
        header += f", {group.dropped} more not kept"
    if not group.complete:
        header += " [closed early: too many open groups]"
    lines = [header]
    if group.tree:
        return lines + _tree_lines(group.tree)
    if group.children:
        for child in group.children:
            lines.extend(_child_lines(child, first))
        return lines
    lines.extend(_step_lines(group, first))
    return lines


def _step_lines(group: Group, first: datetime | None, indent: str = "  ") -> list[str]:
    lines = []
    offsets = [_offset(step.at, first) for step in group.steps]
    width = max(map(len, offsets), default=0)
    for offset, step in zip(offsets, group.steps, strict=True):
        lines.append(
            f"{indent}{offset:>{width}}  {step.path}:{step.lineno}  {step.priority:<5}  "
            f"{step.event_type}"
        )
    for span in group.spans:
        if span.outcome == OPEN:
            start = f"{span.start.path}:{span.start.lineno}"
            lines.append(f"{indent}span {span.event}: open (started at {start}, no end)")
        else:
            lines.append(f"{indent}span {span.event}: {seconds_text(span.seconds)}, {span.outcome}")
    return lines


def _child_lines(child: Group, first: datetime | None) -> list[str]:
    """One request of a chain: its id and publisher, then its records and spans."""
    publisher = _publisher(child)
    head = f"  request {child.key}" + (f" ({publisher})" if publisher else "")
    return [f"{head}: {plural(len(child.steps), 'record')}", *_step_lines(child, first, "    ")]


def _tree_lines(tree: tuple[ProfileSpan, ...]) -> list[str]:
    """``  +0 ms  wsgi (nova-api): 52 ms``, children indented under their parent."""
    rows: list[tuple[str, str]] = []

    def visit(span: ProfileSpan, depth: int) -> None:
        text = "  " * depth + span.name
        if span.service:
            text += f" ({span.service})"
        text += f": {span.ms:,} ms"
        if span.start is None or span.end is None:
            text += ", no " + ("start" if span.start is None else "stop") + " recorded"
        if span.error:
            text += f", error {span.error}"
        rows.append((f"+{span.started_ms:,} ms", text))
        for child in span.children:
            visit(child, depth + 1)

    for span in tree:
        visit(span, 0)
    width = max(len(offset) for offset, _ in rows)
    return [f"  {offset:>{width}}  {text}" for offset, text in rows]


def _offset(at: datetime | None, first: datetime | None) -> str:
    if at is None or first is None:
        return "?"
    return f"+{(at - first).total_seconds():.3f} s"


def trace_summary_line(summary: TraceSummary) -> str:
    name = _KEY_NAMES[summary.by]
    text = (
        f"{plural(summary.groups, 'group')} by {name}, {plural(summary.records, 'record')} "
        f"({summary.ungrouped:,} without a {name}); "
        f"{plural(summary.spans, 'span')}, {summary.open_spans:,} open"
    )
    if summary.unreadable:
        text += f"; {summary.unreadable:,} unreadable lines skipped"
    if summary.closed_early:
        text += f"; {summary.closed_early:,} groups closed early (raise --max-groups)"
    return text
