"""``osreplay validate`` as one call: :func:`run` checks files and hands facts to a console.

The console (osreplay.console.validate.ValidateConsole for the command line) gets every
verdict built (each line with a problem has one) in order, progress every 1,024 lines,
then the summary; it words them. The run never prints.

- Every file is checked readable before the first verdict, so a missing file is a usage
  error before any report starts.
- A file that becomes unreadable half-way: the console still finishes the report (a JSON
  document is always closed), then the InputError is raised.
- Ctrl-C or SIGTERM: the console finishes the report over what was read and is told the
  run was interrupted; then the KeyboardInterrupt is raised again for the exit status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from osreplay.errors import OsreplayError
from osreplay.model.files import expand_inputs
from osreplay.model.ndjson import DEFAULT_MAX_LINE_BYTES, check_readable
from osreplay.runtime import terminate_like_interrupt
from osreplay.validate.scan import count_file
from osreplay.validate.validator import Summary, Validator, Verdict, parse_schema_option


@dataclass(frozen=True, slots=True)
class ValidateOptions:
    """What a validate run checks: the files and how strictly."""

    files: Sequence[str]
    strict: bool = False
    schemas: Sequence[str] = ()  # GLOB=PATH, as --schema takes them
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES


class ValidateConsole(Protocol):
    """What a run tells the person running it; only facts, never text."""

    def verdict(self, verdict: Verdict) -> None:
        """Every Verdict built, in file order: each line with a problem has one.

        A line the compiled checks accept (valid, or without a payload schema when not
        strict) is only counted in the Summary (see osreplay.validate.scan).
        """

    def progress(self, path: str, records: int) -> None:
        """Reading ``path``: ``records`` non-blank lines read so far (every 1,024 lines)."""

    def finish(self, summary: Summary, *, error: OsreplayError | None = None) -> None:
        """The run is over; ``error`` when a file became unreadable half-way."""

    def interrupted(self, summary: Summary) -> None:
        """Ctrl-C or SIGTERM stopped the run; ``summary`` covers what was read."""


def run(options: ValidateOptions, console: ValidateConsole) -> Summary:
    """Validate every file of ``options``; the summary says whether all were valid.

    Raises UsageError or InputError before any verdict (bad --schema, unreadable file),
    InputError after finishing the report when a file fails half-way, KeyboardInterrupt
    (a ``runtime.Terminated`` after SIGTERM) after finishing the report when stopped.
    """
    validator = Validator(
        extra_schemas=[parse_schema_option(text) for text in options.schemas],
        strict=options.strict,
        max_line_bytes=options.max_line_bytes,
    )
    files = expand_inputs(options.files)  # folders and globs
    for path in files:  # a missing file is a usage error before any report starts
        check_readable(path)
    summary = Summary(notes=validator.notes)  # the notes fill in as objects are met
    stopped: KeyboardInterrupt | None = None
    with terminate_like_interrupt():  # SIGTERM ends it as Ctrl-C does
        try:
            _validate_files(validator, files, summary, console)
        except KeyboardInterrupt as exc:
            stopped = exc
        except OsreplayError as exc:  # a file unreadable mid-way: the report still ends whole
            console.finish(summary, error=exc)
            raise
    console.finish(summary)
    if stopped is not None:
        console.interrupted(summary)
        raise stopped
    return summary


def _validate_files(
    validator: Validator, files: Sequence[str], summary: Summary, console: ValidateConsole
) -> None:
    for path in files:
        count_file(validator, path, summary, console.verdict, console.progress)


__all__ = ["ValidateConsole", "ValidateOptions", "run"]
