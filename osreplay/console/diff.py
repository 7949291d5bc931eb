"""How ``osreplay diff`` speaks: what changed between two recordings, as text or JSON."""

from __future__ import annotations

from typing import Any, TextIO

from osreplay.console.scenario import (
    Diagnostics,
    dump_json,
    plural,
)
from osreplay.console.text import text_lines
from osreplay.scenario.diff import ADDED, REMOVED, TYPE, VERSION, Change, DiffSummary, format_path

# --- diff ------------------------------------------------------------------------------

_VALUE_PREVIEW = 60


class DiffConsole(Diagnostics):
    """Prints the differences as text lines or one JSON document."""

    def __init__(self, out: TextIO, err: TextIO, *, fmt: str = "text") -> None:
        super().__init__(err)
        self.out, self.fmt = out, fmt

    def finish(self, summary: DiffSummary) -> None:
        self.close_diagnostics()
        if self.fmt == "json":
            self.out.write(dump_json(diff_document(summary)) + "\n")
        else:
            self.out.write(text_lines(diff_lines(summary)))


def diff_document(summary: DiffSummary) -> dict[str, Any]:
    """``{"added": [...], "removed": [...], "count_changed": [...], "changed": [...]}``."""
    return {
        "a": summary.a,
        "b": summary.b,
        "records": {"a": summary.records_a, "b": summary.records_b, "pairs": summary.pairs},
        "added": summary.added,
        "removed": summary.removed,
        "count_changed": [
            {"event_type": c.event_type, "a": c.a, "b": c.b} for c in summary.counts if c.a and c.b
        ],
        "changed": [_change_document(change) for change in summary.changes],
    }


def _change_document(change: Change) -> dict[str, Any]:
    doc = {
        "event_type": change.event_type,
        "path": format_path(change.path),
        "kind": change.kind,
        "a": change.a,
        "b": change.b,
        "records": change.records,
        "first_a": change.where_a,
        "first_b": change.where_b,
    }
    if change.name is not None:
        doc["object"] = change.name
    return doc


def diff_lines(summary: DiffSummary) -> list[str]:
    """One line per event type added, removed or recounted, one per change, a verdict."""
    lines = []
    for count in summary.counts:
        if count.a == 0:
            lines.append(f"+ {count.event_type}: only in B ({plural(count.b, 'record')})")
        elif count.b == 0:
            lines.append(f"- {count.event_type}: only in A ({plural(count.a, 'record')})")
        else:
            lines.append(f"~ {count.event_type}: {count.a:,} records in A, {count.b:,} in B")
    for change in summary.changes:
        lines.append(f"{change.event_type}: {format_path(change.path)}: {_change_text(change)}")
    if summary.differs:
        types = len(
            {c.event_type for c in summary.counts} | {c.event_type for c in summary.changes}
        )
        lines.append(
            f"{len(summary.counts) + len(summary.changes)} differences in "
            f"{plural(types, 'event type')} ({_counted(summary)})"
        )
    else:
        lines.append(f"No difference beyond volatile fields ({_counted(summary)})")
    return lines


def _counted(summary: DiffSummary) -> str:
    return (
        f"{plural(summary.records_a, 'record')} in A, {summary.records_b:,} in B, "
        f"{plural(summary.pairs, 'pair')} compared"
    )


def _change_text(change: Change) -> str:
    pairs = f" ({plural(change.records, 'pair')})"
    if change.kind == ADDED:
        return f"only in B ({_preview(change.b)}){pairs}"
    if change.kind == REMOVED:
        return f"only in A ({_preview(change.a)}){pairs}"
    if change.kind == VERSION:
        name = f"{change.name} " if change.name else ""
        return f"{name}version {change.a} in A, {change.b} in B{pairs}"
    if change.kind == TYPE:
        return f"type changed: {_preview(change.a)} in A, {_preview(change.b)} in B{pairs}"
    return f"{_preview(change.a)} in A, {_preview(change.b)} in B{pairs}"


def _preview(value: Any) -> str:
    text = dump_json(value)
    return text if len(text) <= _VALUE_PREVIEW else text[: _VALUE_PREVIEW - 1] + "…"
