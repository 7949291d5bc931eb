"""Reporters: turn validation verdicts into text or JSON on a stream.

A reporter is built with the output stream, gets every :class:`~osreplay.validate.Verdict`
in order, then the :class:`~osreplay.validate.Summary`::

    reporter = REPORTERS["text"](sys.stdout, quiet=False)
    for verdict in verdicts:
        reporter.verdict(verdict)
    reporter.finish(summary)

``text`` writes one line per problem and a summary line::

    bad.ndjson:3: not valid JSON: Expecting value ('{oops')
    bad.ndjson:9: identity.authenticate: $.payload.outcome: "lost" is not one of …
    12 records: 4 valid, 6 invalid, 0 without payload schema, 2 unreadable

``quiet`` prints only the summary line (the exit code still tells valid from invalid).

``json`` writes one JSON document, problems streamed as they come (memory stays flat)::

    {"problems": [
      {"file": "a.ndjson", "line": 3, "status": "invalid", "event_type": "identity.authenticate",
       "json_path": "$.payload.outcome", "message": "..."}
    ],
    "summary": {"records": 12, "valid": 4, "invalid": 6, "no_schema": 0, "unreadable": 2}}

It ignores ``quiet``: the document is always complete.
"""

from __future__ import annotations

import json
from typing import TextIO

from osreplay.validate import Problem, Summary, Verdict

# Shown where a record has no usable event_type (a bare CADF event, a broken record).
NO_EVENT_TYPE = "-"


def format_problem(problem: Problem) -> str:
    """``FILE:LINE: EVENT_TYPE: JSON_PATH: MESSAGE``, or ``FILE:LINE: MESSAGE`` if unreadable."""
    if problem.json_path is None:
        return f"{problem.path}:{problem.lineno}: {problem.message}"
    event_type = problem.event_type if problem.event_type is not None else NO_EVENT_TYPE
    return f"{problem.path}:{problem.lineno}: {event_type}: {problem.json_path}: {problem.message}"


def format_summary(summary: Summary) -> str:
    return (
        f"{summary.records} records: {summary.valid} valid, {summary.invalid} invalid, "
        f"{summary.no_schema} without payload schema, {summary.unreadable} unreadable"
    )


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

    def finish(self, summary: Summary) -> None:
        self.stream.write(format_summary(summary) + "\n")
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
            self.stream.write(json.dumps(item, ensure_ascii=False))
            self._count += 1

    def finish(self, summary: Summary) -> None:
        head = "\n],\n" if self._count else '{"problems": [],\n'
        self.stream.write(head + '"summary": ' + json.dumps(summary.as_dict()) + "}\n")
        self.stream.flush()


REPORTERS: dict[str, type[TextReporter] | type[JsonReporter]] = {
    "text": TextReporter,
    "json": JsonReporter,
}

__all__ = ["REPORTERS", "JsonReporter", "TextReporter", "format_problem", "format_summary"]
