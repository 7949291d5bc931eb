"""The timeline core without a page: natural row order, lanes and their nested spans."""

from __future__ import annotations

import json
from pathlib import Path

from osreplay.scenario import timeline
from osreplay.scenario.records import Unreadable

ROOT = Path(__file__).parents[2]
BEFORE = ROOT / "fixtures" / "scenario" / "boot-before.ndjson"
PROFILER = ROOT / "fixtures" / "profiler" / "osprofiler-boot.ndjson"


class Quiet:
    def unreadable(self, line: Unreadable) -> None:
        raise AssertionError(line)


def run(*files: Path, **options) -> timeline.Timeline:
    return timeline.run(timeline.TimelineOptions(tuple(map(str, files)), **options), Quiet())


def test_natural_order_puts_host_2_before_host_10() -> None:
    names = ["compute-10", "compute-2", "Compute-1", "api", "compute-2a", "compute-02"]
    assert sorted(names, key=timeline.natural_key) == [
        "api", "Compute-1", "compute-2", "compute-02", "compute-2a", "compute-10"
    ]  # fmt: skip


def test_rows_keep_every_timed_record_in_time_order_with_its_line(tmp_path: Path) -> None:
    result = run(BEFORE)
    assert sum(row.records for row in result.rows) == 14
    [row] = [row for row in result.rows if row.name == "instance.create.start"]
    assert list(row.lines) == [3, 8]
    assert list(row.epochs) == sorted(row.epochs)
    assert [result.paths[i] for i in row.files] == [str(BEFORE)] * 2


def test_a_span_inside_another_is_one_level_deeper(tmp_path: Path) -> None:
    recording = tmp_path / "nested.ndjson"
    base = {"publisher_id": "p", "priority": "INFO", "payload": {}, "ctxt": {"request_id": "r"}}
    events = [("a.start", 0), ("b.start", 1), ("c.start", 2), ("c.end", 3), ("b.end", 4),
              ("d.start", 5), ("a.end", 6), ("d.end", 7)]  # fmt: skip
    recording.write_text("".join(
        json.dumps({**base, "event_type": e, "timestamp": f"2024-03-05 10:00:0{s}"}) + "\n"
        for e, s in events
    ))  # fmt: skip
    [lane] = run(recording).lanes
    assert [(bar.name, bar.depth) for bar in lane.bars] == [
        ("r", 0), ("a", 1), ("b", 2), ("c", 3), ("d", 1)  # d overlaps a, is not inside it
    ]  # fmt: skip


def test_trace_lanes_nest_as_osprofilers_tree() -> None:
    lanes = run(PROFILER, by="trace").lanes
    assert [lane.records for lane in lanes] == [14, 6]
    names = [(bar.depth, bar.name) for bar in lanes[0].bars]
    assert names[:4] == [(0, lanes[0].key), (1, "wsgi (nova-api)"), (2, "db (nova-api)"),
                         (3, "db (nova-api)")]  # fmt: skip
    assert [bar.name for bar in lanes[0].bars if bar.error] == ["vif_plug (nova-compute)"]


def test_max_lanes_keeps_the_first_lanes_and_as_many_failing_ones_after() -> None:
    result = run(BEFORE, max_lanes=2)
    assert result.groups == 8
    kept = [lane.key for lane in result.lanes]
    assert kept[:2] == [
        "req-afbd67f9-6196-49cf-a198-8ad9f06c144a",
        "req-ad45f23d-3b1a-41df-987f-d2803bab6c39",
    ]
    assert len(kept) == 4 and all(lane.failures for lane in result.lanes[2:])
