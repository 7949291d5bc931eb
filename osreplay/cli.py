"""The ``osreplay`` command line: parse options, call the core, map errors to exit codes.

Exit codes: 0 ok; 1 findings or failures (invalid records, unconfirmed publishes);
2 usage or environment errors (bad options, unreadable files, unreachable broker).
Reports go to stdout, diagnostics to stderr; user mistakes never print a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import Any

import click

from osreplay import __version__
from osreplay.bus.transport import MaskingFilter, mask_secrets
from osreplay.console.report import (
    RecordConsole,
    ReplayProgress,
    escape_control,
    long_plan_warning,
    reads_a_terminal,
    record_draws_counter,
    records,
    replay_draws_progress,
)
from osreplay.console.validate import REPORTERS, ValidateConsole
from osreplay.errors import OsreplayError
from osreplay.model.filters import PRIORITY_CHOICES, Filters
from osreplay.model.ndjson import DEFAULT_MAX_LINE_BYTES
from osreplay.runtime import exit_code_for, terminate_like_interrupt
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


def _echo_bus_notes(settings: Any) -> None:
    """Where the transport URL came from, when config files were given (stderr)."""
    for note in settings.notes:
        click.echo(mask_secrets(note), err=True)


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
    files: tuple[str, ...],
    url: str | None,
    config_files: tuple[str, ...],
    exchange: str | None,
    topic: str | None,
    driver: str,
    speed: float | None,
    rate: float | None,
    max_gap: float | None,
    event_types: tuple[str, ...],
    publishers: tuple[str, ...],
    priorities: tuple[str, ...],
    limit: int | None,
    start_at: str | None,
    loop: int,
    retry: int,
    skip_invalid: bool,
    dry_run: bool,
    fresh_ids: bool,
    retime: bool,
    sets: tuple[str, ...],
    quiet: bool,
    max_line_bytes: int,
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
    import gc

    from osreplay.bus.transport import resolve
    from osreplay.errors import UsageError
    from osreplay.replay import replayer as core
    from osreplay.replay.pacing import make_schedule
    from osreplay.replay.rewrite import Rewriter

    if rate is not None and speed is not None:
        raise UsageError("--rate and --speed exclude each other: pick one")
    if rate is not None and max_gap is not None:
        raise UsageError("--max-gap caps recorded gaps; it has no effect with --rate")
    streaming = not files or files == ("-",)
    if not streaming and "-" in files:
        raise UsageError("- (standard input) cannot be combined with files")
    if streaming and loop != 1:
        raise UsageError("--loop needs FILE arguments: standard input can be read only once")
    if dry_run and loop == 0:
        raise UsageError("--dry-run cannot plan an endless --loop 0: give a number of passes")
    selection = core.Selection(
        Filters(event_types, publishers, priorities),
        limit=limit,
        start_at=core.parse_start_at(start_at, files),
    )
    schedule = make_schedule(rate=rate, speed=speed, max_gap=max_gap)
    rewriter = Rewriter.from_options(fresh_ids=fresh_ids, retime=retime, sets=sets)
    settings = resolve(url=url, config_files=config_files)
    _echo_bus_notes(settings)
    if streaming and reads_a_terminal(sys.stdin):
        click.echo(
            "Reading records from standard input (one JSON record per line; Ctrl-D ends). "
            "To replay a recording: osreplay replay FILE",
            err=True,
        )
    # SIGTERM (timeout, systemd) stops like Ctrl-C: the summary and the resume point.
    with terminate_like_interrupt():
        try:
            if streaming:
                source: Any = core.StreamSource("-", selection, max_line_bytes=max_line_bytes)
            else:
                source = core.FileSource(
                    files,
                    selection,
                    skip_invalid=skip_invalid,
                    needs_timestamps=schedule.needs_timestamps,
                    loop=loop,
                    max_line_bytes=max_line_bytes,
                )
                # The records a checked file keeps stay live for the whole run and hold no
                # cycles: frozen before the cyclic garbage collector runs again, they are
                # never scanned.
                gc.disable()
                try:
                    source.check()  # refuses unreadable lines before anything is sent
                    gc.freeze()
                finally:
                    gc.enable()
            planned = None
            if not streaming:
                fresh = make_schedule(rate=rate, speed=speed, max_gap=max_gap)
                planned = core.planned_duration(source, fresh)
                if planned is not None and planned > 3600 and rate is None and max_gap is None:
                    click.echo(long_plan_warning(planned), err=True)
            try:
                summary = _run_replay(
                    source, schedule, settings, exchange=exchange, topic=topic,
                    driver=driver, retry=retry, skip_invalid=skip_invalid, dry_run=dry_run,
                    quiet=quiet, progress_allowed=replay_draws_progress(
                        stderr=sys.stderr, stdin=sys.stdin, streaming=streaming
                    ), rewriter=rewriter, planned=planned if schedule.paced else None,
                )  # fmt: skip
            finally:
                gc.unfreeze()
        except KeyboardInterrupt as exc:  # while checking the files or connecting
            click.echo("Interrupted before the first record: nothing sent.", err=True)
            sys.exit(exit_code_for(exc))
    if not quiet:
        if dry_run:
            click.echo(
                f"Dry run: {summary.sent} of {summary.selected} {records(summary.selected)} "
                f"planned over {summary.elapsed:.1f} s; nothing sent"
            )
        else:
            click.echo(summary.line())
        if summary.selected == 0:
            click.echo("No record selected: check --start-at and the filters.", err=True)
    sys.exit(_report_stop(summary, files, limit, loop))


def _run_replay(
    source: Any,
    schedule: Any,
    settings: Any,
    *,
    exchange: str | None,
    topic: str | None,
    driver: str,
    retry: int,
    skip_invalid: bool,
    dry_run: bool,
    quiet: bool,
    progress_allowed: bool = False,
    rewriter: Any = None,
    planned: float | None = None,
) -> Any:
    """Connect (unless --dry-run), replay ``source`` and return the ReplaySummary."""
    from osreplay.bus.transport import check_connection
    from osreplay.replay import replayer as core
    from osreplay.replay.pacing import Pacer

    for entry in source.skipped:
        _echo_skipped(entry)
    progress: Any = None

    def on_skip(entry: Any) -> None:
        if progress is not None:
            progress.clear()
        _echo_skipped(entry)

    if dry_run:
        clock = core.VirtualClock()
        pacer = Pacer(clock=clock.clock, sleep=clock.sleep)
        sender: Any = core.NullSender()
        rewriting = rewriter is not None and rewriter.active
        if rewriting:
            from osreplay.replay.rewrite import clock_now

            rewriter.now = clock_now(clock.clock)  # --retime plans with the virtual clock

        def observer(entry: Any, exch: str, top: str, offset: float, late: float) -> None:
            note = entry.note
            click.echo(
                f"{_cell(entry.source)}\t{entry.lineno}\t+{offset:.3f}\t{_cell(exch)}\t"
                f"{_cell(top)}\t{note.priority}\t{_cell(note.publisher_id)}\t"
                f"{_cell(note.event_type)}"
            )
            if rewriting:
                click.echo(note.to_line(), nl=False)

        click.echo("file\tline\toffset_s\texchange\ttopic\tpriority\tpublisher\tevent_type")
    else:
        check_connection(settings)
        pacer = Pacer()
        sender = core.OsloSender(settings, driver=driver, retry=retry)
        if not quiet and progress_allowed:
            progress = ReplayProgress(source.total, sys.stderr, planned=planned)
        observer = progress  # type: ignore[assignment]

    replayer = core.Replayer(
        sender,
        schedule,
        pacer=pacer,
        exchange=exchange,
        topic=topic,
        default_exchange=settings.conf.control_exchange,
        default_topic=settings.topics[0],
        skip_invalid=skip_invalid,
        observer=observer,
        on_skip=on_skip,
        rewrite=rewriter if rewriter is not None and rewriter.active else None,
    )
    try:
        return replayer.run(source)
    finally:
        sender.close()
        if progress is not None:
            progress.close()


def _interrupted_hint(
    stop: Any, summary: Any, files: tuple[str, ...], limit: int | None, loop: int
) -> str:
    """What an interrupted replay did, and how to go on (only what is true)."""
    from osreplay.replay import replayer as core

    how = "Terminated (SIGTERM)" if stop.reason == "terminated" else "Interrupted"
    if not stop.lineno:
        return f"{how} before the first record: nothing sent."
    if stop.source == "-" or not files or files == ("-",):
        return (
            f"{how} at line {stop.lineno} of standard input: the records before it were "
            "confirmed; that line and any read after it were not replayed, and standard "
            "input cannot be read again (a recorder feeding the pipe has already "
            "acknowledged them). To replay a stream you can resume, record it to a file "
            "first (osreplay record -o FILE) and replay the file."
        )
    if loop == 0:
        return (
            f"{how} at line {stop.lineno} of {stop.source} in pass {stop.pass_no} of an "
            f"endless --loop 0 ({summary.sent} {records(summary.sent)} confirmed): run the "
            "same command again to go on."
        )
    resume = core.resume_option(stop, files, limit=limit, loop=loop)
    return f"{how} at line {stop.lineno} of {stop.source}; resume with {resume}"


def _before_it(count: int) -> str:
    """``1 record before it was`` / ``3 records before it were``."""
    return f"{count} {records(count)} before it {'was' if count == 1 else 'were'}"


def _echo_skipped(entry: Any) -> None:
    text = f"Skipped line {entry.lineno} of {entry.source}: {entry.error}"
    click.echo(escape_control(text), err=True)


def _report_stop(summary: Any, files: tuple[str, ...], limit: int | None, loop: int) -> int:
    """Explain why a replay stopped early, on stderr; return the exit code."""
    from osreplay.replay import replayer as core
    from osreplay.runtime import EXIT_INTERRUPTED, EXIT_TERMINATED

    stop = summary.stop
    if stop is None:
        return EXIT_OK if summary.ok else EXIT_FINDINGS
    if stop.kind == "interrupted":
        code = EXIT_TERMINATED if stop.reason == "terminated" else EXIT_INTERRUPTED
        click.echo(_interrupted_hint(stop, summary, files, limit, loop), err=True)
        return code
    where = f"line {stop.lineno} of {stop.source}"
    resume = core.resume_option(stop, files, limit=limit, loop=loop)
    if stop.kind == "failed":
        click.echo(
            f"Error: {where} was not confirmed by the broker: {mask_secrets(stop.reason)}", err=True
        )
        click.echo(f"{_before_it(summary.sent)} confirmed; resume with {resume}", err=True)
        return EXIT_FINDINGS
    if stop.kind == "untimed":
        click.echo(
            f"Error: {where} has no timestamp or recorded_at to pace it by: replay at a "
            "steady pace with --rate N (--rate 0 for as fast as possible)",
            err=True,
        )
        return EXIT_USAGE
    click.echo(escape_control(f"Error: {where} is unreadable: {stop.reason}"), err=True)
    click.echo(
        f"{_before_it(summary.sent)} confirmed; fix the line and resume with "
        f"{resume}, or add --skip-invalid to replay past unreadable lines",
        err=True,
    )
    return EXIT_FINDINGS


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
    default="classic",
    show_default=True,
    help="quorum: replicated quorum tap queues (always durable; RabbitMQ 3.8 or later).",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="No live counter and no summary (the ready line and errors still print).",
)
def record(
    url: str | None,
    config_files: tuple[str, ...],
    topics: tuple[str, ...],
    exchanges: tuple[str, ...],
    pool: str | None,
    keep_queue: bool,
    output: str,
    append: bool,
    fsync: bool,
    count: int | None,
    duration: float | None,
    event_types: tuple[str, ...],
    publishers: tuple[str, ...],
    priorities: tuple[str, ...],
    no_redact: bool,
    redact_keys: tuple[str, ...],
    connect_timeout: float,
    batch_size: int,
    durable: bool,
    queue_type: str,
    quiet: bool,
) -> None:
    """Record notifications from the bus into NDJSON, on osreplay's own queues.

    Real consumers such as Ceilometer still get every message. A message is acknowledged
    only once its line is written and flushed. Stops on Ctrl-C / SIGTERM (a second Ctrl-C
    forces), --count or --duration; deletes its tap queues unless --keep-queue.
    """
    import threading

    from osreplay.bus.transport import check_connection, resolve
    from osreplay.errors import UsageError
    from osreplay.model.ndjson import RecordingWriter
    from osreplay.runtime import run_unless_stopped
    from osreplay.secrets.rules import Redactor
    from osreplay.tap import recorder as rec

    if append and output == "-":
        raise UsageError("--append needs -o FILE (standard output cannot be appended to)")
    settings = resolve(url=url, config_files=config_files, topics=topics)
    _echo_bus_notes(settings)
    filters = Filters(event_types, publishers, priorities)
    # Before the output is opened: an unreachable broker must not empty an existing file.
    check_connection(settings, timeout=connect_timeout)
    seen = rec.prepare_append(output) if append else []
    events = RecordConsole(sys.stderr, progress_line=rec.progress_line)
    writer = RecordingWriter(output, append=append, fsync=fsync)
    try:
        recorder = rec.Recorder(
            settings,
            writer=writer,
            exchanges=exchanges or rec.DEFAULT_EXCHANGES,
            pool=pool,
            append=append,
            filters=filters,
            redactor=Redactor(enabled=not no_redact, extra_keys=redact_keys),
            keep_queue=keep_queue,
            count=count,
            seen_ids=seen,
            batch_size=batch_size,
            connect_timeout=connect_timeout,
            durable=durable,
            queue_type=queue_type,
            on_event=events.event,
        )
        stop = threading.Event()
        received: list[int] = []
        listening = threading.Event()
        restore = _install_stop_signals(stop, events, received, listening)
        try:
            # Connecting can hang (oslo retries some failures forever): --duration, Ctrl-C
            # and SIGTERM still end the run.
            started = run_unless_stopped(recorder.start, stop, timeout=duration)
            listening.set()
            if started != "done":
                writer.close()
                _leave_while_connecting(started, settings, recorder, received, duration)
            click.echo(rec.ready_line(settings, recorder), err=True)
            plan = recorder.plan
            if plan is not None and plan.resumed and not quiet:
                verb = "purged" if plan.purged else "resuming"
                click.echo(
                    f"Found tap queues left by an earlier recorder ({verb}): "
                    + ", ".join(plan.resumed),
                    err=True,
                )
            draw = record_draws_counter(stderr=sys.stderr, stdout=sys.stdout, output=output)
            tick = events.progress if (not quiet and draw) else None
            recorder.run_until(stop, duration=duration, tick=tick)
            events.clear_progress()
            summary = recorder.stop()
        finally:
            restore()
    finally:
        writer.close()
    if not quiet:
        for line in rec.summary_lines(summary):
            click.echo(line, err=True)
    if summary.stopped_by == "output closed":
        _silence_stdout()
    if summary.error is not None:
        if summary.kept_queues:
            raise type(summary.error)(
                f"{summary.error} (the tap queues were kept, nothing is lost: fix this, then "
                f"resume with osreplay record --pool {summary.pool} --append -o FILE"
                + (" --durable)" if summary.durable else ")")
            )
        raise summary.error


def _cell(value: Any) -> str:
    """A --dry-run column: ``null`` for None; tabs, newlines and lone surrogates escaped."""
    text = "null" if value is None else str(value)
    return text if text.isprintable() else json.dumps(text)[1:-1]


def _silence_stdout() -> None:
    """The reader of stdout left: keep the interpreter's final flush from complaining."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (tests)
        pass


def _leave_while_connecting(
    why: str, settings: Any, recorder: Any, received: list[int], duration: float | None
) -> None:
    """Stopped (signal or --duration) before listening: say so and exit at once.

    The connection attempt cannot be cancelled (it runs in oslo's threads), so the process
    leaves without waiting for it; nothing was recorded, nothing acknowledged.
    """
    import os
    import signal

    from osreplay.runtime import EXIT_INTERRUPTED, EXIT_TERMINATED

    where = settings.masked_url
    if why == "timeout":
        message = (
            f"Error: still not listening on {where} after {duration:g} s (--duration): "
            "nothing recorded (the broker accepted the connection check but not the "
            "listeners; -v shows oslo's retries)"
        )
        code = EXIT_USAGE
    else:
        message = f"Stopped while connecting to {where}: nothing recorded"
        code = EXIT_TERMINATED if signal.SIGTERM in received else EXIT_INTERRUPTED
    if recorder.plan is not None and not recorder.keep_queue:
        message += (
            f"\n  tap queues of pool {recorder.pool} may be left on the broker: "
            f"{', '.join(recorder.queues)}"
        )
    click.echo(mask_secrets(message), err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _install_stop_signals(
    stop: Any, events: RecordConsole, received: list[int], listening: Any
) -> Any:
    """First SIGINT/SIGTERM: stop cleanly. A second SIGINT: exit now (130).

    ``received`` collects the signals; before ``listening`` is set nothing is in hand, and
    the caller says what happened."""
    import os
    import signal

    def handler(signum: int, frame: Any) -> None:
        received.append(signum)
        if stop.is_set():
            if signum == signal.SIGINT:
                os.write(2, b"\nInterrupted again: exiting now without cleaning up\n")
                os._exit(130)
            return
        stop.set()
        if not listening.is_set():
            return
        events.event(
            "stopping",
            "Stopping: writing and acknowledging what is in hand (Ctrl-C again to force)",
        )

    saved = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            saved[signum] = signal.signal(signum, handler)
        except ValueError:  # not the main thread (embedded use): no signal handling
            pass

    def restore() -> None:
        for signum, previous in saved.items():
            signal.signal(signum, previous)

    return restore


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
    from osreplay.console.scenario import TraceConsole
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
    from osreplay.console.scenario import DiffConsole
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
    from osreplay.console.scenario import TimelineConsole
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
    from osreplay.console.report import redact_lines
    from osreplay.secrets import scrub

    summary = scrub.run(
        scrub.RedactOptions(
            source=source,
            output=output,
            pseudonymise=pseudonymise,
            seed=seed,
            redact_keys=redact_keys,
        )
    )
    for line in redact_lines(summary):
        click.echo(line, err=True)
    sys.exit(EXIT_OK if summary.ok else EXIT_FINDINGS)
