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
