"""How ``osreplay ceilometer`` speaks: the predicted events and samples, as text or JSON.

The text report has a block per event type (the winning definition, then a row per trait:
type, how many records gave it a value, how many gave none, one example), a table of
meters (samples, volume range, records that gave no sample and why), the coverage, and a
closing line. ``--format json`` adds every event and every sample one by one.
"""

from __future__ import annotations

import math
from typing import Any, TextIO

from osreplay.console.scenario import Diagnostics, dump_json, plural, table
from osreplay.console.text import text_lines
from osreplay.consumers.run import EventTypeReport, MeterReport, Prediction

_EXAMPLE = 48


class CeilometerConsole(Diagnostics):
    """Prints a :class:`~osreplay.consumers.run.Prediction` as text or one JSON document."""

    def __init__(self, out: TextIO, err: TextIO, *, fmt: str = "text") -> None:
        super().__init__(err)
        self.out, self.fmt = out, fmt

    def finish(self, prediction: Prediction, *, fail_on: tuple[str, ...] = ()) -> None:
        self.close_diagnostics()
        for where, why in prediction.skipped_meters:
            self.err.write(text_lines([f"{where}: meter skipped by Ceilometer: {why}"]))
        self.err.flush()  # before the report, where a terminal shows it
        if self.fmt == "json":
            self.out.write(dump_json(prediction_document(prediction)) + "\n")
        else:
            self.out.write(text_lines(prediction_lines(prediction, fail_on)))


def prediction_document(p: Prediction) -> dict[str, Any]:
    """The ``--format json`` document (its shape is documented in docs/ceilometer.md)."""
    return {
        "files": list(p.files),
        "definitions": {"events": p.events_file, "meters": p.meter_files},
        "records": p.records,
        "unreadable": p.unreadable,
        "not_heard": dict(p.not_heard),
        "event_types": [_event_type_doc(r) for r in p.event_types.values()],
        "meters": [_meter_doc(m) for m in p.meters.values()],
        "coverage": {
            "unmatched_event_types": p.unmatched_types,
            "unused_event_definitions": [
                {"definition": where, "event_type": types} for where, types in p.unused_definitions
            ],
            "unused_meters": [m.name for m in p.unused_meters],
            "skipped_meter_definitions": [
                {"definition": where, "reason": why} for where, why in p.skipped_meters
            ],
            "builtin_sample_event_types": dict(p.builtin),
        },
        "requeued": p.requeued,
        "conditions": p.conditions(),
        "events": p.events,
        "samples": p.samples,
    }


def _event_type_doc(r: EventTypeReport) -> dict[str, Any]:
    return {
        "event_type": r.event_type,
        "records": r.records,
        "events": r.events,
        "definition": r.definition,
        "dropped": dict(r.dropped),
        "traits": [
            {
                "name": t.name,
                "type": t.type,
                "declared": t.declared,
                "given": t.given,
                "empty": t.empty,
                "example": t.example,
            }
            for t in r.traits.values()
        ],
    }


def _meter_doc(m: MeterReport) -> dict[str, Any]:
    return {
        "name": m.name,
        "definition": m.definition,
        "records": m.records,
        "samples": m.samples,
        "volume": {"min": m.low, "max": m.high},
        "no_sample": dict(m.no_sample),
        "refused_samples": m.refused_samples,
    }


def prediction_lines(p: Prediction, fail_on: tuple[str, ...] = ()) -> list[str]:
    lines: list[str] = []
    if p.events_file is not None:
        lines.append(f"Events (definitions {p.events_file})")
        for report in p.event_types.values():
            lines.extend(_event_type_lines(report))
        if not p.event_types:
            lines.append("  no record of priority INFO or ERROR reaches the event pipeline")
        lines.append("")
    if p.meter_files:
        lines.append(f"Meters (definitions {', '.join(p.meter_files)})")
        lines.extend(_meter_lines(p))
        lines.append("")
    lines.extend(_coverage_lines(p))
    lines.append(_verdict(p, fail_on))
    return lines


def _event_type_lines(r: EventTypeReport) -> list[str]:
    won = r.definition or "no definition: dropped (drop_unmatched_notifications)"
    if r.definition == "catch-all":
        won = "no definition: Ceilometer's catch-all (default traits only)"
    lines = [f"{r.event_type}: {plural(r.records, 'record')}, {plural(r.events, 'event')} <- {won}"]
    for reason, count in r.dropped.items():
        first = f", first at {r.first_dropped}" if r.first_dropped else ""
        lines.append(f"  dropped {count:,}: {reason}{first}")
    if r.events:
        rows = [
            (
                t.name if t.declared else f"{t.name} (default)",
                t.type,
                t.given,
                t.empty,
                "-" if t.example is None else _example(t.example),
            )
            for t in r.traits.values()
        ]
        lines.extend(
            "  " + row for row in table(("trait", "type", "given", "empty", "example"), rows)
        )
    return lines


def _meter_lines(p: Prediction) -> list[str]:
    if not p.meters:
        return ["  no meter definition loaded"]
    rows = [
        (
            m.name,
            m.records,
            m.samples,
            _range(m),
            sum(m.no_sample.values()),
            m.definition,
        )
        for m in p.meters.values()
    ]
    lines = [
        "  " + row
        for row in table(("meter", "records", "samples", "volume", "no sample", "definition"), rows)
    ]
    for m in p.meters.values():
        for reason, count in m.no_sample.items():
            first = m.first_no_sample.get(reason)
            lines.append(
                f"  {m.name}: {plural(count, 'record')} gave no sample: {reason}"
                + (f" (first at {first})" if first else "")
            )
        if m.refused_samples:
            lines.append(
                f"  {m.name}: {plural(m.refused_samples, 'sample')} refused beside kept ones"
            )
    return lines


def _coverage_lines(p: Prediction) -> list[str]:
    lines = ["Coverage"]
    if p.events_file is not None:
        unmatched = [f"{t} ({p.event_types[t].records:,})" for t in p.unmatched_types]
        lines.extend(_listed("event types matching no definition", unmatched))
        unused_definitions = [
            f"{where} ({', '.join(types)})" for where, types in p.unused_definitions
        ]
        lines.extend(_listed("event definitions that matched nothing", unused_definitions))
    if p.meter_files:
        unused = [f"{m.name} ({m.definition})" for m in p.unused_meters]
        lines.extend(_listed("meters whose event_type matched no record", unused))
        for where, why in p.skipped_meters:
            lines.append(f"  meter definition skipped by Ceilometer: {where}: {why}")
        for event_type, count in p.builtin.items():
            lines.append(
                f"  {event_type}: {plural(count, 'record')} also handled by a built-in "
                "Ceilometer endpoint (not predicted)"
            )
    if p.not_heard:
        reasons = ", ".join(f"{why}: {count:,}" for why, count in p.not_heard.items())
        lines.append(
            f"  not converted by Ceilometer: {plural(sum(p.not_heard.values()), 'record')} "
            f"({reasons})"
        )
    for line in p.requeued:
        lines.append(
            f"  requeued without end (its event is published again at each delivery): {line}"
        )
    return lines


def _listed(title: str, items: list[str]) -> list[str]:
    """``title: a, b`` on one line for a few items, else one item per line below it."""
    if len(items) <= 3:
        return [f"  {title}: {', '.join(items) or 'none'}"]
    return [f"  {title}: {len(items):,}", *(f"    {item}" for item in items)]


def _verdict(p: Prediction, fail_on: tuple[str, ...]) -> str:
    text = (
        f"{plural(p.records, 'record')}: {plural(p.event_count, 'event')}, "
        f"{plural(p.sample_count, 'sample')}"
    )
    failed = p.failed(fail_on)
    if failed:
        text += f"; failing on: {', '.join(failed)}"
    return text


def _range(m: MeterReport) -> str:
    if m.low is None or m.high is None:
        return "-"
    if m.low == m.high:
        return _number(m.low)
    return f"{_number(m.low)}..{_number(m.high)}"


def _number(value: float) -> str:
    if math.isfinite(value) and value.is_integer():
        return f"{int(value):,}"
    return f"{value:,.6g}"


def _example(value: Any) -> str:
    text = value if isinstance(value, str) and value else dump_json(value)
    return text if len(text) <= _EXAMPLE else text[: _EXAMPLE - 1] + "…"
