"""The stats and trace cores, without the CLI: pairing, keys, bounded memory."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from osreplay.model.notification import Notification
from osreplay.scenario import stats, trace
from osreplay.scenario.records import Unreadable

T0 = datetime(2024, 3, 5, 10, 0, tzinfo=timezone.utc)


class Collect:
    def __init__(self) -> None:
        self.unreadables: list[Unreadable] = []
        self.groups: list[trace.Group] = []

    def unreadable(self, line: Unreadable) -> None:
        self.unreadables.append(line)

    def group(self, group: trace.Group) -> None:
        self.groups.append(group)


def step(event_type: str, seconds: float | None, lineno: int = 1) -> trace.Step:
    at = None if seconds is None else T0 + timedelta(seconds=seconds)
    return trace.Step("f", lineno, event_type, "INFO", at)


def note(payload: object, ctxt: dict | None = None) -> Notification:
    return Notification("x.y", "p.h", "INFO", payload, ctxt=ctxt)


def test_starts_pair_first_come_first_served_with_every_kind_of_end() -> None:
    steps = (
        step("a.start", 0),
        step("a.start", 1),
        step("b.start", 2),
        step("a.end", 3),
        step("b.failed", 4),
        step("c.start", 5),
        step("a.failure", 7),
        step("c.success", 8),
        step("d.start", 9),
        step("d.error", None),
    )
    spans = [(s.event, s.outcome, s.seconds) for s in trace.pair_spans(steps)]
    assert spans == [
        ("a", "end", 3.0),
        ("a", "error", 6.0),
        ("b", "error", 2.0),
        ("c", "end", 3.0),
        ("d", "error", None),  # no time on the end: no duration, still paired
    ]
    assert [s.outcome for s in trace.pair_spans((step("e.start", 0), step("e.update", 1)))] == [
        "open"
    ]


def test_resource_keys_of_each_kind_of_payload() -> None:
    cadf = {"typeURI": "http://schemas.dmtf.org/cloud/audit/1.0/event", "target": {"id": "t-1"}}
    nova = {"nova_object.name": "X", "nova_object.data": {"uuid": "u-1"}}
    spec = {"nova_object.name": "RequestSpecPayload", "nova_object.data": {"instance_uuid": "u-2"}}
    ironic = {"ironic_object.name": "N", "ironic_object.data": {"uuid": "n-1"}}
    assert [trace.resource_key(note(p)) for p in (cadf, nova, spec, ironic)] == [
        "t-1",
        "u-1",
        "u-2",
        "n-1",
    ]
    assert trace.resource_key(note({"instance_id": "i-1", "id": "other"})) == "i-1"
    assert trace.resource_key(note({"port": {"id": "p-1"}})) == "p-1"
    assert trace.resource_key(note(["a list"])) is None
    assert trace.request_key(note({}, {"global_request_id": "g", "request_id": None})) == "g"
    assert trace.request_key(note({}, {"request_id": "r", "global_request_id": "g"})) == "r"


def write(path: Path, records: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def record(n: int, seconds: float, request: str) -> dict:
    at = (T0 + timedelta(seconds=seconds)).isoformat()
    return {
        "event_type": "e.start" if n % 2 == 0 else "e.end",
        "publisher_id": "p.h",
        "priority": "INFO",
        "payload": {},
        "timestamp": at,
        "ctxt": {"request_id": request},
    }


def test_trace_holds_at_most_max_groups_and_says_which_closed_early(tmp_path: Path) -> None:
    records = [record(n, n, f"req-{n // 2}") for n in range(10)]  # 5 requests of 2
    records.append(record(0, 20, "req-0"))  # req-0 comes back after it was closed
    path = write(tmp_path / "r.ndjson", records)
    console = Collect()

    summary = trace.run(trace.TraceOptions((path,), max_groups=2), console)

    keys = [(g.key, len(g.steps), g.complete) for g in console.groups]
    assert keys == [
        ("req-0", 2, False),
        ("req-1", 2, False),
        ("req-2", 2, False),
        ("req-3", 2, False),  # least recently active when req-0 came back
        ("req-4", 2, True),
        ("req-0", 1, True),
    ]
    assert (summary.groups, summary.closed_early, summary.open_spans) == (6, 4, 1)


def test_trace_closes_the_least_recently_active_group_not_the_oldest(tmp_path: Path) -> None:
    records = [record(0, 0, "req-a"), record(1, 1, "req-b"), record(2, 2, "req-a")]
    records.append(record(3, 3, "req-c"))  # three open groups: one must close
    path = write(tmp_path / "r.ndjson", records)
    console = Collect()

    trace.run(trace.TraceOptions((path,), max_groups=2), console)

    keys = [(g.key, len(g.steps), g.complete) for g in console.groups]
    assert keys == [("req-b", 1, False), ("req-a", 2, True), ("req-c", 1, True)]


def test_trace_keeps_max_records_per_group_and_counts_the_rest(tmp_path: Path) -> None:
    path = write(tmp_path / "r.ndjson", [record(n, n, "req") for n in range(7)])
    console = Collect()
    trace.run(trace.TraceOptions((path,), max_records=4), console)
    [group] = console.groups
    assert (len(group.steps), group.dropped) == (4, 3)


def test_stats_rate_coarsens_and_busiest_second_stays_exact(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(stats, "MAX_BUCKETS", 200)
    monkeypatch.setattr(stats, "MAX_SECONDS", 40)
    # 3 hours, a record every 30 s (361 seconds: coarsened to 181 minutes), 5 in second 100.
    records = [record(1, n * 30, "r") for n in range(361)] + [record(1, 100.5, "r")] * 5
    path = write(tmp_path / "r.ndjson", records)

    result = stats.run(stats.StatsOptions((path,)), Collect())

    assert result.records == 366
    assert result.rate.width == 300 and sum(result.rate.counts) == 366
    assert len(result.rate.counts) == 37  # 10:00 to 13:00 in 5 minute buckets
    assert result.rate.busiest_second == T0 + timedelta(seconds=100)
    assert result.rate.busiest_records == 5


def test_the_scenario_core_imports_neither_click_nor_the_bus() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import osreplay.scenario.stats, osreplay.scenario.trace, "
        "osreplay.scenario.diff, osreplay.scenario.timeline; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('click', 'oslo_messaging', 'oslo_config', 'kombu') or m in "
        "('osreplay.cli', 'osreplay.bus.transport', 'osreplay.tap.recorder', "
        "'osreplay.replay.replayer')))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    assert found.stdout == "[]\n"


def test_the_average_rate_of_a_short_recording_is_not_above_its_busiest_second(
    tmp_path: Path,
) -> None:
    # 10 records in 0.36 s straddling a second boundary: 5 in each of two seconds.
    path = tmp_path / "short.ndjson"
    start = T0 + timedelta(seconds=0.82)
    lines = [
        {"event_type": "a", "publisher_id": "p", "priority": "INFO", "payload": {},
         "timestamp": (start + timedelta(seconds=0.04 * n)).isoformat()}
        for n in range(10)
    ]  # fmt: skip
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = stats.run(stats.StatsOptions((str(path),)), Collect())
    assert result.rate.busiest_records == 5
    assert result.average_per_second == 5.0  # 10 records over the 2 seconds they fall in
    assert result.span_seconds is not None and result.span_seconds < 1
    from osreplay.console.scenario import stats_lines

    rate_line = next(line for line in stats_lines(result) if line.startswith("rate"))
    assert rate_line.endswith("busiest 5 records (5/s), average 5/s")
