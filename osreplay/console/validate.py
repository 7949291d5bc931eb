"""What ``osreplay validate`` prints: reporters, progress and the closing lines.

A reporter is built with the output stream, gets every :class:`~osreplay.validate.validator.Verdict`
in order, then the :class:`~osreplay.validate.validator.Summary`::

    reporter = REPORTERS["text"](sys.stdout, quiet=False)
    for verdict in verdicts:
        reporter.verdict(verdict)
    reporter.finish(summary)

``text`` writes one line per problem and a summary line::

    bad.ndjson:3: not valid JSON: Expecting value ('{oops')
    bad.ndjson:9: identity.authenticate: $.payload.outcome: "lost" is not one of …
    12 records: 4 valid, 6 invalid, 0 without payload schema, 2 unreadable

Before the summary line come the notes (an object version checked against another
version's schema, or not at all) and the payload schemas used, by family::

    note: InstanceCreatePayload 1.99 is newer than the schemas (up to 1.13): checked against 1.13
    payload schemas: cadf-event (5 records), nova (7 records, 3 object versions)

``quiet`` prints only the summary line (the exit code still tells valid from invalid).

``json`` writes one JSON document, problems streamed as they come (memory stays flat)::

    {"problems": [
      {"file": "a.ndjson", "line": 3, "status": "invalid", "event_type": "identity.authenticate",
       "json_path": "$.payload.outcome", "message": "..."}
    ],
    "summary": {"records": 12, "valid": 4, "invalid": 6, "no_schema": 0, "unreadable": 2},
    "by_schema": {"cadf-event": {"valid": 3, "invalid": 6}, "nova:InstanceCreatePayload@1.13": …},
    "notes": [{"family": "nova", "object": "InstanceCreatePayload", "version": "1.99",
               "kind": "newer", "checked_against": "1.13", "message": "…"}]}

It ignores ``quiet``: the document is always complete. When a file becomes unreadable
half-way, ``finish(summary, error=MESSAGE)`` still closes it, with an ``"error"`` key.

:class:`ValidateConsole` is what :func:`osreplay.validate.run.run` talks to: it hands it
facts (verdicts, the summary, the error that cut a run short) and this module words them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TextIO

from osreplay.bus.url import mask_secrets
from osreplay.console.text import CLEAR_LINE, escape_control, json_line, records
from osreplay.errors import OsreplayError
from osreplay.validate.validator import Problem, Summary, Verdict
from osreplay.validate.verdicts import BETWEEN, MAJOR, NEWER, OLDER, Note

# Shown where a record has no usable event_type (a bare CADF event, a broken record).
NO_EVENT_TYPE = "-"


def format_problem(problem: Problem) -> str:
    """``FILE:LINE: EVENT_TYPE: JSON_PATH: MESSAGE``, or ``FILE:LINE: MESSAGE`` if unreadable."""
    if problem.json_path is None:
        return escape_control(f"{problem.path}:{problem.lineno}: {problem.message}")
    event_type = problem.event_type if problem.event_type is not None else NO_EVENT_TYPE
    return escape_control(
        f"{problem.path}:{problem.lineno}: {event_type}: {problem.json_path}: {problem.message}"
    )


def format_summary(summary: Summary) -> str:
    return (
        f"{summary.records} {records(summary.records)}: {summary.valid} valid, "
        f"{summary.invalid} invalid, "
        f"{summary.no_schema} without payload schema, {summary.unreadable} unreadable"
    )


_MAX_NAME = 60  # a name or version from a record, shortened in a note


def format_note(note: Note) -> str:
    """One line on how an object version was checked, e.g. ``InstanceCreatePayload 1.99 is
    newer than the schemas (up to 1.13): checked against 1.13``."""
    what = f"{_short(note.name)} {_short(note.version)}"
    shipped = note.shipped
    checked = f"checked against {note.used}"
    if note.kind == NEWER:
        return f"{what} is newer than the schemas (up to {shipped[-1]}): {checked}"
    if note.kind == BETWEEN:
        return f"{what} is not in the schemas ({', '.join(shipped)}): {checked}"
    if note.kind == OLDER:
        return (
            f"{what} is older than the schemas (from {shipped[0]}): {checked}, "
            "without requiring the fields added since"
        )
    if note.kind == MAJOR:
        return f"{what}: the schemas have {', '.join(shipped)} only: its fields are not checked"
    return (
        f"{what}: no {note.family} object of that name in the schemas: its fields are not checked"
    )


def _short(text: str) -> str:
    return text if len(text) <= _MAX_NAME else text[: _MAX_NAME - 1] + "…"


def note_lines(summary: Summary) -> list[str]:
    """``note: …`` for each note, and one for the notes past the limit."""
    lines = [f"note: {format_note(note)}" for note in summary.notes]
    if summary.notes.more:
        lines.append(
            f"note: and {summary.notes.more} more object versions not checked against "
            "their own schema"
        )
    return [escape_control(line) for line in lines]


def schema_family(name: str) -> str:
    """The family of a payload schema: ``nova`` for ``nova:InstanceCreatePayload@1.13`` and
    ``nova-versioned``; a shipped schema's name; a user schema's path."""
    for family in ("nova", "ironic"):
        if name.startswith(f"{family}:") or name == f"{family}-versioned":
            return family
    return name


def format_families(summary: Summary) -> str | None:
    """``payload schemas: cadf-event (5 records), nova (7 records, 3 object versions)`` (by
    name), or
    None when no payload schema was used."""
    families: dict[str, list[int]] = {}  # family -> [records, object versions]
    for name, counts in summary.by_schema.items():
        totals = families.setdefault(schema_family(name), [0, 0])
        totals[0] += sum(counts.values())
        totals[1] += ":" in name
    if not families:
        return None
    parts = []
    shipped = ("cadf-event", "ironic", "keystone-basic", "nova")  # then user schemas
    for family, (count, versions) in sorted(
        families.items(), key=lambda item: (item[0] not in shipped, item[0])
    ):
        detail = f"{count} {records(count)}"
        if versions:
            detail += f", {versions} object version{'s' if versions != 1 else ''}"
        parts.append(f"{family} ({detail})")
    return escape_control("payload schemas: " + ", ".join(parts))


def by_schema(summary: Summary) -> dict[str, dict[str, int]]:
    """``by_schema`` of the JSON report: the counts by schema name, sorted."""
    return {name: dict(summary.by_schema[name]) for name in sorted(summary.by_schema)}


def note_item(note: Note) -> dict[str, str | None]:
    return {
        "family": note.family,
        "object": note.name,
        "version": note.version,
        "kind": note.kind,
        "checked_against": note.used,
        "message": format_note(note),
    }


class TextReporter:
    """One line per problem (left out when quiet), then the summary line."""

    def __init__(self, stream: TextIO, *, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet

    def verdict(self, verdict: Verdict) -> None:
        if self.quiet:
            return
        for problem in verdict.problems:
            self.stream.write(format_problem(problem) + "\n")

    def finish(self, summary: Summary, *, error: str | None = None) -> None:
        """The notes, the schema families and the summary line (quiet: the summary line
        only); none of them when the run was cut short by ``error`` (told on stderr)."""
        if error is None:
            lines = [] if self.quiet else note_lines(summary)
            families = None if self.quiet else format_families(summary)
            lines += [families] if families else []
            lines.append(format_summary(summary))
            self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()


class JsonReporter:
    """One JSON document: ``{"problems": [...], "summary": {...}}``."""

    def __init__(self, stream: TextIO, *, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        self._count = 0

    def verdict(self, verdict: Verdict) -> None:
        for problem in verdict.problems:
            item = {
                "file": problem.path,
                "line": problem.lineno,
                "status": verdict.status,
                "event_type": problem.event_type,
                "json_path": problem.json_path,
                "message": problem.message,
            }
            self.stream.write('{"problems": [\n  ' if not self._count else ",\n  ")
            self.stream.write(json_line(item))
            self._count += 1

    def finish(self, summary: Summary, *, error: str | None = None) -> None:
        """Close the document; ``error`` (a run cut short) is added as ``"error"``."""
        head = "\n],\n" if self._count else '{"problems": [],\n'
        notes = [note_item(note) for note in summary.notes]
        tail = f',\n"by_schema": {json_line(by_schema(summary))}'
        tail += f',\n"notes": {json_line(notes)}'
        if summary.notes.more:
            tail += f',\n"notes_left_out": {summary.notes.more}'
        tail += f',\n"error": {json_line(error)}' if error is not None else ""
        self.stream.write(head + '"summary": ' + json.dumps(summary.as_dict()) + tail + "}\n")
        self.stream.flush()


class ValidateProgress:
    """``validating FILE: N records, R/s`` on a terminal, redrawn at most 5 times a second.

    The run calls :meth:`update` every 1,024 lines (osreplay.validate.scan).
    """

    def __init__(self, stream: TextIO, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.clock = clock
        self.started = clock()
        self.drawn = self.started
        self.shown = False

    def update(self, path: str, records: int) -> None:
        """``records`` read so far, ``path`` being read."""
        now = self.clock()
        if now - self.drawn >= 0.2:
            self.drawn = now
            elapsed = now - self.started
            rate = records / elapsed if elapsed > 0 else 0.0
            self.stream.write(
                f"{CLEAR_LINE}validating {escape_control(path)}: {records} records, {rate:,.0f}/s"
            )
            self.stream.flush()
            self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write(CLEAR_LINE)
            self.stream.flush()


REPORTERS: dict[str, type[TextReporter] | type[JsonReporter]] = {
    "text": TextReporter,
    "json": JsonReporter,
}

__all__ = [
    "NO_EVENT_TYPE",
    "REPORTERS",
    "JsonReporter",
    "TextReporter",
    "ValidateConsole",
    "ValidateProgress",
    "by_schema",
    "format_families",
    "format_note",
    "format_problem",
    "format_summary",
    "note_lines",
]


class ValidateConsole:
    """The command line's console for :func:`osreplay.validate.run.run`.

    Reports on ``stdout`` in ``fmt`` (``text`` or ``json``); progress on ``stderr`` only
    where it cannot mix with the report: stderr a terminal, stdout not (or nothing printed
    before the summary).
    """

    def __init__(self, *, fmt: str, quiet: bool, stdout: TextIO, stderr: TextIO) -> None:
        self.stderr = stderr
        self.reporter = REPORTERS[fmt](stdout, quiet=quiet)
        show_progress = stderr.isatty() and (quiet or not stdout.isatty())
        self._progress = ValidateProgress(stderr) if show_progress else None
        self.verdict = self.reporter.verdict  # type: ignore[method-assign]

    def verdict(self, verdict: Verdict) -> None:
        self.reporter.verdict(verdict)

    def progress(self, path: str, records: int) -> None:
        if self._progress is not None:
            self._progress.update(path, records)

    def finish(self, summary: Summary, *, error: OsreplayError | None = None) -> None:
        if self._progress is not None:
            self._progress.close()
        message = None if error is None else escape_control(mask_secrets(str(error)))
        self.reporter.finish(summary, error=message)

    def interrupted(self, summary: Summary) -> None:
        # Not exit status 1: that would read as "invalid records found".
        self.stderr.write(
            f"Interrupted after {summary.records} {records(summary.records)}: "
            "the summary covers only those\n"
        )
        self.stderr.flush()
