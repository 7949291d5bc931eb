"""How ``osreplay schema infer`` and ``osreplay schema diff`` speak, as text or JSON."""

from __future__ import annotations

from typing import Any, TextIO

from osreplay.console.scenario import Diagnostics, dump_json, plural
from osreplay.console.text import text_lines
from osreplay.scenario.schema import Drift, InferSummary, SchemaDiffSummary


class InferConsole(Diagnostics):
    def __init__(self, out: TextIO, err: TextIO, *, fmt: str = "text") -> None:
        super().__init__(err)
        self.out, self.fmt = out, fmt

    def finish(self, summary: InferSummary) -> None:
        self.close_diagnostics()
        if self.fmt == "json":
            self.out.write(dump_json(infer_document(summary)) + "\n")
            return
        lines = [
            f"{s.path}: {s.event_type}"
            + (f" {s.object_name or ''} {s.version}".rstrip() if s.version else "")
            + f" ({plural(s.records, 'record')})"
            for s in summary.schemas
        ]
        lines.append(
            f"{plural(len(summary.schemas), 'schema')} from {plural(summary.records, 'record')} "
            f"written to {summary.output}"
        )
        self.out.write(text_lines(lines))


def infer_document(summary: InferSummary) -> dict[str, Any]:
    return {
        "files": list(summary.files),
        "output": summary.output,
        "records": summary.records,
        "unreadable": summary.unreadable,
        "schemas": [
            {
                "event_type": s.event_type,
                "object": s.object_name,
                "version": s.version,
                "records": s.records,
                "path": s.path,
            }
            for s in summary.schemas
        ],
    }


class SchemaDiffConsole(Diagnostics):
    def __init__(self, out: TextIO, err: TextIO, *, fmt: str = "text") -> None:
        super().__init__(err)
        self.out, self.fmt = out, fmt

    def finish(self, summary: SchemaDiffSummary) -> None:
        self.close_diagnostics()
        if self.fmt == "json":
            self.out.write(dump_json(schema_diff_document(summary)) + "\n")
        else:
            self.out.write(text_lines(schema_diff_lines(summary)))


def schema_diff_document(summary: SchemaDiffSummary) -> dict[str, Any]:
    return {
        "a": summary.a,
        "b": summary.b,
        "event_types": {"a": summary.event_types_a, "b": summary.event_types_b},
        "versions": {t: {"a": a, "b": b} for t, (a, b) in summary.versions.items()},
        "changes": [
            {
                "event_type": d.event_type,
                "kind": d.kind,
                "path": d.path,
                "a": d.a,
                "b": d.b,
                "breaking": d.breaking,
            }
            for d in summary.drifts
        ],
        "breaking": len(summary.breaking),
    }


def schema_diff_lines(summary: SchemaDiffSummary) -> list[str]:
    lines = []
    for event_type, (a, b) in summary.versions.items():
        was, now = ", ".join(a) or "-", ", ".join(b) or "-"
        lines.append(f"  {event_type}: payload version {was} in A, {now} in B")
    lines.extend(_drift_line(d) for d in summary.drifts)
    counted = f"{plural(summary.event_types_a, 'event type')} in A, {summary.event_types_b:,} in B"
    if not summary.drifts:
        lines.append(f"No drift ({counted})")
    else:
        changes = plural(len(summary.drifts), "change")
        lines.append(f"{changes}, {len(summary.breaking):,} breaking ({counted})")
    return lines


def _drift_line(d: Drift) -> str:
    mark = "!" if d.breaking else " "
    if d.path is None:
        return f"{mark} {d.event_type}: {d.kind}"
    detail = ""
    if d.a is not None and d.b is not None:
        detail = f": {'|'.join(d.a)} -> {'|'.join(d.b)}"
    elif d.a is not None:
        detail = f" (was {'|'.join(d.a)})"
    elif d.b is not None:
        detail = f" ({'|'.join(d.b)})"
    return f"{mark} {d.event_type}: {d.path}: {d.kind}{detail}"
