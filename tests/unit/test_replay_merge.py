"""``replay --merge``: files replayed record by record in timestamp order, resumable exactly.

Wherever a merged replay stops (a record not confirmed, Ctrl-C while a record is paced or
sent, Ctrl-C between two records, Ctrl-C while the next line is read), the ``--start-at
FILE:LINE`` it reports resumes at that record in merged order: the first run and the
resumed one together send every record once, in merged order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from osreplay.console.replay import resume_option as console_resume_option
from osreplay.model.notes import NoteLine
from osreplay.model.notification import Notification
from osreplay.replay.pacing import Pacer, RateSchedule, RecordedSchedule, VirtualClock
from osreplay.replay.replayer import Replayer, Stop
from osreplay.replay.sender import PublishError
from osreplay.replay.sources import FileSource, MergedPass, Selection, parse_start_at


def record(i: int, second: float | None) -> dict:
    row = {"event_type": f"e{i}", "publisher_id": "p", "priority": "INFO", "payload": {"i": i}}
    if second is not None:
        row["timestamp"] = f"2024-03-05 10:00:{second:09.6f}"
    return row


def write(path, rows) -> str:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return str(path)


@pytest.fixture
def capture(tmp_path) -> list[str]:
    """Two recorders side by side; b holds an untimed record (it stays behind b's 3)."""
    a = write(tmp_path / "a.ndjson", [record(0, 0), record(2, 2), record(5, 5), record(6, 6)])
    b = write(tmp_path / "b.ndjson", [record(1, 1), record(3, 3), record(4, None), record(7, 7)])
    return [a, b]


MERGED = [0, 1, 2, 3, 4, 5, 6, 7]


class Sender:
    """Keeps what it sent; fails the ``fail_at``-th send, or is interrupted at it."""

    def __init__(self, *, fail_at: int | None = None, interrupt_at: int | None = None):
        self.fail_at, self.interrupt_at = fail_at, interrupt_at
        self.calls = 0
        self.sent: list[int] = []

    def send(self, note: Notification, exchange: str, topic: str) -> None:
        self.calls += 1
        if self.calls == self.interrupt_at:
            raise KeyboardInterrupt
        if self.calls == self.fail_at:
            raise PublishError("Unable to connect to AMQP server")
        self.sent.append(note.payload["i"])

    def close(self) -> None:
        pass


def replay(paths, sender, *, start_at=None, observer=None, schedule=None, cache=100):
    clock = VirtualClock()
    source = FileSource(
        paths,
        Selection(start_at=parse_start_at(start_at, paths)),
        merge=True,
        cache_records=cache,
    )
    source.check()
    replayer = Replayer(
        sender,
        schedule or RateSchedule(0),
        pacer=Pacer(clock=clock.clock, sleep=clock.sleep),
        observer=observer,
    )
    return replayer.run(source)


def resume_option(stop, inputs=("a.ndjson", "b.ndjson")) -> str:
    """What the stopped replay printed (``--start-at FILE:LINE``), as given to the next."""
    option = console_resume_option(stop, inputs, limit=None, loop=1)
    assert option.startswith("--start-at ")
    return option.removeprefix("--start-at ")


def test_merged_files_go_out_in_timestamp_order(capture):
    sender = Sender()
    summary = replay(capture, sender)
    assert summary.ok and sender.sent == MERGED


def test_merged_files_are_paced_as_one_recording(tmp_path):
    # Not each file on its own gaps (as files one after another are): one timeline.
    a = write(tmp_path / "a.ndjson", [record(0, 0), record(2, 2), record(5, 5)])
    b = write(tmp_path / "b.ndjson", [record(1, 1), record(3, 3.5)])
    clock = VirtualClock()
    times: list[float] = []
    source = FileSource([a, b], merge=True, needs_timestamps=True)
    replayer = Replayer(
        Sender(),
        RecordedSchedule(),
        pacer=Pacer(clock=clock.clock, sleep=clock.sleep),
        observer=lambda *given: times.append(clock.now),
    )
    assert replayer.run(source).ok
    assert times == [0, 1, 2, 3.5, 5]


@pytest.mark.parametrize("cache", [100, 0], ids=["kept", "read-again"])
@pytest.mark.parametrize("at", range(1, len(MERGED) + 1))
def test_a_record_not_confirmed_resumes_at_itself_in_merged_order(capture, at, cache):
    first = Sender(fail_at=at)
    stop = replay(capture, first, cache=cache).stop
    assert stop is not None and stop.kind == "failed"
    second = Sender()
    replay(capture, second, start_at=resume_option(stop), cache=cache)
    assert first.sent + second.sent == MERGED


@pytest.mark.parametrize("at", range(1, len(MERGED) + 1))
def test_ctrl_c_while_a_record_is_sent_resumes_at_that_record(capture, at):
    first = Sender(interrupt_at=at)
    stop = replay(capture, first).stop
    assert stop is not None and stop.kind == "interrupted"
    second = Sender()
    replay(capture, second, start_at=resume_option(stop))
    assert first.sent + second.sent == MERGED


@pytest.mark.parametrize("cache", [100, 0], ids=["kept", "read-again"])
@pytest.mark.parametrize("after", range(1, len(MERGED)))
def test_ctrl_c_between_two_records_resumes_at_the_next_in_merged_order(capture, after, cache):
    # Stopped right after a record was confirmed: the next record is in the other file
    # (or after b's untimed one), not at the line after the last one sent.
    def stop_after(entry: NoteLine, *rest: object) -> None:
        if len(first.sent) == after:
            raise KeyboardInterrupt

    first = Sender()
    stop = replay(capture, first, observer=stop_after, cache=cache).stop
    assert stop is not None and stop.kind == "interrupted"
    second = Sender()
    replay(capture, second, start_at=resume_option(stop), cache=cache)
    assert first.sent + second.sent == MERGED


def test_ctrl_c_while_the_next_line_is_read_resumes_at_the_line_read_ahead(capture):
    entries = list(FileSource(capture, merge=True).passes())[0]

    class Interrupted:
        """A source whose reading is interrupted while the third entry is read."""

        skipped: list[NoteLine] = []
        total = None

        def passes(self) -> Iterator[MergedPass]:
            def read() -> Iterator[NoteLine]:
                for index, entry in enumerate(entries):
                    if index == 2:
                        raise KeyboardInterrupt
                    yield entry

            yield MergedPass(read())

    first = Sender()
    stop = Replayer(first, RateSchedule(0)).run(Interrupted()).stop
    assert first.sent == [0]  # the second entry was read ahead, never handed out
    assert stop is not None and (stop.source, stop.lineno) == (capture[1], 1)
    second = Sender()
    replay(capture, second, start_at=resume_option(stop))
    assert first.sent + second.sent == MERGED


def test_start_at_skips_everything_merged_before_it_in_any_file(capture):
    sender = Sender()
    replay(capture, sender, start_at=f"{capture[0]}:3")  # a's record 5
    assert sender.sent == [5, 6, 7]


def test_an_entry_handed_out_but_not_yet_sent_is_where_to_resume(capture):
    # Ctrl-C can land after the pass handed out an entry and before the replayer took it
    # up: that entry, not the one read ahead, is the next to send.
    merged = MergedPass(list(FileSource(capture, merge=True).passes())[0])
    first, second = next(merged), next(merged)
    assert merged.resume_after(first) == (second.path, second.lineno)
    third = next(merged)
    assert merged.resume_after(third) == (capture[1], 2)  # read ahead: b's record 3
    for _ in merged:
        pass
    assert merged.resume_after(merged.handed) == (capture[1], 5)  # the pass was over


@pytest.mark.parametrize(
    ("inputs", "printed"),
    [
        (["cap-00002.ndjson.gz"], "--start-at 7"),
        (["cap-*.ndjson.gz"], "--start-at cap-00002.ndjson.gz:7"),
        (["captures/"], "--start-at cap-00002.ndjson.gz:7"),
        (["cap-00001.ndjson.gz", "cap-00002.ndjson.gz"], "--start-at cap-00002.ndjson.gz:7"),
    ],
)
def test_the_resume_option_names_the_file_unless_one_file_was_given_as_it_is(inputs, printed):
    stop = Stop("failed", "cap-00002.ndjson.gz", 7, "lost")
    assert console_resume_option(stop, inputs, limit=None, loop=1) == printed
