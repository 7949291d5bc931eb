"""The ``osreplay`` command line: parse options, call the core, map errors to exit codes.

Exit codes: 0 ok; 1 findings or failures (invalid records, unconfirmed publishes);
2 usage or environment errors (bad options, unreadable files, unreachable broker).
Reports go to stdout, diagnostics to stderr; user mistakes never print a traceback.
Options are declared here; what their help says is in ``osreplay.console.help``.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from osreplay import __version__
from osreplay.bus.url import mask_secrets  # not bus.transport: validate starts fast
from osreplay.console import help as texts
from osreplay.console.text import escape_control
from osreplay.console.validate import REPORTERS, ValidateConsole
from osreplay.errors import OsreplayError
from osreplay.model.filters import PRIORITY_CHOICES, Filters
from osreplay.model.ndjson import DEFAULT_MAX_LINE_BYTES
from osreplay.runtime import EXIT_INTERRUPTED, EXIT_TERMINATED, exit_code_for, setup_logging
from osreplay.validate.run import ValidateOptions
from osreplay.validate.run import run as run_validate

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
F = TypeVar("F", bound=Callable[..., Any])


class OsreplayGroup(click.Group):
    """Turns the project's exceptions into ``Error: …`` on stderr and an exit code."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Give the command and its options their help text from ``console.help``."""
        cmd.help = texts.COMMANDS[cmd.name or ""]
        for param in cmd.params:
            if isinstance(param, click.Option) and param.name:
                param.help = texts.OPTIONS[cmd.name or ""][param.name]
        super().add_command(cmd, name)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run, then flush standard output while an error can still be reported.

        Standard output on a full disk (``> /dev/full``) or a failing device is one line
        on stderr and exit 2, for every command and ``--help``: the report is buffered, so
        its write fails at a flush, and the last flush is the interpreter's own at exit.
        """
        try:
            try:
                return super().main(*args, **kwargs)
            finally:
                sys.stdout.flush()
        except OSError as exc:
            # Files are written by osreplay.model's writers, whose errors name the file
            # (an OsreplayError): a device error that gets here is a report's stream.
            if exc.errno not in _OUTPUT_ERRNOS:
                raise
            _discard_stdout()
            reason = (exc.strerror or str(exc)).lower()
            click.echo(f"Error: cannot write standard output: {reason}", err=True)
            sys.exit(EXIT_USAGE)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OsreplayError as exc:
            message = escape_control(mask_secrets(str(exc)), multiline=True)
            click.echo(f"Error: {message}", err=True)
            ctx.exit(exc.exit_code)
        except BrokenPipeError:
            # `osreplay record | head`: the reader left; not an error worth a traceback.
            sys.stderr.close()
            ctx.exit(EXIT_FINDINGS)


# Errors of a stream that cannot take what is written (full disk, quota, device).
_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def _discard_stdout() -> None:
    """Point standard output at the null device: what it still holds is dropped at exit
    instead of failing again (an "Exception ignored" message and exit code 120)."""
    try:
        fd = sys.stdout.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError, AttributeError):  # not a file (a test runner's buffer)
        return
    os.dup2(null, fd)
    os.close(null)


@click.group(cls=OsreplayGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="osreplay")
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-vv for debug).")
def main(verbose: int) -> None:
    """Record, validate and replay OpenStack notifications."""
    setup_logging(verbose)


# --- options more than one command takes ----------------------------------------------


def _options(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """Several ``click.option``s as one decorator, listed in --help in the order given."""

    def apply(command: F) -> F:
        for decorate in reversed(decorators):
            command = decorate(command)
        return command

    return apply


FILES = click.argument("files", nargs=-1, required=True, metavar="FILE...")
BUS = _options(
    click.option("--url", metavar="URL"),
    click.option("--config-file", "config_files", multiple=True, metavar="FILE"),
)
FILTERS = _options(
    click.option("--event-type", "event_types", multiple=True, metavar="GLOB"),
    click.option("--publisher", "publishers", multiple=True, metavar="GLOB"),
    click.option(
        "--priority",
        "priorities",
        multiple=True,
        type=click.Choice(PRIORITY_CHOICES, case_sensitive=False),
    ),
)
MAX_LINE_BYTES = click.option(
    "--max-line-bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_LINE_BYTES,
    show_default=True,
    metavar="N",
)
QUIET = click.option("-q", "--quiet", is_flag=True)
REDACT_KEYS = click.option("--redact-key", "redact_keys", multiple=True, metavar="KEY")
REPORT_FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)


# --- validate ------------------------------------------------------------------------


@main.command()
@FILES
@click.option(
    "--format", "fmt", type=click.Choice(sorted(REPORTERS)), default="text", show_default=True
)
@click.option("--strict", is_flag=True)
@click.option("--schema", "schemas", multiple=True, metavar="GLOB=PATH")
@QUIET
@MAX_LINE_BYTES
def validate(
    files: tuple[str, ...],
    fmt: str,
    strict: bool,
    schemas: tuple[str, ...],
    quiet: bool,
    max_line_bytes: int,
) -> None:
    options = ValidateOptions(
        files=files, strict=strict, schemas=schemas, max_line_bytes=max_line_bytes
    )
    console = ValidateConsole(fmt=fmt, quiet=quiet, stdout=sys.stdout, stderr=sys.stderr)
    try:
        summary = run_validate(options, console)
    except KeyboardInterrupt as exc:
        sys.exit(exit_code_for(exc))
    sys.exit(EXIT_OK if summary.ok(strict=strict) else EXIT_FINDINGS)


# --- replay --------------------------------------------------------------------------


@main.command()
@click.argument("files", nargs=-1, metavar="[FILE...]")
@BUS
@click.option("--exchange", metavar="NAME")
@click.option("--topic", metavar="NAME")
@click.option(
    "--driver",
    type=click.Choice(["messagingv2", "messaging"]),
    default="messagingv2",
    show_default=True,
)
@click.option("--speed", type=click.FloatRange(min=0, min_open=True), metavar="X")
@click.option("--rate", type=click.FloatRange(min=0), metavar="N")
@click.option("--max-gap", type=click.FloatRange(min=0), metavar="SECONDS")
@FILTERS
@click.option("--limit", type=click.IntRange(min=1), metavar="N")
@click.option("--start-at", metavar="LINE")
@click.option("--merge", is_flag=True)
@click.option("--loop", type=click.IntRange(min=0), default=1, show_default=True, metavar="N")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, metavar="N")
@click.option("--retry", type=click.IntRange(min=0), default=3, show_default=True, metavar="N")
@click.option("--skip-invalid", is_flag=True)
@click.option("--dry-run", is_flag=True)
@click.option("--fresh-ids", is_flag=True)
@click.option("--retime", is_flag=True)
@click.option("--set", "sets", multiple=True, metavar="JSONPATH=VALUE")
@QUIET
@MAX_LINE_BYTES
def replay(
    event_types: tuple[str, ...],
    publishers: tuple[str, ...],
    priorities: tuple[str, ...],
    quiet: bool,
    **params: Any,
) -> None:
    from osreplay.console.replay import ReplayConsole
    from osreplay.replay.run import ReplayOptions, run

    options = ReplayOptions(filters=Filters(event_types, publishers, priorities), **params)
    console = ReplayConsole(options, out=sys.stdout, err=sys.stderr, stdin=sys.stdin, quiet=quiet)
    try:
        summary = run(options, console)
    except KeyboardInterrupt as exc:  # while checking the files or connecting
        console.interrupted_before_start()
        sys.exit(exit_code_for(exc))
    console.finish(summary)
    sys.exit(_replay_exit_code(summary))


def _replay_exit_code(summary: Any) -> int:
    """0 all confirmed; 1 not confirmed or unreadable; 2 untimed or refused by the broker's
    configuration; 130/143 interrupted."""
    stop = summary.stop
    if stop is None:
        return EXIT_OK if summary.ok else EXIT_FINDINGS
    if stop.kind == "interrupted":
        return EXIT_TERMINATED if stop.reason == "terminated" else EXIT_INTERRUPTED
    return EXIT_USAGE if stop.kind in ("untimed", "refused") else EXIT_FINDINGS


# --- record --------------------------------------------------------------------------


@main.command()
@BUS
@click.option("--topic", "topics", multiple=True, metavar="NAME")
@click.option("--exchange", "exchanges", multiple=True, metavar="NAME")
@click.option("--pool", metavar="NAME")
@click.option("--keep-queue", is_flag=True)
@click.option("-o", "--output", default="-", show_default=True, metavar="FILE")
@click.option("--rotate", multiple=True, metavar="SIZE|DURATION")
@click.option("--append", is_flag=True)
@click.option("--fsync", is_flag=True)
@click.option("--count", type=click.IntRange(min=1), metavar="N")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS")
@FILTERS
@click.option("--no-redact", is_flag=True)
@REDACT_KEYS
@click.option(
    "--connect-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=15.0,
    show_default=True,
    metavar="SECONDS",
)
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=500, show_default=True, metavar="N"
)
@click.option("--durable", is_flag=True)
@click.option("--queue-type", type=click.Choice(["classic", "quorum"]), default=None)
@click.option(
    "--workers", "processes", type=click.IntRange(min=1), default=1, show_default=True, metavar="N"
)
@click.option("--from-tap", metavar="NAME")
@click.option("--since", metavar="TIME|DURATION|first")
@click.option("--until", metavar="TIME|DURATION|now")
@click.option("--until-idle", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS")
@QUIET
def record(**given: Any) -> None:
    from osreplay.console.record import RecordConsole, with_resume_hint
    from osreplay.tap.options import RecordOptions
    from osreplay.tap.run import run

    filters = Filters(given.pop("event_types"), given.pop("publishers"), given.pop("priorities"))
    options = RecordOptions(
        exchanges=given.pop("exchanges"),  # none: the defaults and the files' exchanges
        redact=not given.pop("no_redact"),
        filters=filters,
        **given,
    )
    if options.from_tap is not None:
        _record_from_tap(options)
        return
    console = RecordConsole(sys.stderr, stdout=sys.stdout, quiet=options.quiet)
    if options.processes > 1:
        from osreplay.tap import workers

        run = workers.run
    summary = run(options, console)
    if summary.error is not None:
        raise with_resume_hint(summary.error, summary)


def _record_from_tap(options: Any) -> None:
    from osreplay.console.taps import FlightConsole
    from osreplay.tap import flight

    summary = flight.run(options, FlightConsole(sys.stderr, quiet=options.quiet))
    if summary.error is not None:
        raise summary.error


# --- tap: stream taps ------------------------------------------------------------------


class HelpedGroup(click.Group):
    """A command group (``tap``, ``schema``) whose commands take their help texts from
    ``console.help``, under ``<group> <command>``."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        key = f"{self.name} {cmd.name}"
        cmd.help = texts.COMMANDS[key]
        for param in cmd.params:
            if isinstance(param, click.Option) and param.name:
                param.help = texts.OPTIONS[key][param.name]
        super().add_command(cmd, name)


@main.group(cls=HelpedGroup)
def tap() -> None:
    pass


CONNECT_TIMEOUT = click.option(
    "--connect-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=15.0,
    show_default=True,
    metavar="SECONDS",
)


@tap.command("create")
@click.argument("name")
@BUS
@click.option("--exchange", "exchanges", multiple=True, metavar="NAME")
@click.option("--topic", "topics", multiple=True, metavar="NAME")
@click.option("--max-age", default="7D", show_default=True, metavar="AGE")
@click.option("--max-bytes", default="20GB", show_default=True, metavar="SIZE")
@CONNECT_TIMEOUT
def tap_create(name: str, exchanges: tuple[str, ...], **given: Any) -> None:
    from osreplay.console.taps import TapConsole
    from osreplay.tap import taps
    from osreplay.tap.options import DEFAULT_EXCHANGES

    options = taps.TapOptions(name=name, exchanges=exchanges or DEFAULT_EXCHANGES, **given)
    TapConsole(sys.stdout, sys.stderr).created(taps.create(options))


@tap.command("list")
@BUS
@CONNECT_TIMEOUT
def tap_list(**given: Any) -> None:
    from osreplay.console.taps import TapConsole
    from osreplay.tap import taps

    TapConsole(sys.stdout, sys.stderr).listed(taps.list_taps(taps.TapOptions(**given)))


@tap.command("delete")
@click.argument("name")
@BUS
@CONNECT_TIMEOUT
def tap_delete(name: str, **given: Any) -> None:
    from osreplay.console.taps import TapConsole
    from osreplay.tap import taps

    TapConsole(sys.stdout, sys.stderr).deleted(taps.delete(taps.TapOptions(name=name, **given)))


# --- stats, trace, diff, timeline: read recordings, never the bus ---------------------


@main.command()
@FILES
@REPORT_FORMAT
def stats(files: tuple[str, ...], fmt: str) -> None:
    from osreplay.console.scenario import StatsConsole
    from osreplay.scenario import stats as core

    console = StatsConsole(sys.stdout, sys.stderr, fmt=fmt)
    console.finish(core.run(core.StatsOptions(files), console))


@main.command()
@FILES
@click.option(
    "--by",
    type=click.Choice(["request", "global-request", "resource", "trace"]),
    default="request",
    show_default=True,
)
@click.option("--id", "group_id", metavar="ID")
@click.option(
    "--max-groups", type=click.IntRange(min=1), default=10_000, show_default=True, metavar="N"
)
@click.option("--merge", is_flag=True)
@REPORT_FORMAT
def trace(
    files: tuple[str, ...], by: str, group_id: str | None, max_groups: int, merge: bool, fmt: str
) -> None:
    from osreplay.console.trace import TraceConsole
    from osreplay.scenario import trace as core

    console = TraceConsole(sys.stdout, sys.stderr, fmt=fmt)
    options = core.TraceOptions(files, by=by, group_id=group_id, max_groups=max_groups, merge=merge)
    summary = core.run(options, console)
    console.finish(summary)
    if group_id is not None and summary.groups == 0:
        console.missing(group_id, by)
        sys.exit(EXIT_FINDINGS)


@main.command()
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option("--ignore", multiple=True, metavar="JSONPATH")
@REPORT_FORMAT
def diff(a: str, b: str, ignore: tuple[str, ...], fmt: str) -> None:
    from osreplay.console.diff import DiffConsole
    from osreplay.scenario import diff as core

    console = DiffConsole(sys.stdout, sys.stderr, fmt=fmt)
    summary = core.run(core.DiffOptions(a, b, ignore=ignore), console)
    console.finish(summary)
    sys.exit(EXIT_FINDINGS if summary.differs else EXIT_OK)


@main.command()
@FILES
@click.option("-o", "--output", default="timeline.html", show_default=True, metavar="FILE")
@click.option(
    "--rows",
    type=click.Choice(["event_type", "publisher"]),
    default="event_type",
    show_default=True,
)
@click.option(
    "--max-marks", type=click.IntRange(min=1), default=500, show_default=True, metavar="N"
)
@click.option(
    "--by",
    type=click.Choice(["request", "global-request", "resource", "trace"]),
    default="request",
    show_default=True,
)
@click.option(
    "--max-lanes", type=click.IntRange(min=1), default=500, show_default=True, metavar="N"
)
def timeline(
    files: tuple[str, ...], output: str, rows: str, max_marks: int, by: str, max_lanes: int
) -> None:
    from osreplay.console.timeline import TimelineConsole
    from osreplay.scenario import timeline as core

    console = TimelineConsole(sys.stdout, sys.stderr, output=output)
    options = core.TimelineOptions(
        files, rows=rows, max_marks=max_marks, by=by, max_lanes=max_lanes
    )
    console.finish(core.run(options, console))


# --- ceilometer: what a consumer makes of recordings ----------------------------------


@main.command()
@FILES
@click.option("--events", "events", metavar="FILE")
@click.option("--meters", "meters", multiple=True, metavar="FILE_OR_DIR")
@click.option("--drop-unmatched", is_flag=True)
@click.option("--topic", "topics", multiple=True, metavar="NAME")
@click.option(
    "--fail-on",
    "fail_on",
    multiple=True,
    type=click.Choice(["unmatched", "empty-trait", "no-sample", "dropped"]),
)
@REPORT_FORMAT
def ceilometer(
    files: tuple[str, ...],
    events: str | None,
    meters: tuple[str, ...],
    drop_unmatched: bool,
    topics: tuple[str, ...],
    fail_on: tuple[str, ...],
    fmt: str,
) -> None:
    from osreplay.console.ceilometer import CeilometerConsole
    from osreplay.consumers import run as core

    options = core.CeilometerOptions(
        files,
        events=events,
        meters=meters,
        drop_unmatched=drop_unmatched,
        topics=topics or core.CEILOMETER_TOPICS,
        fail_on=fail_on,
        keep_items=fmt == "json",
    )
    console = CeilometerConsole(sys.stdout, sys.stderr, fmt=fmt)
    prediction = core.run(options, console)
    console.finish(prediction, fail_on=fail_on)
    sys.exit(EXIT_FINDINGS if prediction.failed(fail_on) else EXIT_OK)


# --- schema infer, schema diff: payload drift between releases ---------------------------


@main.group(cls=HelpedGroup)
def schema() -> None:
    pass


@schema.command("infer")
@FILES
@click.option("-o", "--output", required=True, metavar="DIR")
@REPORT_FORMAT
def schema_infer(files: tuple[str, ...], output: str, fmt: str) -> None:
    from osreplay.console.schema import InferConsole
    from osreplay.scenario import schema as core

    console = InferConsole(sys.stdout, sys.stderr, fmt=fmt)
    console.finish(core.run_infer(core.InferOptions(files, output), console))


@schema.command("diff")
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@REPORT_FORMAT
def schema_diff(a: str, b: str, fmt: str) -> None:
    from osreplay.console.schema import SchemaDiffConsole
    from osreplay.scenario import schema as core

    console = SchemaDiffConsole(sys.stdout, sys.stderr, fmt=fmt)
    summary = core.run_diff(core.SchemaDiffOptions(a, b), console)
    console.finish(summary)
    sys.exit(EXIT_FINDINGS if summary.breaking else EXIT_OK)


# --- redact --------------------------------------------------------------------------


@main.command()
@click.argument("sources", nargs=-1, required=True, metavar="IN...")
@click.option("-o", "--output", default="-", show_default=True, metavar="OUT")
@click.option("--pseudonymise", "--pseudonymize", "pseudonymise", is_flag=True)
@click.option("--seed", metavar="S")
@REDACT_KEYS
def redact(
    sources: tuple[str, ...],
    output: str,
    pseudonymise: bool,
    seed: str | None,
    redact_keys: tuple[str, ...],
) -> None:
    from osreplay.console.redact import RedactConsole
    from osreplay.secrets import scrub

    options = scrub.RedactOptions(sources, output, pseudonymise, seed, redact_keys)
    console = RedactConsole(sys.stderr)
    summary = scrub.run(options, console)
    console.finish(summary)
    sys.exit(EXIT_OK if summary.ok else EXIT_FINDINGS)
