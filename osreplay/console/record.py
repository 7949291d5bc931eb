"""What ``osreplay record`` tells a person: the ready line, notices, the live counter and
the summary (all on stderr; the records themselves go to the output)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TextIO

from osreplay.bus.reconnect import ConnectionLost, Gap, Reconnected
from osreplay.bus.transport import mask_secrets
from osreplay.console.terminal import record_draws_counter
from osreplay.console.text import CLEAR_LINE as _CLEAR_LINE
from osreplay.console.text import escape_control
from osreplay.errors import OsreplayError
from osreplay.tap.options import CleanupFailed, FileStarted, RecordedFile, RecordSummary, Skipped
from osreplay.tap.rotate import RotateLimits
from osreplay.tap.run import Listening, NotListening, Rotation
from osreplay.tap.sink import RecordStats, printable


class RecordConsole:
    """The recorder's notices (one line each, passwords masked) and its live counter.

    ``quiet``: no live counter, no leftover notice and no summary (the ready line, notices
    and errors still print). The counter is drawn only where nothing else writes to the
    terminal meanwhile (see :func:`osreplay.console.terminal.record_draws_counter`).
    """

    def __init__(self, stream: TextIO, *, stdout: Any = None, quiet: bool = False) -> None:
        self.stream = stream
        self._stdout = stdout
        self._quiet = quiet
        self._draws = False
        self._progress_shown = False
        self._binary_sizes = True

    # -- before listening ------------------------------------------------------------------

    def bus_notes(self, notes: Sequence[str]) -> None:
        for note in notes:
            self._line(mask_secrets(note))

    def ready(self, listening: Listening) -> None:
        self._line(ready_line(listening))
        if listening.transient_exchanges:
            self._line(transient_bindings_line(listening))
        if listening.rotation is not None:
            self._line(rotation_line(listening.rotation))
            self._binary_sizes = binary_sizes(listening.rotation.limits)
        if listening.resumed and not self._quiet:
            verb = "purged" if listening.purged else "resuming"
            self._line(
                f"Found tap queues left by an earlier recorder ({verb}): "
                + ", ".join(listening.resumed)
            )
        self._draws = not self._quiet and record_draws_counter(
            stderr=self.stream, stdout=self._stdout, output=listening.output
        )

    def not_listening(self, left: NotListening) -> None:
        self._line(mask_secrets(not_listening_message(left)))

    # -- while recording -------------------------------------------------------------------

    def skipped(self, skipped: Skipped) -> None:
        self._notice(skipped_notice(skipped))

    def connection_lost(self, lost: ConnectionLost) -> None:
        self._notice(f"Connection to {lost.url} lost ({lost.reason}); reconnecting")

    def reconnected(self, back: Reconnected, *, durable: bool) -> None:
        if back.channel:
            self._notice(
                f"Reconnected to {back.url}: consuming again on a new channel; the broker "
                "redelivers what was not acknowledged, and what is already in the file is "
                "skipped as a duplicate (nothing is missing: the tap queues kept it all)"
            )
            return
        notice = f"Reconnected to {back.url}" + (f" (node {back.node})" if back.node else "")
        if back.gap is not None:
            notice += "\n" + gap_notice(back.gap, durable=durable)
        self._notice(notice)

    def cleanup_failed(self, failure: CleanupFailed) -> None:
        self._notice(f"could not delete tap queue(s) {', '.join(failure.left)}: {failure.reason}")

    def file_started(self, started: FileStarted) -> None:
        if not self._quiet:
            self._notice(file_started_notice(started, binary=self._binary_sizes))

    def stopping(self) -> None:
        self._notice("Stopping: writing and acknowledging what is in hand (Ctrl-C again to force)")

    def progress(self, stats: RecordStats) -> None:
        if not self._draws:
            return
        self.stream.write(_CLEAR_LINE + progress_line(stats))
        self.stream.flush()
        self._progress_shown = True

    def clear_progress(self) -> None:
        if self._progress_shown:
            self.stream.write(_CLEAR_LINE)
            self.stream.flush()
            self._progress_shown = False

    # -- at the end ------------------------------------------------------------------------

    def summary(self, summary: RecordSummary) -> None:
        if not self._quiet:
            for line in summary_lines(summary):
                self._line(line)

    def _notice(self, message: str) -> None:
        self.clear_progress()
        # Some notices are two lines on purpose (a reconnect and what may be missing).
        self._line(escape_control(mask_secrets(message), multiline=True))

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def with_resume_hint(error: OsreplayError, summary: RecordSummary) -> OsreplayError:
    """The run's ``error``; when the tap queues were kept, with how to resume."""
    if not summary.kept_queues:
        return error
    return type(error)(
        f"{error} (the tap queues were kept, nothing is lost: fix this, then "
        f"resume with osreplay record --pool {summary.pool} --append -o FILE"
        + (" --durable)" if summary.durable else ")")
    )


def skipped_notice(skipped: Skipped) -> str:
    what = f"skipped message {printable(skipped.message_id)}"
    if skipped.why == "not a notification":
        return f"{what}: not a notification: {skipped.detail}"
    if skipped.why == "unencodable":
        return f"{what}: {skipped.detail}"
    if skipped.why == "undecodable":
        if skipped.message_id is not None:
            return f"{what}: oslo would drop it: {skipped.detail}"
        return f"skipped a message whose body oslo cannot decode: {skipped.detail}"
    return f"{what}: cannot be written as a record ({skipped.error_type}: {skipped.detail})"


def not_listening_message(left: NotListening) -> str:
    if left.why == "timeout":
        message = (
            f"Error: still not listening on {left.url} after {left.waited:g} s (--duration "
            "and --connect-timeout): "
            "nothing recorded (the broker accepted the connection check but not the "
            "listeners; -v shows oslo's retries)"
        )
    else:
        message = f"Stopped while connecting to {left.url}: nothing recorded"
    if left.left_queues:
        message += (
            f"\n  tap queues of pool {left.pool} may be left on the broker: "
            f"{', '.join(left.left_queues)}"
        )
    return message


def _hms(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S")


def gap_window(gap: Gap) -> str:
    """``12:00:01–12:00:09 UTC``."""
    return f"{_hms(gap.lost_at)}–{_hms(gap.back_at)} UTC"


def gap_notice(gap: Gap, *, durable: bool) -> str:
    """What a reconnect means for the recording, with the window and how to avoid a gap."""
    if durable:
        return (
            f"  the tap was away {gap.seconds:.1f} s ({gap_window(gap)}); its queues are "
            "durable, so what was published meanwhile waited in them (unless the broker lost it)"
        )
    return (
        f"  messages published while the tap was away ({gap_window(gap)}, {gap.seconds:.1f} s) "
        "may be missing: a broker restart drops non-durable tap queues; record with --durable "
        "to keep them"
    )


def ready_line(listening: Listening) -> str:
    """``Recording from rabbit://guest:***@host:5672/ on 15 exchanges (pool osreplay-h)``."""
    exchanges, topics = listening.exchanges, listening.topics
    where = f"exchange {exchanges[0]}" if len(exchanges) == 1 else f"{len(exchanges)} exchanges"
    if len(topics) > 1 or topics != ["notifications"]:
        label = "topic" if len(topics) == 1 else "topics"
        where += f", {label} {', '.join(topics)}"
    return f"Recording from {listening.url} on {where} (pool {listening.pool})"


def transient_bindings_line(listening: Listening) -> str:
    """Durable tap queues on transient exchanges: what a broker restart does to them."""
    transient, total = listening.transient_exchanges, len(listening.exchanges)
    if len(transient) == 1:
        which = f"exchange {transient[0]} is"
    elif len(transient) <= 3:
        which = f"exchanges {', '.join(transient)} are"
    else:
        which = f"{len(transient)} of the {total} exchanges are"
    return (
        f"The tap's bindings will not survive a broker restart: {which} transient (as the "
        "services declared them), and a restart drops them with their bindings until "
        "osreplay reconnects and binds again"
    )


def rotation_line(rotation: Rotation) -> str:
    """``Writing cap-00001.ndjson.gz, a new file every 256 MB or 1 h (cap-{n:05d}.ndjson.gz)``."""
    after = f" (after {escape_control(rotation.after)})" if rotation.after else ""
    return (
        f"Writing {escape_control(rotation.first)}{after}, a new file every "
        f"{limits_text(rotation.limits)} ({escape_control(rotation.pattern)})"
    )


def limits_text(limits: RotateLimits) -> str:
    """``256 MB or 1 h``: the size (on disk) and the age that close a file."""
    parts = []
    if limits.size is not None:
        parts.append(size_text(limits.size))
    if limits.seconds is not None:
        parts.append(duration_text(limits.seconds))
    return " or ".join(parts)


_BINARY = (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024))
_DECIMAL = (("TB", 1000**4), ("GB", 1000**3), ("MB", 1000**2), ("KB", 1000))
#: Largest first: 256000000 is 256 MB, not 250000 KiB.
_UNITS = sorted(_BINARY + _DECIMAL, key=lambda unit: -unit[1])


def size_text(size: int, *, binary: bool = True) -> str:
    """``256000000`` -> ``256 MB``, ``1073741824`` -> ``1 GiB``; other sizes rounded:
    ``1300000`` -> ``1.2 MiB`` (``binary``) or ``1.3 MB``."""
    for unit, scale in _UNITS:
        if scale <= size < 1000 * scale and size % scale == 0:
            return f"{size // scale} {unit}"
    for unit, scale in _BINARY if binary else _DECIMAL:
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} byte{'' if size == 1 else 's'}"


def duration_text(seconds: float) -> str:
    """``3600`` -> ``1 h``, ``5400`` -> ``90 min``, ``90`` -> ``90 s``."""
    for unit, scale in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= scale and seconds % scale == 0:
            return f"{seconds / scale:g} {unit}"
    return f"{seconds:g} s"


def binary_sizes(limits: RotateLimits | None) -> bool:
    """Sizes of files are shown in the units of the size limit (256MB: MB; 1GiB: MiB)."""
    return limits is None or limits.size is None or size_text(limits.size).endswith("iB")


def _records_and_size(file: RecordedFile, *, binary: bool) -> str:
    records = f"{file.records} record{'' if file.records == 1 else 's'}"
    return f"{records}, {size_text(file.size, binary=binary)}"


def file_text(file: RecordedFile, *, binary: bool = True) -> str:
    """``cap-00001.ndjson.gz: 500 records, 1.2 MiB``."""
    return f"{escape_control(file.path)}: {_records_and_size(file, binary=binary)}"


def file_started_notice(started: FileStarted, *, binary: bool = True) -> str:
    """One line per new file of a rotated recording."""
    path = escape_control(started.path)
    previous = started.previous
    if previous is None:
        return f"Writing {path}"
    closed = f"{escape_control(previous.path)} ({_records_and_size(previous, binary=binary)})"
    return f"Closed {closed}; writing {path}"


def progress_line(stats: RecordStats, *, now: float | None = None) -> str:
    """The live counter: ``1234 records, 56.7/s; top: a 800, b 400``."""
    elapsed = (time.monotonic() if now is None else now) - stats.started
    rate = stats.written / elapsed if elapsed > 0 else 0.0
    text = f"{stats.written} record{'' if stats.written == 1 else 's'}, {rate:.1f}/s"
    top = stats.top_event_types(3)
    if top:
        text += "; top: " + ", ".join(f"{name} {n}" for name, n in top)
    return text


def summary_lines(summary: RecordSummary) -> list[str]:
    """The end-of-run summary, a few lines for stderr."""
    output = summary.output
    if summary.files:
        count = len(summary.files)
        output = f"{count} file{'' if count == 1 else 's'} ({escape_control(output)})"
    lines = [
        f"Recorded {summary.written} record{'s' if summary.written != 1 else ''} "
        f"in {summary.elapsed:.1f} s ({_rate_text(summary)}) to {output}"
        f" (stopped by {summary.stopped_by})",
        _counts_line(summary),
    ]
    if summary.top_event_types:
        lines.append(
            "  top event types: " + ", ".join(f"{name} {n}" for name, n in summary.top_event_types)
        )
    if summary.exchanges:
        lines.append(
            "  by exchange: "
            + ", ".join(f"{name} {n}" for name, n in sorted(summary.exchanges.items()))
        )
    if summary.gaps:
        lines.append(_gaps_line(summary.gaps, durable=summary.bindings_survive))
    queues = _queues_line(summary)
    if queues:
        lines.append(queues)
    return lines + files_lines(summary.files, binary=binary_sizes(summary.rotate))


#: Past this many files the summary shows the first and last few.
SUMMARY_FILES = 12


def files_lines(files: list[RecordedFile], *, binary: bool = True) -> list[str]:
    """The files of a rotated recording, one line each (the middle elided past
    :data:`SUMMARY_FILES`)."""
    if not files:
        return []
    shown = [f"    {file_text(file, binary=binary)}" for file in files]
    if len(files) > SUMMARY_FILES:
        half = SUMMARY_FILES // 2
        hidden = len(files) - 2 * half
        shown = shown[:half] + [f"    … {hidden} more files …"] + shown[-half:]
    return ["  files:", *shown]


def _rate_text(summary: RecordSummary) -> str:
    """``5.0/s``; ``31.2/s while receiving, 0.8 s`` when traffic filled only part of the run."""
    receiving = summary.receiving
    if receiving is None or summary.elapsed - receiving < 1.0:
        return f"{summary.rate:.1f}/s"
    if receiving < 0.1:
        return "all in one batch"
    return f"{summary.rate:.1f}/s while receiving, {receiving:.1f} s"


def _counts_line(summary: RecordSummary) -> str:
    requeued = f"requeued {summary.requeued}"
    if summary.requeued and summary.stopped_by == "count":
        # The batch that crossed --count goes back whole (written records included).
        requeued += (
            " (the batch that crossed --count; kept in the tap queues)"
            if summary.kept_queues
            else " (the batch that crossed --count; dropped with the tap queues)"
        )
    duplicates = f"duplicates skipped {summary.duplicates}"
    if summary.duplicates and summary.gaps:
        duplicates += " (redelivered after a reconnect: already in the file)"
    line = f"  filtered out {summary.filtered}, {duplicates}, {requeued}"
    if summary.unencodable:
        line += f", unencodable skipped {summary.unencodable}"
    if summary.not_notifications:
        line += f", not notifications skipped {summary.not_notifications}"
    if summary.undecodable:
        total = sum(count for _, count in summary.undecodable)
        reasons = "; ".join(f"{count} {reason}" for reason, count in summary.undecodable)
        line += f", undecodable skipped {total} ({reasons})"
    return line


def _gaps_line(gaps: list[Gap], *, durable: bool) -> str:
    times = "time" if len(gaps) == 1 else "times"
    windows = ", ".join(gap_window(gap) for gap in gaps)
    if all(gap.channel for gap in gaps):
        return (
            f"  reconnected {len(gaps)} {times} after the broker closed the channel "
            f"({windows}): a delivery was not acknowledged within the broker's "
            "consumer_timeout (the output was too slow); the tap queues kept every message"
        )
    if durable:
        return (
            f"  reconnected {len(gaps)} {times} ({windows}); the tap queues are "
            "durable: what was published meanwhile waited in them"
        )
    return (
        f"  reconnected {len(gaps)} {times}: messages published while the tap "
        f"was away may be missing ({windows}); record with --durable to keep them"
    )


def _queues_line(summary: RecordSummary) -> str | None:
    if summary.kept_queues:
        return (
            f"  kept tap queues {', '.join(summary.kept_queues)}: they keep collecting; "
            f"resume with: osreplay record --pool {summary.pool} --append -o FILE"
            + (" --durable" if summary.durable else "")
        )
    if summary.deleted_queues:
        deleted = len(summary.deleted_queues)
        return f"  deleted {deleted} tap queue{'s' if deleted != 1 else ''} (pool {summary.pool})"
    return None


__all__ = [
    "RecordConsole",
    "binary_sizes",
    "file_started_notice",
    "files_lines",
    "gap_notice",
    "progress_line",
    "ready_line",
    "rotation_line",
    "summary_lines",
    "with_resume_hint",
]
