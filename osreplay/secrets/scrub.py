"""``osreplay redact``: scrub existing recordings, streaming, line by line, into one.

Several inputs (files, folders, globs: :func:`osreplay.model.files.expand_inputs`) are
scrubbed in order into the one output, as ``cat`` would join them.

Secrets are masked by :meth:`osreplay.secrets.rules.Redactor.record`, the rules ``osreplay
record`` applies by default (one place: a rule added there applies here too), plus
``--redact-key`` keys. With ``pseudonymise``
identifying values are also replaced by keyed pseudonyms (:mod:`osreplay.secrets.pseudonym`).

Each line is read in the recording format (oslo v1 and v2 wire bodies are unwrapped, as
every command reads them), so a ``_context_auth_token`` is masked like ``ctxt.auth_token``;
a bare CADF event is masked like the payload it was. A line that cannot be read is not
written (a secret in it could not be found): the console is told (the first
:data:`LISTED_DROPS`) and the summary counts it. Nothing here prints.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from osreplay.errors import UsageError
from osreplay.model.files import expand_inputs
from osreplay.model.ndjson import Line, check_readable, display_name, read_lines
from osreplay.model.notification import RecordError, dumps_line, is_bare_cadf, normalise
from osreplay.model.output import output_path
from osreplay.model.writer import RecordingWriter
from osreplay.secrets.pseudonym import Pseudonymiser, key_from_seed, new_key
from osreplay.secrets.rules import Redactor

_BATCH = 256
#: Dropped lines listed one by one; more are only counted (memory stays bounded).
LISTED_DROPS = 20


@dataclass(frozen=True)
class RedactOptions:
    """What ``osreplay redact`` was asked to do."""

    sources: tuple[str, ...]
    output: str = "-"
    pseudonymise: bool = False
    seed: str | None = None
    redact_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Dropped:
    """A line not written: it could not be read, so it could not be scrubbed."""

    path: str
    lineno: int
    reason: str


@dataclass
class RedactSummary:
    """What a redact run did; the presentation layer renders it."""

    source: str  # the input, or "N files"
    output: str
    records: int = 0
    masked: int = 0
    pseudonyms: int = 0
    #: The first :data:`LISTED_DROPS` lines dropped; ``dropped_total`` counts them all.
    dropped: list[Dropped] = field(default_factory=list)
    dropped_total: int = 0

    @property
    def ok(self) -> bool:
        return not self.dropped_total

    def drop(self, path: str, lineno: int, reason: str) -> Dropped | None:
        """Count a dropped line; the Dropped when it is one of those listed."""
        self.dropped_total += 1
        if len(self.dropped) >= LISTED_DROPS:
            return None
        dropped = Dropped(path, lineno, reason)
        self.dropped.append(dropped)
        return dropped


class RedactConsole(Protocol):
    """The presentation layer (osreplay.console.redact): told of each listed drop."""

    def dropped(self, dropped: Dropped) -> None: ...


class Scrubber:
    """Masks secrets in one record (and pseudonymises it when given a Pseudonymiser)."""

    def __init__(self, redactor: Redactor, pseudonymiser: Pseudonymiser | None = None) -> None:
        self.redactor = redactor
        self.pseudonymiser = pseudonymiser

    def scrub(self, obj: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The scrubbed record and whether a secret was masked; RecordError if unreadable."""
        obj = normalise(obj)
        # A bare CADF event is the payload of a notification; anything else is a record.
        new = self.redactor.payload(obj) if is_bare_cadf(obj) else self.redactor.record(obj)
        masked = _changed(new, obj)
        obj = new
        if self.pseudonymiser is not None:
            obj = self.pseudonymiser.record(obj)
        return obj, masked


def _changed(new: Any, old: Any) -> bool:
    return new is not old and new != old


def run(options: RedactOptions, console: RedactConsole) -> RedactSummary:
    """Scrub ``options.sources`` into ``options.output``; return what was done."""
    sources = expand_inputs(options.sources)
    for source in sources:  # a missing input is an error before OUT is touched
        check_readable(source)
        _check_not_output(source, options.output)
    # OUT is checked before any work too: a folder or a path that cannot be written is an
    # error now, not after every input was read.
    output = output_path(options.output, atomic=True)
    pseudonymiser = None
    if options.pseudonymise:
        key = key_from_seed(options.seed) if options.seed is not None else new_key()
        pseudonymiser = Pseudonymiser(key)
    elif options.seed is not None:
        raise UsageError("--seed keys the pseudonyms: it needs --pseudonymise")
    scrubber = Scrubber(Redactor(extra_keys=options.redact_keys), pseudonymiser)
    summary = RedactSummary(_input_name(sources), _output_name(options.output))
    # A regular OUT is written into a file beside it that replaces it once complete: a run
    # that fails half-way leaves OUT as it was, never a half-scrubbed copy that looks
    # whole. A device, FIFO or socket is written in place; a link's target is written.
    with RecordingWriter(output, atomic=True) as writer:
        lines = (line for source in sources for line in read_lines(source))
        _copy(lines, writer, scrubber, summary, console)
    if pseudonymiser is not None:
        summary.pseudonyms = pseudonymiser.distinct
    return summary


def _copy(
    lines: Iterable[Line],
    writer: RecordingWriter,
    scrubber: Scrubber,
    summary: RedactSummary,
    console: RedactConsole,
) -> None:
    def drop(line: Line, reason: str) -> None:
        dropped = summary.drop(line.path, line.lineno, reason)
        if dropped is not None:
            console.dropped(dropped)

    batch: list[str] = []
    for line in lines:
        if line.obj is None:
            drop(line, line.error or "unreadable")
            continue
        try:
            obj, masked = scrubber.scrub(line.obj)
            text = dumps_line(obj)
        except (RecordError, ValueError, TypeError) as exc:
            drop(line, str(exc))
            continue
        summary.records += 1
        summary.masked += masked
        batch.append(text)
        if len(batch) >= _BATCH:
            writer.write(batch)
            batch.clear()
    writer.write(batch)
    writer.flush()


def _check_not_output(source: str, output: str) -> None:
    if source != "-" and output != "-":
        same = os.path.exists(source) and os.path.exists(output)
        if same and os.path.samefile(source, output):
            raise UsageError(f"-o {output} is the input file: write the redacted copy elsewhere")


def _input_name(sources: tuple[str, ...]) -> str:
    """The one input's name, else how many files were read."""
    return display_name(sources[0]) if len(sources) == 1 else f"{len(sources)} files"


def _output_name(output: str) -> str:
    return "<stdout>" if output == "-" else output


__all__ = ["Dropped", "RedactConsole", "RedactOptions", "RedactSummary", "Scrubber", "run"]
