"""`replay --workers N` without a broker: which worker gets each record, and the exact
accounting of what the workers confirmed (a fake pool plays the workers; no sleeps)."""

from __future__ import annotations

import json
import zlib

from osreplay.console.replay import stop_lines
from osreplay.model.notification import Notification
from osreplay.replay.pacing import Pacer, RateSchedule, VirtualClock
from osreplay.replay.replayer import ReplaySummary, Stop
from osreplay.replay.run import ReplayOptions
from osreplay.replay.sources import FileSource
from osreplay.replay.workers import (
    WORKER_LOST,
    Assigner,
    Dispatch,
    Ledger,
    PooledReplayer,
    Where,
    order_key,
    settle,
)


def note(payload=None, ctxt=None) -> Notification:
    return Notification("compute.instance.update", "nova", "INFO", payload or {}, ctxt=ctxt)


def test_order_key_prefers_the_request_id_then_the_resource_id():
    ctxt = {"request_id": "req-1", "global_request_id": "req-g"}
    assert order_key(note({"instance_id": "i-1"}, ctxt)) == "req-g"
    assert order_key(note({"instance_id": "i-1"}, {"request_id": "req-1"})) == "req-1"
    assert order_key(note({"nova_object.data": {"uuid": "u-1"}, "instance_id": "i"})) == "u-1"
    assert order_key(note({"instance_id": "i-1"}, {"request_id": None})) == "i-1"
    cadf = {"typeURI": "http://schemas.dmtf.org/cloud/audit/1.0/event", "target": {"id": "t-1"}}
    assert order_key(note(cadf)) == "t-1"
    assert order_key(note({"other": 1})) is None
    assert order_key(note(["not", "a", "dict"])) is None


def test_records_sharing_a_key_share_a_worker_and_keyless_ones_go_round_robin():
    assign = Assigner(3)
    keyed = [assign(note(ctxt={"request_id": f"req-{i % 5}"})) for i in range(30)]
    for i, worker in enumerate(keyed):
        assert worker == zlib.crc32(f"req-{i % 5}".encode()) % 3
        assert worker == keyed[i % 5]
    assert [assign(note()) for _ in range(7)] == [0, 1, 2, 0, 1, 2, 0]


class FakePool(Dispatch):
    """Plays N workers: each 'sends' what it was handed, in order, when the pool finishes.

    ``fail`` maps a worker to the rank (1-based) of the first of its records the broker
    refuses; ``unsent`` maps a worker to how many of its last records it never sent
    (stopped by an interrupt before reaching them).
    """

    def __init__(self, workers: int, *, fail=None, unsent=None, fail_during_run=False):
        self.ledger = Ledger()
        self.queues: list[list[tuple[int, Notification]]] = [[] for _ in range(workers)]
        self.fail = fail or {}
        self.unsent = unsent or {}
        self.fail_during_run = fail_during_run
        self.finished_now: bool | None = None
        self.history: list[list[int]] = [[] for _ in range(workers)]

    def submit(self, worker, seq, note, exchange, topic) -> str:
        self.queues[worker].append((seq, note))
        self.history[worker].append(note.payload["i"])
        if self.fail_during_run and worker in self.fail:
            self._play(worker)
        return ""

    def _play(self, worker: int) -> None:
        items = self.queues[worker]
        keep = len(items) - self.unsent.get(worker, 0)
        for rank, (seq, _) in enumerate(items[:keep], 1):
            if rank == self.fail.get(worker):
                self.ledger.fail(seq, "Basic.nack from the broker")
                break
            self.ledger.confirm([seq])
        self.queues[worker] = []

    def finish(self, *, now: bool) -> None:
        self.finished_now = now
        for worker in range(len(self.queues)):
            self._play(worker)


def replay(tmp_path, pool: FakePool, count: int = 12, *, interrupt_at: int | None = None):
    path = tmp_path / "r.ndjson"
    rows = [
        {"event_type": "e", "publisher_id": "p", "priority": "INFO", "payload": {"i": i}}
        for i in range(1, count + 1)
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    clock = VirtualClock()
    calls = []

    def observer(entry, exchange, topic, offset, late):
        calls.append(entry.lineno)
        if len(calls) == interrupt_at:
            raise KeyboardInterrupt

    replayer = PooledReplayer(
        pool, len(pool.queues), RateSchedule(0),
        pacer=Pacer(clock=clock.clock, sleep=clock.sleep), observer=observer,
    )  # fmt: skip
    source = FileSource([str(path)])
    source.check()
    return replayer.run(source), str(path)


def test_all_confirmed_counts_every_record(tmp_path):
    pool = FakePool(3)
    summary, _ = replay(tmp_path, pool)
    assert (summary.sent, summary.failed, summary.stop, summary.ok) == (12, 0, None, True)
    assert pool.finished_now is False  # the workers drained their queues
    # keyless records: round-robin, each worker in file order
    assert pool.history == [[1, 4, 7, 10], [2, 5, 8, 11], [3, 6, 9, 12]]


def test_a_failure_stops_at_the_first_line_not_confirmed_and_counts_those_after_it(tmp_path):
    # worker 1 (records 2, 5, 8, 11) fails on its 2nd record: line 5. Workers 0 and 2
    # confirmed everything they were handed: lines 6, 7, 9, 10 and 12 come after line 5.
    pool = FakePool(3, fail={1: 2})
    summary, path = replay(tmp_path, pool)
    assert summary.sent == 12 - 3  # lines 5, 8, 11 not confirmed
    assert summary.failed == 1
    assert summary.stop == Stop("failed", path, 5, "Basic.nack from the broker", 1, 5, ahead=5)
    assert stop_lines(summary, ReplayOptions(files=(path,), workers=3)) == [
        f"Error: line 5 of {path} was not confirmed by the broker: Basic.nack from the broker",
        "4 records before it were confirmed; resume with --start-at 5 (5 records after it "
        "were confirmed by other workers and counted as sent: resuming from that line may "
        "send them again)",
    ]


def test_a_failure_seen_while_handing_out_stops_handing_out(tmp_path):
    pool = FakePool(2, fail={0: 1}, fail_during_run=True)
    summary, path = replay(tmp_path, pool)
    assert summary.seen == 2  # line 1 handed out and failed at once; line 2 not handed out
    assert pool.ledger.handed == 1
    assert (summary.sent, summary.failed) == (0, 1)
    assert summary.stop == Stop("failed", path, 1, "Basic.nack from the broker", 1, 1, ahead=0)


def test_an_interrupt_resumes_at_the_first_record_a_worker_never_sent(tmp_path):
    # Ctrl-C after 9 records were handed out; worker 2 (lines 3, 6, 9) had not sent its
    # last one; workers 0 and 1 sent all theirs (lines 1, 4, 7 and 2, 5, 8).
    pool = FakePool(3, unsent={2: 1})
    summary, path = replay(tmp_path, pool, interrupt_at=9)
    assert pool.finished_now is True
    assert summary.sent == 8
    assert summary.stop == Stop("interrupted", path, 9, "interrupted", 1, 9, ahead=0)


def test_an_interrupt_with_confirmed_records_after_the_gap_says_they_may_go_again(tmp_path):
    pool = FakePool(3, unsent={0: 2})  # lines 4 and 7 never sent; 5, 6, 8, 9 were
    summary, path = replay(tmp_path, pool, interrupt_at=9)
    assert summary.sent == 7
    assert summary.stop == Stop("interrupted", path, 4, "interrupted", 1, 4, ahead=4)
    assert stop_lines(summary, ReplayOptions(files=(path,), workers=3)) == [
        f"Interrupted at line 4 of {path}; resume with --start-at 4 (4 records after it were "
        "confirmed by other workers and counted as sent: resuming from that line may send "
        "them again)"
    ]


def test_ledger_ahead_counts_only_confirmed_records_after_the_gap():
    ledger = Ledger()
    wheres = [Where("f", i + 1, 1, i + 1) for i in range(6)]
    assert [ledger.hand(where) for where in wheres] == [0, 1, 2, 3, 4, 5]
    ledger.confirm([0, 2, 4, 5, 5])  # a number reported twice counts once
    assert ledger.first_open() == (1, wheres[1])
    assert ledger.ahead(1) == 3  # 2, 4, 5 (3 is still open)
    assert ledger.confirmed == 4
    summary = settle(ReplaySummary(total=6, seen=6), ledger)
    assert summary.sent == 4
    assert summary.stop == Stop("failed", "f", 2, WORKER_LOST, 1, 2, ahead=3)
    ledger.confirm([1, 3])
    assert ledger.first_open() is None
    assert settle(ReplaySummary(total=6, seen=6), ledger).ok


def cli(*args):
    from click.testing import CliRunner

    from osreplay.cli import main

    env = {"OSREPLAY_TRANSPORT_URL": ""}
    return CliRunner().invoke(main, ["replay", *args], env=env, prog_name="osreplay")


def test_dry_run_plans_as_one_worker(tmp_path):
    path = tmp_path / "r.ndjson"
    rows = [
        {"event_type": f"e{i}", "publisher_id": "p", "priority": "INFO", "payload": {"i": i}}
        for i in range(3)
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    one = cli(str(path), "--dry-run", "--rate", "10")
    four = cli(str(path), "--dry-run", "--rate", "10", "--workers", "4")
    assert one.exit_code == four.exit_code == 0
    assert four.stdout == one.stdout
    assert four.stdout.endswith("Dry run: 3 of 3 records planned over 0.2 s; nothing sent\n")


def test_workers_must_be_at_least_one(tmp_path):
    result = cli("x.ndjson", "--workers", "0", "--rate", "0")
    assert result.exit_code == 2
    assert "Invalid value for '--workers': 0 is not in the range x>=1." in result.stderr


def test_a_request_id_holding_a_lone_surrogate_still_picks_a_worker():
    note = Notification.from_dict(
        json.loads(
            '{"event_type": "e", "publisher_id": "p", "priority": "INFO", "payload": {},'
            ' "ctxt": {"request_id": "req-\\udcff"}}'
        )
    )
    assign = Assigner(3)
    assert assign(note) == zlib.crc32("req-\udcff".encode("utf-8", "surrogatepass")) % 3
    assert assign(note) == assign(note)  # the same key, the same worker
