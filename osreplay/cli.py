"""The ``osreplay`` command line: parse options, call the core, map errors to exit codes.

Exit codes: 0 ok; 1 findings or failures (invalid records, unconfirmed publishes);
2 usage or environment errors (bad options, unreadable files, unreachable broker).
Reports go to stdout, diagnostics to stderr; user mistakes never print a traceback.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from osreplay import __version__
from osreplay.errors import OsreplayError
from osreplay.recording import open_binary
from osreplay.report import REPORTERS
from osreplay.transport import MaskingFilter, mask_secrets
from osreplay.validate import Summary, Validator, parse_schema_option

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class OsreplayGroup(click.Group):
    """Turns the project's exceptions into ``Error: …`` on stderr and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OsreplayError as exc:
            click.echo(f"Error: {mask_secrets(str(exc))}", err=True)
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
def validate(
    files: tuple[str, ...], fmt: str, strict: bool, schemas: tuple[str, ...], quiet: bool
) -> None:
    """Check recordings (NDJSON, `-` for stdin, .gz) against the notification schemas.

    Prints `FILE:LINE: EVENT_TYPE: JSON_PATH: message` per problem and a summary line.
    Exits 0 when every record is valid, 1 when any is invalid or unreadable, 2 when a
    file cannot be read.
    """
    validator = Validator(
        extra_schemas=[parse_schema_option(text) for text in schemas], strict=strict
    )
    for path in files:  # a missing file is a usage error before any report starts
        if path != "-":
            open_binary(path).close()
    reporter = REPORTERS[fmt](sys.stdout, quiet=quiet)
    summary = Summary()
    for path in files:
        for verdict in validator.validate_file(path):
            summary.add(verdict)
            reporter.verdict(verdict)
    reporter.finish(summary)
    sys.exit(EXIT_OK if summary.ok(strict=strict) else EXIT_FINDINGS)


# --- commands: validate, record, replay are added below ------------------------------


_PRIORITY_CHOICES = ["audit", "debug", "info", "warn", "warning", "error", "critical", "sample"]


@main.command()
@click.option(
    "--url",
    metavar="URL",
    help="Transport URL (else $OSREPLAY_TRANSPORT_URL, "
    "else --config-file, else rabbit://guest:guest@localhost:5672/).",
)
@click.option(
    "--config-file",
    "config_files",
    multiple=True,
    metavar="FILE",
    help="A service's oslo.config file to read the transport URL, topics and "
    "[oslo_messaging_rabbit] options from (repeatable).",
)
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
@click.option(
    "--event-type",
    "event_types",
    multiple=True,
    metavar="GLOB",
    help="Record only event types matching GLOB (repeatable).",
)
@click.option(
    "--publisher",
    "publishers",
    multiple=True,
    metavar="GLOB",
    help="Record only publisher_ids matching GLOB (repeatable).",
)
@click.option(
    "--priority",
    "priorities",
    multiple=True,
    type=click.Choice(_PRIORITY_CHOICES, case_sensitive=False),
    help="Record only this priority (repeatable).",
)
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
    quiet: bool,
) -> None:
    """Record notifications from the bus into NDJSON, on osreplay's own queues.

    Real consumers such as Ceilometer still get every message. A message is acknowledged
    only once its line is written and flushed. Stops on Ctrl-C / SIGTERM (a second Ctrl-C
    forces), --count or --duration; deletes its tap queues unless --keep-queue.
    """
    import threading

    from osreplay import record as rec
    from osreplay.errors import UsageError
    from osreplay.recording import RecordingWriter
    from osreplay.redact import Redactor
    from osreplay.transport import resolve

    if append and output == "-":
        raise UsageError("--append needs -o FILE (standard output cannot be appended to)")
    settings = resolve(url=url, config_files=config_files, topics=topics)
    filters = rec.Filters(event_types, publishers, priorities)
    seen = rec.prepare_append(output) if append else []
    events = _RecordEvents(quiet=quiet)
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
            on_event=events.event,
        )
        stop = threading.Event()
        restore = _install_stop_signals(stop, events)
        try:
            recorder.start()
            click.echo(rec.ready_line(settings, recorder), err=True)
            plan = recorder.plan
            if plan is not None and plan.resumed and not quiet:
                verb = "purged" if plan.purged else "resuming"
                click.echo(
                    f"Found tap queues left by an earlier recorder ({verb}): "
                    + ", ".join(plan.resumed),
                    err=True,
                )
            tick = events.progress if (not quiet and sys.stderr.isatty()) else None
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
    if summary.error is not None:
        raise summary.error


class _RecordEvents:
    """Writes the recorder's notices and the live counter to stderr."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet
        self._progress_shown = False

    def event(self, kind: str, message: str) -> None:
        self.clear_progress()
        click.echo(mask_secrets(message), err=True)

    def progress(self, stats: Any) -> None:
        from osreplay.record import progress_line

        click.echo("\r" + progress_line(stats) + "\x1b[K", err=True, nl=False)
        self._progress_shown = True

    def clear_progress(self) -> None:
        if self._progress_shown:
            click.echo("\r\x1b[K", err=True, nl=False)
            self._progress_shown = False


def _install_stop_signals(stop: Any, events: _RecordEvents) -> Any:
    """First SIGINT/SIGTERM: stop cleanly. A second SIGINT: exit now (130)."""
    import os
    import signal

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            if signum == signal.SIGINT:
                os.write(2, b"\nInterrupted again: exiting now without cleaning up\n")
                os._exit(130)
            return
        stop.set()
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
