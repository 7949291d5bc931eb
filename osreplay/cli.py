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
from osreplay.transport import MaskingFilter, mask_secrets

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


# --- commands: validate, record, replay are added below ------------------------------
