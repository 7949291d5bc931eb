"""What ``osreplay tap …`` and ``osreplay record --from-tap`` tell a person."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TextIO

from osreplay.bus.reconnect import ConnectionLost, Reconnected
from osreplay.bus.transport import mask_secrets
from osreplay.console.record import size_text, skipped_notice
from osreplay.console.text import escape_control
from osreplay.tap.flight import FlightSummary, Reading
from osreplay.tap.options import CleanupFailed, Skipped
from osreplay.tap.taps import Created, Deleted, Listed, TapInfo
from osreplay.tap.window import Window, iso


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _when(moment: datetime | None) -> str:
    return iso(moment.replace(microsecond=0)) if moment is not None else "-"


def window_text(window: Window) -> str:
    """``2026-12-07T13:00:00Z – 2026-12-07T14:00:00Z`` (``first`` when open)."""
    since = "first" if window.since is None else iso(window.since)
    until = iso(window.until) + (" (now)" if window.until_now else "")
    return f"{since} – {until}"


def retention_text(info: TapInfo) -> str:
    spec = info.spec
    if spec is None:
        return "-"
    parts = []
    if spec.max_age:
        parts.append(spec.max_age)
    if spec.max_bytes:
        parts.append(size_text(spec.max_bytes, binary=False))
    return " or ".join(parts) or "forever"


def created_lines(created: Created) -> list[str]:
    spec = created.spec
    used = [name for name, existed in created.existed.items() if existed]
    declared = [name for name, existed in created.existed.items() if not existed]
    lines = [
        f"Created tap {spec.name} (stream {spec.queue}) on {created.url}: "
        f"{_plural(len(spec.exchanges), 'exchange')}, topic{'s' if len(spec.topics) > 1 else ''} "
        f"{', '.join(spec.topics)}; keeps {retention_text(TapInfo(spec.name, spec.queue, spec))}"
    ]
    if used:
        lines.append(f"  used as they are: {', '.join(used)}")
    if declared:
        kind = "durable" if created.flags.durable else "transient (oslo's default)"
        lines.append(
            f"  declared as the services would, {kind}: {', '.join(declared)}"
            + (
                "; a broker restart drops a transient exchange with this tap's binding"
                if not created.flags.durable
                else ""
            )
        )
    lines.append(f"Read it with: osreplay record --from-tap {spec.name} --since 1h -o FILE")
    return lines


def deleted_line(deleted: Deleted) -> str:
    if deleted.existed:
        return f"Deleted tap {deleted.name} (stream {deleted.queue}) on {deleted.url}"
    return f"No tap {deleted.name} on {deleted.url} (nothing to delete)"


def list_lines(listed: Listed) -> list[str]:
    if not listed.taps:
        return [f"No taps on {listed.url}"]
    header = ("name", "exchanges", "messages", "bytes", "first", "last", "retention")
    rows = [header]
    stale = False
    for info in listed.taps:
        if info.missing:
            rows.append((info.name, "(its stream is gone)", "-", "-", "-", "-", "-"))
            continue
        stale = stale or info.stale
        exchanges = ",".join(info.spec.exchanges) if info.spec else "?"
        if len(exchanges) > 40:
            exchanges = f"{len(info.spec.exchanges) if info.spec else 0} exchanges"
        rows.append(
            (
                info.name,
                exchanges,
                str(info.messages) + ("*" if info.stale else ""),
                "≈" + size_text(info.bytes, binary=False) if info.bytes is not None else "0",
                _when(info.first_time),
                _when(info.last_time),
                retention_text(info),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines = [escape_control(line) for line in lines]
    lines.append(
        "bytes: estimated from the newest messages' size; first/last: the notifications' "
        "own timestamps"
    )
    if stale:
        lines.append(
            "*: may be stale: the tap is still being written to, or the broker's own count "
            "(which lags a few seconds) differs from the offsets read"
        )
    return lines


class TapConsole:
    """The tap commands' output: results on stdout, notes on stderr."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err

    def bus_notes(self, notes: Sequence[str]) -> None:
        for note in notes:
            self.err.write(mask_secrets(note) + "\n")

    def created(self, created: Created) -> None:
        self.bus_notes(created.notes)
        self._print(created_lines(created))

    def deleted(self, deleted: Deleted) -> None:
        self.bus_notes(deleted.notes)
        self._print([deleted_line(deleted)])

    def listed(self, listed: Listed) -> None:
        self.bus_notes(listed.notes)
        self._print(list_lines(listed))

    def _print(self, lines: list[str]) -> None:
        for line in lines:
            self.out.write(line + "\n")
        self.out.flush()


def reading_line(reading: Reading) -> str:
    what = f"Reading tap {reading.tap} on {reading.url}, window {window_text(reading.window)}"
    if reading.start is None:
        return what + ": nothing stored in it"
    end = "live" if reading.end is None else str(reading.end)
    return f"{what} (offsets {reading.start}–{end})"


def _offset(offset: int | None) -> str:
    return "-" if offset is None else str(offset)


def flight_summary_lines(summary: FlightSummary) -> list[str]:
    span = ""
    if summary.first_time is not None and summary.last_time is not None:
        span = f"; records from {iso(summary.first_time)} to {iso(summary.last_time)}"
    lines = [
        f"Recorded {_plural(summary.written, 'record')} from tap {summary.tap} to "
        f"{escape_control(summary.output)}, window {window_text(summary.window)}{span} "
        f"(stopped by {summary.stopped_by})",
        f"  read {summary.read} (offsets {_offset(summary.first_offset)}"
        f"–{_offset(summary.last_offset)}) in "
        f"{summary.elapsed:.1f} s: outside the window {summary.outside}, duplicates skipped "
        f"{summary.duplicates}, filtered out {summary.filtered}",
    ]
    extra = []
    if summary.untimed:
        extra.append(f"without a timestamp (kept by offset) {summary.untimed}")
    if summary.not_notifications:
        extra.append(f"not notifications skipped {summary.not_notifications}")
    if summary.undecodable:
        total = sum(summary.undecodable.values())
        reasons = "; ".join(f"{n} {why}" for why, n in summary.undecodable.most_common())
        extra.append(f"undecodable skipped {total} ({reasons})")
    if summary.unencodable:
        extra.append(f"unencodable skipped {summary.unencodable}")
    if summary.reconnects:
        extra.append(f"reconnected {summary.reconnects} time(s), going on at the next offset")
    if extra:
        lines.append("  " + ", ".join(extra))
    if summary.exchanges:
        lines.append(
            "  by exchange: "
            + ", ".join(f"{name} {n}" for name, n in sorted(summary.exchanges.items()))
        )
    return lines


class FlightConsole:
    """``record --from-tap``'s notices and summary, on stderr."""

    def __init__(self, stream: TextIO, *, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet

    def bus_notes(self, notes: Sequence[str]) -> None:
        for note in notes:
            self._line(mask_secrets(note))

    def reading(self, reading: Reading) -> None:
        self._line(reading_line(reading))

    def reconnecting(self, reason: str) -> None:
        self._line(f"Connection lost ({mask_secrets(reason)}); reconnecting")

    def stopping(self) -> None:
        self._line("Stopping: writing what is in hand (Ctrl-C again to force)")

    def skipped(self, skipped: Skipped) -> None:
        self._line(skipped_notice(skipped))

    def connection_lost(self, lost: ConnectionLost) -> None:
        self._line(f"Connection to {lost.url} lost ({lost.reason})")

    def reconnected(self, back: Reconnected, *, durable: bool) -> None:
        self._line(f"Reconnected to {back.url}")

    def cleanup_failed(self, failure: CleanupFailed) -> None:
        self._line(f"could not delete {', '.join(failure.left)}: {failure.reason}")

    def flight_summary(self, summary: FlightSummary) -> None:
        if not self.quiet:
            for line in flight_summary_lines(summary):
                self._line(line)

    def _line(self, text: str) -> None:
        self.stream.write(escape_control(mask_secrets(text), multiline=True) + "\n")
        self.stream.flush()


__all__ = [
    "FlightConsole",
    "TapConsole",
    "created_lines",
    "deleted_line",
    "flight_summary_lines",
    "list_lines",
    "reading_line",
    "window_text",
]
