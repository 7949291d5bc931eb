"""What ``osreplay replay`` says: the dry-run table, the progress bar, the summary line,
why a replay stopped and how to resume it.

:class:`ReplayConsole` is the console :func:`osreplay.replay.run.run` is given: the core
calls it with facts (entries, a :class:`~osreplay.replay.replayer.ReplaySummary`), this
module turns them into text. Reports go to stdout, diagnostics to stderr.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import click

from osreplay.bus.blocked import BlockChange, Blocked
from osreplay.bus.exchanges import ExchangeFlags, ExchangeState
from osreplay.bus.url import mask_secrets
from osreplay.console.terminal import reads_a_terminal, replay_draws_progress
from osreplay.console.text import CLEAR_LINE as _CLEAR_LINE
from osreplay.console.text import escape_control, json_line, records
from osreplay.model.notes import NoteLine
from osreplay.replay.replayer import Observer, ReplaySummary, Stop
from osreplay.replay.run import ReplayOptions
from osreplay.secrets.rules import redact_record


def format_duration(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    if hours:
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{rest // 60}:{rest % 60:02d}"


def long_plan_warning(seconds: float, *, merged: bool = False) -> str:
    """Said before a paced replay planned over more than an hour without ``--max-gap``."""
    hours = seconds / 3600
    span = f"{hours:,.1f} hours" if hours < 48 else f"{hours / 24:,.0f} days"
    files = (
        "the files merged in one timeline"
        if merged
        else "several files go back to back, each on its own gaps"
    )
    return (
        f"Warning: this replay is planned over {span} (the recorded gaps; {files}): "
        "--max-gap SECONDS caps each wait, --speed X or --rate N changes the pace"
    )


class ReplayProgress:
    """A one-line progress bar: count, rate, ETA; redrawn at most 5 times a second.

    Called by the replayer once per record sent (its ``observer``). With ``planned`` (the
    paced replay's planned duration) the ETA is what the plan has left after the record
    just sent, not a guess from the rate so far: a paced replay idles between records.
    When the records go out late (a broker slower than the plan), that is stretched by
    the pace measured so far: the plan's offset reached per second spent reaching it.
    """

    def __init__(
        self,
        total: int | None,
        stream: TextIO,
        *,
        planned: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.clock = clock
        self.total = total
        self.planned = planned
        self.offset = 0.0
        self.late = 0.0
        self.count = 0
        self.started = clock()
        self.drawn = 0.0

    def __call__(self, entry: Any, exchange: str, topic: str, offset: float, late: float) -> None:
        self.count += 1
        self.offset, self.late = offset, late
        now = self.clock()
        if now - self.drawn >= 0.2:
            self.drawn = now
            self.draw(now)

    def draw(self, now: float) -> None:
        elapsed = now - self.started
        rate = self.count / elapsed if elapsed > 0 else 0.0
        if self.total:
            width = 30
            done = int(width * min(self.count / self.total, 1))
            if self.planned is not None:
                eta = max(self.planned - self.offset, 0.0)
                if self.offset > 0 and self.late > 0:
                    eta *= (self.offset + self.late) / self.offset
            else:
                eta = (self.total - self.count) / rate if rate > 0 else 0
            text = (
                f"[{'#' * done}{'.' * (width - done)}] {self.count}/{self.total} "
                f"{rate:.1f} msg/s ETA {format_duration(eta)}"
            )
        else:
            text = f"{self.count} {records(self.count)} {rate:.1f} msg/s"
        self.stream.write(_CLEAR_LINE + text)
        self.stream.flush()

    def clear(self) -> None:
        """Erase the bar before another line is written to the terminal (redrawn later)."""
        self.stream.write(_CLEAR_LINE)
        self.stream.flush()
        self.drawn = 0.0

    def close(self) -> None:
        self.stream.write(_CLEAR_LINE)
        self.stream.flush()


def exchange_differs_line(state: ExchangeState, wanted: ExchangeFlags) -> str:
    """``Exchange nova is durable, not transient as amqp_durable_queues = false says: …``."""
    options = []
    if state.flags.durable != wanted.durable:
        options.append(f"amqp_durable_queues = {str(wanted.durable).lower()}")
    if state.flags.auto_delete != wanted.auto_delete:
        options.append(f"amqp_auto_delete = {str(wanted.auto_delete).lower()}")
    return escape_control(
        f"Exchange {state.name} is {state.flags.describe()}, not {wanted.describe()} as "
        f"{' and '.join(options)} says: replaying into it as it is, as the services that "
        "declared it publish"
    )


def blocked_line(change: BlockChange) -> str:
    """While a memory or disk alarm lasts, every publish waits: say so, and when it ends."""
    if isinstance(change, Blocked):
        return escape_control(
            f"The broker blocks publishing ({change.reason}): waiting until its alarm "
            "clears; Ctrl-C stops with the resume point"
        )
    return f"The broker accepts publishing again (blocked for {change.seconds:.1f} s)"


def summary_line(summary: ReplaySummary) -> str:
    """``Replayed N of M records in S s (R msg/s), F failed, max lateness L ms``."""
    return (
        f"Replayed {summary.sent} of {summary.selected} "
        f"{'record' if summary.selected == 1 else 'records'} in {summary.elapsed:.1f} s "
        f"({summary.rate:.1f} msg/s), {summary.failed} failed, "
        f"max lateness {summary.max_lateness * 1000:.0f} ms"
    )


def unread_lines(summary: ReplaySummary) -> list[str]:
    """``  notifications.info: 2,100 messages waiting, no consumer``, per queue, and why."""
    if not summary.unread:
        return []
    lines = [
        f"  {queue.name}: {queue.messages:,} {'message' if queue.messages == 1 else 'messages'}"
        " waiting, no consumer"
        for queue in summary.unread
    ]
    lines.append(
        "  (oslo's Notifier declares a <topic>.<priority> queue so nothing is lost before a "
        "consumer exists; confirmed does not mean read: start the consumer, or use a topic "
        "or vhost of the test's own)"
    )
    return [escape_control(line) for line in lines]


def resume_option(stop: Stop, inputs: Sequence[str], *, limit: int | None, loop: int) -> str:
    """The options that resume a stopped replay exactly where it stopped."""
    # LINE when one file was named as it is; FILE:LINE for several, a folder or a glob.
    one = not inputs or tuple(inputs) in (("-",), (stop.source,))
    where = str(stop.lineno) if one else f"{stop.source}:{stop.lineno}"
    option = f"--start-at {where}"
    if limit is not None:
        option += f" --limit {limit - stop.position + 1}"
    if loop != 1:
        option += " --loop 1"
        left = loop - stop.pass_no
        if loop == 0:
            option += f" (pass {stop.pass_no}; then the original options for more passes)"
        elif left:
            option += (
                f" (pass {stop.pass_no} of {loop}; then --loop {left} without --start-at "
                f"for the {'pass' if left == 1 else 'passes'} left)"
            )
        else:
            option += f" (pass {stop.pass_no} of {loop}, the last)"
    return option


def _cell(value: Any) -> str:
    """A --dry-run column: ``null`` for None; tabs, newlines and lone surrogates escaped."""
    text = "null" if value is None else str(value)
    return text if text.isprintable() else json.dumps(text)[1:-1]


def _before_it(count: int) -> str:
    """``1 record before it was`` / ``3 records before it were``."""
    return f"{count} {records(count)} before it {'was' if count == 1 else 'were'}"


def interrupted_hint(stop: Stop, summary: ReplaySummary, options: ReplayOptions) -> str:
    """What an interrupted replay did, and how to go on (only what is true)."""
    how = "Terminated (SIGTERM)" if stop.reason == "terminated" else "Interrupted"
    if not stop.lineno:
        return f"{how} before the first record: nothing sent."
    if stop.source == "-" or options.streaming:
        return (
            f"{how} at line {stop.lineno} of standard input: the records before it were "
            "confirmed; that line and any read after it were not replayed, and standard "
            "input cannot be read again (a recorder feeding the pipe has already "
            "acknowledged them). To replay a stream you can resume, record it to a file "
            "first (osreplay record -o FILE) and replay the file."
        )
    if options.loop == 0:
        return (
            f"{how} at line {stop.lineno} of {stop.source} in pass {stop.pass_no} of an "
            f"endless --loop 0 ({summary.sent} {records(summary.sent)} confirmed): run the "
            "same command again to go on."
        )
    resume = resume_option(stop, options.files, limit=options.limit, loop=options.loop)
    return f"{how} at line {stop.lineno} of {stop.source}; resume with {resume}{_ahead(stop)}"


def _ahead(stop: Stop) -> str:
    """With --workers: records after the stop that were confirmed and may go again."""
    if not stop.ahead:
        return ""
    were, them = ("was", "it") if stop.ahead == 1 else ("were", "them")
    return (
        f" ({stop.ahead} {records(stop.ahead)} after it {were} confirmed by other workers "
        f"and counted as sent: resuming from that line may send {them} again)"
    )


def stop_lines(summary: ReplaySummary, options: ReplayOptions) -> list[str]:
    """Why a replay stopped early and how to resume it (stderr); nothing when it did not."""
    stop = summary.stop
    if stop is None:
        return []
    if stop.kind == "interrupted":
        return [interrupted_hint(stop, summary, options)]
    where = f"line {stop.lineno} of {stop.source}"
    if stop.kind == "refused":  # a configuration error: no resume point would help
        return [f"Error: the broker refused {where}: {mask_secrets(stop.reason)}"]
    resume = resume_option(stop, options.files, limit=options.limit, loop=options.loop)
    if stop.kind == "failed":
        return [
            f"Error: {where} was not confirmed by the broker: {mask_secrets(stop.reason)}",
            f"{_before_it(summary.sent - stop.ahead)} confirmed; resume with {resume}"
            f"{_ahead(stop)}",
        ]
    if stop.kind == "untimed":
        return [
            f"Error: {where} has no timestamp or recorded_at to pace it by: replay at a "
            "steady pace with --rate N (--rate 0 for as fast as possible)"
        ]
    return [
        escape_control(f"Error: {where} is unreadable: {stop.reason}"),
        f"{_before_it(summary.sent)} confirmed; fix the line and resume with "
        f"{resume}, or add --skip-invalid to replay past unreadable lines",
    ]


class ReplayConsole:
    """Prints what a replay does: to ``out`` the dry-run table and the summary line, to
    ``err`` notes, skipped lines, the progress bar (terminals only) and why it stopped."""

    def __init__(
        self,
        options: ReplayOptions,
        *,
        out: TextIO,
        err: TextIO,
        stdin: TextIO,
        quiet: bool = False,
    ) -> None:
        self.options = options
        self.out, self.err, self.stdin = out, err, stdin
        self.quiet = quiet
        self._progress: ReplayProgress | None = None
        self._rewriting = False

    def _say(self, text: str) -> None:
        click.echo(text, file=self.err)

    def bus_notes(self, notes: Sequence[str]) -> None:
        """Where the transport URL came from, when config files were given."""
        for note in notes:
            self._say(mask_secrets(note))

    def reading_stdin(self) -> None:
        if reads_a_terminal(self.stdin):
            self._say(
                "Reading records from standard input (one JSON record per line; Ctrl-D "
                "ends). To replay a recording: osreplay replay FILE"
            )

    def long_plan(self, seconds: float) -> None:
        self._say(long_plan_warning(seconds, merged=self.options.merge))

    def skipped(self, entry: NoteLine) -> None:
        if self._progress is not None:
            self._progress.clear()
        self._say(escape_control(f"Skipped line {entry.lineno} of {entry.path}: {entry.error}"))

    def skipped_more(self, count: int) -> None:
        if self._progress is not None:
            self._progress.clear()
        self._say(f"Skipped {count} more unreadable {'line' if count == 1 else 'lines'}")

    def dry_run(self, *, rewriting: bool) -> Observer:
        """Print the dry-run table's header; the observer prints a row per record planned."""
        self._rewriting = rewriting
        click.echo(
            "file\tline\toffset_s\texchange\ttopic\tpriority\tpublisher\tevent_type",
            file=self.out,
        )
        return self._planned

    def _planned(
        self, entry: NoteLine, exchange: str, topic: str, offset: float, late: float
    ) -> None:
        note = entry.note
        assert note is not None  # only records are sent
        click.echo(
            f"{_cell(entry.path)}\t{entry.lineno}\t+{offset:.3f}\t{_cell(exchange)}\t"
            f"{_cell(topic)}\t{note.priority}\t{_cell(note.publisher_id)}\t"
            f"{_cell(note.event_type)}",
            file=self.out,
        )
        if self._rewriting:
            # As it would be sent: a replay sends no token (oslo's redacted copy of the
            # context), so none is shown; controls escaped as in every line printed.
            click.echo(json_line(redact_record(note.to_dict())), file=self.out)

    def progress(self, total: int | None, *, planned: float | None) -> Observer | None:
        """The progress bar, when it may be drawn (see osreplay.console.terminal)."""
        allowed = replay_draws_progress(
            stderr=self.err, stdin=self.stdin, streaming=self.options.streaming
        )
        if self.quiet or not allowed:
            return None
        self._progress = ReplayProgress(total, self.err, planned=planned)
        return self._progress

    def close_progress(self) -> None:
        if self._progress is not None:
            self._progress.close()
            self._progress = None

    def exchange_differs(self, state: ExchangeState, wanted: ExchangeFlags) -> None:
        """An exchange the configuration would declare otherwise: replayed into as it is."""
        if self._progress is not None:
            self._progress.clear()
        self._say(exchange_differs_line(state, wanted))

    def blocked(self, change: BlockChange) -> None:
        """The broker blocks publishing (an alarm), or lets go again."""
        if self._progress is not None:
            self._progress.clear()
        self._say(blocked_line(change))

    def interrupted_before_start(self) -> None:
        self._say("Interrupted before the first record: nothing sent.")

    def finish(self, summary: ReplaySummary) -> None:
        """The summary line (unless quiet), then why the replay stopped early."""
        if not self.quiet:
            if self.options.dry_run:
                click.echo(
                    f"Dry run: {summary.sent} of {summary.selected} "
                    f"{records(summary.selected)} planned over {summary.elapsed:.1f} s; "
                    "nothing sent",
                    file=self.out,
                )
            else:
                click.echo(summary_line(summary), file=self.out)
                for line in unread_lines(summary):
                    click.echo(line, file=self.out)
            if summary.selected == 0:
                self._say("No record selected: check --start-at and the filters.")
        for text in summary.unmatched_sets:
            self._say(
                f"Warning: --set {escape_control(text)} changed nothing: no record has that "
                "path (paths read like payload.tenant_id or $.payload['nova_object.data'].host)"
            )
        for line in stop_lines(summary, self.options):
            self._say(line)


__all__ = [
    "ReplayConsole",
    "ReplayProgress",
    "format_duration",
    "interrupted_hint",
    "long_plan_warning",
    "resume_option",
    "stop_lines",
    "summary_line",
    "unread_lines",
]
