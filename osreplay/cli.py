"""The ``osreplay`` command line: parse options, call the core, map errors to exit codes.

Exit codes: 0 ok; 1 findings or failures (invalid records, unconfirmed publishes);
2 usage or environment errors (bad options, unreadable files, unreachable broker).
Reports go to stdout, diagnostics to stderr; user mistakes never print a traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

import click

from osreplay import __version__
from osreplay.bus.url import MaskingFilter, mask_secrets  # not bus.transport: validate starts fast
from osreplay.console.text import escape_control
from osreplay.console.validate import REPORTERS, ValidateConsole
from osreplay.errors import OsreplayError
from osreplay.model.filters import PRIORITY_CHOICES, Filters
from osreplay.model.ndjson import DEFAULT_MAX_LINE_BYTES
from osreplay.runtime import exit_code_for
from osreplay.validate.run import ValidateOptions
from osreplay.validate.run import run as run_validate

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class OsreplayGroup(click.Group):
    """Turns the project's exceptions into ``Error: …`` on stderr and an exit code."""

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


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if verbose < 2:
        # oslo and kombu log every reconnect attempt and swallowed error at WARNING or
        # ERROR; osreplay reports those itself, in one line each.
        for noisy in ("oslo_messaging", "oslo.messaging", "kombu", "amqp"):
            logging.getLogger(noisy).setLevel(logging.CRITICAL if verbose == 0 else logging.INFO)


@click.group(cls=OsreplayGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="osreplay")
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-vv for debug).")
def main(verbose: int) -> None:
    """Record, validate and replay OpenStack notifications."""
    _setup_logging(verbose)


def max_line_bytes_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--max-line-bytes``: the longest line read; a longer one is unreadable, never held."""
    return click.option(
        "--max-line-bytes",
        type=click.IntRange(min=1),
        default=DEFAULT_MAX_LINE_BYTES,
        show_default=True,
        metavar="N",
        help="Longest line read (32 MiB by default); a longer line is reported unreadable "
        "without being held in memory.",
    )(command)


@main.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(REPORTERS)),
    default="text",
    show_default=True,
    help="Report format: one line per problem, or one JSON document for CI.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Also fail records whose payload no schema covers.",
)
@click.option(
    "--schema",
    "schemas",
    multiple=True,
    metavar="GLOB=PATH",
    help="Check payloads of matching event types against your own JSON Schema (repeatable).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary line.")
@max_line_bytes_option
def validate(
    files: tuple[str, ...],
    fmt: str,
    strict: bool,
    schemas: tuple[str, ...],
    quiet: bool,
    max_line_bytes: int,
) -> None:
    """Check recordings (NDJSON, `-` for stdin, .gz) against the notification schemas.

    Prints `FILE:LINE: EVENT_TYPE: JSON_PATH: message` per problem and a summary line.
    Exits 0 when every record is valid, 1 when any is invalid or unreadable, 2 when a
    file cannot be read, 130 after Ctrl-C and 143 after SIGTERM.
    """
    options = ValidateOptions(
        files=files, strict=strict, schemas=schemas, max_line_bytes=max_line_bytes
    )
    console = ValidateConsole(fmt=fmt, quiet=quiet, stdout=sys.stdout, stderr=sys.stderr)
    try:
        summary = run_validate(options, console)
    except KeyboardInterrupt as exc:
        sys.exit(exit_code_for(exc))
    sys.exit(EXIT_OK if summary.ok(strict=strict) else EXIT_FINDINGS)


# --- options shared by record and replay ----------------------------------------------


def _bus_options(*, action: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--url`` and ``--config-file``: where the bus is, resolved as transport.resolve does."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option(
            "--config-file",
            "config_files",
            multiple=True,
            metavar="FILE",
            help="A service's oslo.config file (e.g. /etc/nova/nova.conf) to read the "
            "transport URL, topics and [oslo_messaging_rabbit] options from (repeatable).",
        )(command)
        return click.option(
            "--url",
            metavar="URL",
            help=f"Transport URL to {action} (else $OSREPLAY_TRANSPORT_URL, else "
            "--config-file, else rabbit://guest:guest@localhost:5672/).",
        )(command)

    return decorate


def _filter_options(*, verb: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--event-type``, ``--publisher``, ``--priority``: see osreplay.model.filters."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option(
            "--priority",
            "priorities",
            multiple=True,
            type=click.Choice(PRIORITY_CHOICES, case_sensitive=False),
            help=f"{verb} only this priority (repeatable).",
        )(command)
        command = click.option(
            "--publisher",
            "publishers",
            multiple=True,
            metavar="GLOB",
            help=f"{verb} only publisher ids matching GLOB, e.g. 'nova-compute:*' (repeatable).",
        )(command)
        return click.option(
            "--event-type",
            "event_types",
            multiple=True,
            metavar="GLOB",
            help=f"{verb} only event types matching GLOB, e.g. 'compute.instance.*' (repeatable).",
        )(command)

    return decorate


# --- commands: validate, record, replay are added below ------------------------------

# --- replay --------------------------------------------------------------------------


@main.command()
@click.argument("files", nargs=-1, metavar="[FILE...]")
@_bus_options(action="replay into")
@click.option(
    "--exchange",
    metavar="NAME",
    help="Send every record to this exchange (default: the record's exchange, else the "
    "control exchange, openstack).",
)
@click.option(
    "--topic",
    metavar="NAME",
    help="Send every record on this topic (default: the record's topic, else notifications).",
)
@click.option(
    "--driver",
    type=click.Choice(["messagingv2", "messaging"]),
    default="messagingv2",
    show_default=True,
    help="Wire format: messagingv2 is the enveloped format services use; messaging the "
    "legacy bare one.",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    metavar="X",
    help="Replay the recorded gaps X times faster (2 halves them).",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0),
    metavar="N",
    help="Ignore the recorded timing: a steady N messages per second, none dropped; "
    "0 sends as fast as possible. Required when records have no timestamp.",
)
@click.option(
    "--max-gap",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Never wait more than SECONDS between two records (recorded timing only).",
)
@_filter_options(verb="Replay")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    metavar="N",
    help="Replay at most N selected records (per pass).",
)
@click.option(
    "--start-at",
    metavar="LINE",
    help="Begin at this line of the first file (FILE:LINE for another file); what a "
    "stopped replay prints to resume.",
)
@click.option(
    "--loop",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    metavar="N",
    help="Replay the whole selection N times; 0 repeats it until interrupted (files only).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="N",
    help="Publish over N worker processes, each with its own connection; records sharing "
    "a request or resource id keep their order; --rate and --speed hold for the whole "
    "stream (--dry-run plans as one worker).",
)
@click.option(
    "--retry",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    metavar="N",
    help="Reconnection attempts per record before it counts as failed and the replay stops.",
)
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Replay the readable records and report unreadable lines instead of refusing.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Connect to nothing; print each record's planned offset, exchange, topic, "
    "priority, publisher and event type (and the rewritten record with --fresh-ids, "
    "--retime or --set).",
)
@click.option(
    "--fresh-ids",
    is_flag=True,
    help="Replace every UUID and request id by a new one: the same within a pass, "
    "new in each pass of --loop.",
)
@click.option(
    "--retime",
    is_flag=True,
    help="Move every date-time in the records by one offset so that the first record's "
    "time is when it is sent (gaps and formats kept).",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="JSONPATH=VALUE",
    help="Overwrite this field in every record where it exists, e.g. "
    "'$.payload.tenant_id=test-project'; VALUE is JSON if it parses, else a string "
    "(repeatable).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary line.")
@max_line_bytes_option
def replay(
    event_types: tuple[str, ...],
    publishers: tuple[str, ...],
    priorities: tuple[str, ...],
    quiet: bool,
    **params: Any,
) -> None:
    """Republish recorded notifications through an oslo.messaging Notifier, paced.

    Reads FILEs (NDJSON, .gz), or standard input with no FILE or `-`, replaying records
    as they arrive: `osreplay record --url PROD | osreplay replay --url TEST` mirrors a
    live cloud into a test cluster. Paced as recorded unless --speed or --rate says
    otherwise. Exits 0 when the broker confirmed every selected record, 1 when one was
    not (the replay stops and prints the --start-at that resumes it) or a line is
    unreadable, 2 for usage errors or an unreachable broker, 130 after Ctrl-C and 143
    after SIGTERM (both print the summary and where to resume).
    """
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
    """0 all confirmed; 1 not confirmed or unreadable; 2 untimed; 130/143 interrupted."""
    from osreplay.runtime import EXIT_INTERRUPTED, EXIT_TERMINATED

    stop = summary.stop
    if stop is None:
        return EXIT_OK if summary.ok else EXIT_FINDINGS
    if stop.kind == "interrupted":
        return EXIT_TERMINATED if stop.reason == "terminated" else EXIT_INTERRUPTED
    return EXIT_USAGE if stop.kind == "untimed" else EXIT_FINDINGS


@main.command()
@_bus_options(action="record from")
@click.option(
    "--topic",
    "topics",
    multiple=True,
    metavar="NAME",
    help="Notification topic (repeatable; default: notifications, or the config file's topics).",
)
@click.option(
    "--exchange",
    "exchanges",
    multiple=True,
    metavar="NAME",
    help="Exchange to record (repeatable; replaces the default list: openstack "
    "and the exchanges Ceilometer listens on).",
)
@click.option(
    "--pool",
    metavar="NAME",
    help="Pool (tap queue prefix) to listen with; default osreplay-<host>.",
)
@click.option(
    "--keep-queue",
    is_flag=True,
    help="Leave the tap queues on the broker at exit, so they keep collecting "
    "for a later --pool NAME --append run.",
)
@click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    metavar="FILE",
    help="Where to write the records (NDJSON; .gz compresses; - is stdout).",
)
@click.option(
    "--append", is_flag=True, help="Append to the output file, skipping records already in it."
)
@click.option(
    "--fsync", is_flag=True, help="Make each batch durable on disk before acknowledging it."
)
@click.option(
    "--count", type=click.IntRange(min=1), metavar="N", help="Stop after writing N records."
)
@click.option(
    "--duration",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Stop after SECONDS.",
)
@_filter_options(verb="Record")
@click.option(
    "--no-redact",
    is_flag=True,
    help="Keep tokens and passwords in the records (they are masked by default).",
)
@click.option(
    "--redact-key",
    "redact_keys",
    multiple=True,
    metavar="KEY",
    help="Also mask this key, in the context and in payloads (repeatable).",
)
@click.option(
    "--connect-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=15.0,
    show_default=True,
    metavar="SECONDS",
    help="Give up when the broker does not answer within SECONDS.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    metavar="N",
    help="Messages per listener batch (and half the prefetch).",
)
@click.option(
    "--durable",
    is_flag=True,
    help="Declare the tap queues durable, so they and their messages survive a broker "
    "restart (needs durable exchanges, as with amqp_durable_queues = true).",
)
@click.option(
    "--queue-type",
    type=click.Choice(["classic", "quorum"]),
    default=None,
    help="quorum: replicated quorum tap queues (always durable; RabbitMQ 3.8 or later). "
    "Default: quorum when [oslo_messaging_rabbit] rabbit_quorum_queue is true, else classic.",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="No live counter and no summary (the ready line and errors still print).",
)
def record(**given: Any) -> None:
    """Record notifications from the bus into NDJSON, on osreplay's own queues.

    Real consumers such as Ceilometer still get every message. A message is acknowledged
    only once its line is written and flushed. Stops on Ctrl-C / SIGTERM (a second Ctrl-C
    forces), --count or --duration; deletes its tap queues unless --keep-queue.
    """
    from osreplay.console.record import RecordConsole, with_resume_hint
    from osreplay.tap.options import DEFAULT_EXCHANGES, RecordOptions
    from osreplay.tap.run import run

    filters = Filters(given.pop("event_types"), given.pop("publishers"), given.pop("priorities"))
    options = RecordOptions(
        exchanges=given.pop("exchanges") or DEFAULT_EXCHANGES,
        redact=not given.pop("no_redact"),
        filters=filters,
        **given,
    )
    console = RecordConsole(sys.stderr, stdout=sys.stdout, quiet=options.quiet)
    summary = run(options, console)
    if summary.error is not None:
        raise with_resume_hint(summary.error, summary)


# --- stats, trace, diff, timeline: read recordings, never the bus ---------------------


def _format_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="A readable report, or one JSON document.",
    )(command)


@main.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@_format_option
def stats(files: tuple[str, ...], fmt: str) -> None:
    """Show what is in recordings: counts, time span, rate.

    Reads NDJSON recordings (`-` for stdin, .gz). Counts by event type, publisher,
    priority, exchange, CADF action and outcome, and versioned payload; records per
    second over the span. Unreadable lines are counted and named on stderr. Exits 0,
    or 2 when a file cannot be read.
    """
    from osreplay.console.scenario import StatsConsole
    from osreplay.scenario import stats as core

    console = StatsConsole(sys.stdout, sys.stderr, fmt=fmt)
    console.finish(core.run(core.StatsOptions(files), console))


@main.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--by",
    type=click.Choice(["request", "resource"]),
    default="request",
    show_default=True,
    help="Group by request id (ctxt) or by the resource the payload is about.",
)
@click.option("--id", "group_id", metavar="ID", help="Show only the group with this key.")
@click.option(
    "--max-groups",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    metavar="N",
    help="Groups held at once; past it the least recently active one is closed early.",
)
@_format_option
def trace(files: tuple[str, ...], by: str, group_id: str | None, max_groups: int, fmt: str) -> None:
    """Follow a request or a resource through recordings.

    Groups records by request id or resource id, in time order; pairs each X.start
    with X.end (or .error, .failure, .failed) and gives durations; starts without an
    end are flagged open. Exits 0, 1 when --id matches no record,
    2 when a file cannot be read.
    """
    from osreplay.console.trace import TraceConsole
    from osreplay.scenario import trace as core

    console = TraceConsole(sys.stdout, sys.stderr, fmt=fmt)
    options = core.TraceOptions(files, by=by, group_id=group_id, max_groups=max_groups)
    summary = core.run(options, console)
    console.finish(summary)
    if group_id is not None and summary.groups == 0:
        console.missing(group_id, by)
        sys.exit(EXIT_FINDINGS)


@main.command()
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option(
    "--ignore",
    multiple=True,
    metavar="JSONPATH",
    help="Also ignore this field, e.g. '$.payload.reason' or '$..display_name' (repeatable).",
)
@_format_option
def diff(a: str, b: str, ignore: tuple[str, ...], fmt: str) -> None:
    """Compare two recordings of one scenario, beyond volatile fields.

    Records are matched per event type in order; ids, UUIDs, times and host numbers are
    volatile. Exits 0 when nothing else differs, 1 when something does, 2 on errors.
    """
    from osreplay.console.diff import DiffConsole
    from osreplay.scenario import diff as core

    console = DiffConsole(sys.stdout, sys.stderr, fmt=fmt)
    summary = core.run(core.DiffOptions(a, b, ignore=ignore), console)
    console.finish(summary)
    sys.exit(EXIT_FINDINGS if summary.differs else EXIT_OK)


@main.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "-o",
    "--output",
    default="timeline.html",
    show_default=True,
    metavar="FILE",
    help="The HTML file to write (one file, no network needed to open it); - is stdout.",
)
@click.option(
    "--rows",
    type=click.Choice(["event_type", "publisher"]),
    default="event_type",
    show_default=True,
    help="One row per event type, or per publisher.",
)
@click.option(
    "--max-marks",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    metavar="N",
    help="Draw each record on its own up to N records; past that, buckets per row.",
)
def timeline(files: tuple[str, ...], output: str, rows: str, max_marks: int) -> None:
    """Draw recordings over time as one self-contained HTML page.

    A row per event type (or publisher), colour by priority, failures marked; hover or
    click for the record, drag to zoom. Exits 0, or 2 when a file cannot be read or written.
    """
    from osreplay.console.timeline import TimelineConsole
    from osreplay.scenario import timeline as core

    console = TimelineConsole(sys.stdout, sys.stderr, output=output)
    console.finish(core.run(core.TimelineOptions(files, rows=rows, max_marks=max_marks), console))


# --- redact --------------------------------------------------------------------------


@main.command()
@click.argument("source", metavar="IN")
@click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    metavar="OUT",
    help="Where to write the scrubbed recording (NDJSON; .gz compresses; - is stdout).",
)
@click.option(
    "--pseudonymise",
    "--pseudonymize",
    "pseudonymise",
    is_flag=True,
    help="Also replace UUIDs, request ids, IP addresses, user/project/domain ids and "
    "names and host names by consistent keyed pseudonyms of the same shape.",
)
@click.option(
    "--seed",
    metavar="S",
    help="Key the pseudonyms with S: the same seed gives the same output (default: a "
    "random key, never shown).",
)
@click.option(
    "--redact-key",
    "redact_keys",
    multiple=True,
    metavar="KEY",
    help="Also mask this key, in the context and in payloads (repeatable).",
)
def redact(
    source: str, output: str, pseudonymise: bool, seed: str | None, redact_keys: tuple[str, ...]
) -> None:
    """Scrub a recording IN (NDJSON, .gz, - for stdin) with the rules record applies.

    Masks tokens, passwords and other secrets exactly as `osreplay record` does by
    default. Unreadable lines are dropped and listed. Exits 0 when every line was
    scrubbed, 1 when a line was dropped, 2 for usage errors.
    """
    from osreplay.console.redact import RedactConsole
    from osreplay.secrets import scrub

    options = scrub.RedactOptions(source, output, pseudonymise, seed, redact_keys)
    console = RedactConsole(sys.stderr)
    summary = scrub.run(options, console)
    console.finish(summary)
    sys.exit(EXIT_OK if summary.ok else EXIT_FINDINGS)
